"""Read a plant YAML file and validate it, placing every error at its file line with a fix."""

from __future__ import annotations

import difflib
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from uns_model import plant as plant_mod
from uns_model import tags as tags_mod
from uns_model.errors import Loc, PlantIssue, PlantModelError
from uns_model.names import LEVEL_FIX, LEVEL_RULE
from uns_model.plant import PlantModel
from uns_model.states import StateEntry


def _vocabulary() -> list[str]:
    names: set[str] = set()
    for mod in (plant_mod, tags_mod):
        for obj in vars(mod).values():
            if isinstance(obj, type) and issubclass(obj, BaseModel):
                names.update(obj.model_fields)
    names.update(StateEntry.model_fields)
    return sorted(names)


_VOCABULARY = _vocabulary()
_NAME_FIELDS = frozenset({"name", "enterprise", "site", "path", "connection", "equipment"})


def _fix_for(err: ErrorDetails) -> str:
    kind = err["type"]
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    field = next((p for p in reversed(err["loc"]) if isinstance(p, str)), "")
    if kind == "missing":
        return f"add '{field}: ...' here (required field)"
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(field, _VOCABULARY, n=1, cutoff=0.7)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"remove '{field}' or correct its spelling{hint}"
    if kind == "string_pattern_mismatch":
        if field in _NAME_FIELDS:
            return LEVEL_FIX
        if field == "node_id":
            return "write an OPC UA node id such as 'ns=2;s=Line1.CNC1.Good' or 'ns=3;i=1001'"
        if field == "endpoint":
            return "write the server address as 'opc.tcp://host:4840'"
        return f"write a value matching {ctx.get('pattern', 'the documented form')}"
    if kind in ("literal_error", "enum"):
        return f"use one of {ctx.get('expected', 'the documented values')}"
    if kind == "invalid_role":
        return f"use a role among {ctx.get('roles')}, or leave 'role' out for a mirrored-only tag"
    if kind == "union_tag_invalid":
        return f"use one of {ctx.get('expected_tags', 'the documented kinds')}"
    if kind.startswith(("int_", "float_")):
        return "write a plain number (no unit, no quotes)"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        ops = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
        return "use a value " + " and ".join(f"{ops[k]} {v}" for k, v in ctx.items() if k in ops)
    if kind == "too_short":
        return "add at least one entry"
    if kind in ("bool_parsing", "bool_type"):
        return "write true or false"
    if kind == "string_type" and isinstance(err.get("input"), bool | int | float):
        return "put the value in quotes: YAML reads yes/no/on/off/true/false as booleans and 101 as a number"
    if kind in ("string_type", "string_too_short"):
        return "write a non-empty text"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "write a mapping ('key: value' lines) here"
    if kind == "list_type":
        return "write a list ('- ' items) here"
    return "see docs/plant-model.md for this field"


def _message_for(err: ErrorDetails) -> str:
    field = next((p for p in reversed(err["loc"]) if isinstance(p, str)), "")
    value = err.get("input")
    if err["type"] == "string_pattern_mismatch" and field in _NAME_FIELDS:
        return f"{value!r} breaks the naming rule: {LEVEL_RULE}"
    if err["type"] == "string_pattern_mismatch" and field == "node_id":
        return f"{value!r} is not an OPC UA node id"
    if err["type"] == "string_pattern_mismatch" and field == "endpoint":
        return f"{value!r} is not an OPC UA endpoint"
    if err["type"] == "string_type" and isinstance(value, bool | int | float):
        return f"YAML reads this value as {type(value).__name__} {value!r}, not as text"
    if err["type"] == "extra_forbidden":
        return f"unknown field '{field}'"
    if err["type"] == "invalid_role" and isinstance(value, dict):
        return f"unknown tag role {value.get('role')!r}"
    return err["msg"]


def _issue_from_pydantic(err: ErrorDetails) -> PlantIssue:
    loc: Loc = tuple(err["loc"])
    if err["type"] == "invalid_role":
        loc = (*loc, "role")
    return PlantIssue(loc, _message_for(err), _fix_for(err))


def _node_at(root: yaml.Node, loc: Loc) -> tuple[yaml.Node, Loc]:
    """The deepest YAML node along `loc`, and `loc` without the parts that are not in the file.

    pydantic puts union tags ('good_count', 'opcua') into locations; they name no key of the file, so
    they are skipped. The last part stays even when absent: it is the missing field being reported.
    """
    node = root
    kept: list[str | int] = []
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, yaml.MappingNode):
            hit = next((kv for kv in node.value if str(kv[0].value) == str(part)), None)
            if hit is None:
                if last:
                    kept.append(part)
                continue
            kept.append(part)
            # A scalar is reported at its value; a list or mapping at its key, where the reader looks.
            leaf_at_key = last and isinstance(hit[1], yaml.CollectionNode)
            node = hit[0] if leaf_at_key else hit[1]
        elif isinstance(node, yaml.SequenceNode):
            if isinstance(part, int) and 0 <= part < len(node.value):
                kept.append(part)
                node = node.value[part]
        else:
            kept.append(part)
    return node, tuple(kept)


def _duplicate_keys(node: yaml.Node, path: Loc = ()) -> list[tuple[PlantIssue, yaml.Node]]:
    out: list[tuple[PlantIssue, yaml.Node]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            k = str(key.value)
            if k in seen:
                issue = PlantIssue(
                    (*path, k), f"key '{k}' appears twice in the same mapping", "keep one of them"
                )
                out.append((issue, key))
            seen.add(k)
            out += _duplicate_keys(value, (*path, k))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out += _duplicate_keys(item, (*path, i))
    return out


def _placed(node: yaml.Node, issue: PlantIssue) -> PlantIssue:
    return issue.at(node.start_mark.line + 1, node.start_mark.column + 1)


def parse_plant(text: str, source: str = "<plant>") -> PlantModel:
    """Validate plant YAML text; raise PlantModelError with every issue placed at its line."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        issue = PlantIssue(
            (), f"not valid YAML: {exc.problem or exc}", "fix the YAML syntax (indentation, ':', quotes)"
        )
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        raise PlantModelError([issue.at(line, col)], source) from None
    except yaml.YAMLError as exc:
        raise PlantModelError(
            [PlantIssue((), f"not valid YAML: {exc}", "fix the YAML syntax")], source
        ) from None
    if root is None or not isinstance(data, dict):
        issue = PlantIssue(
            (), "the file does not hold a mapping", "start with 'enterprise: ...' and 'site: ...'"
        )
        raise PlantModelError([issue.at(1, 1)], source)
    dupes = [_placed(node, issue) for issue, node in _duplicate_keys(root)]
    try:
        model = PlantModel.model_validate(data)
    except ValidationError as exc:
        issues = [_issue_from_pydantic(e) for e in exc.errors(include_url=False)]
    except PlantModelError as exc:
        issues = list(exc.issues)
    else:
        if not dupes:
            return model
        issues = []
    placed = list(dupes)
    for issue in issues:
        node, loc = _node_at(root, issue.loc)
        placed.append(_placed(node, replace(issue, loc=loc)))
    raise PlantModelError(placed, source)


def load_plant(path: str | Path) -> PlantModel:
    """Read and validate a plant file; raise PlantModelError naming the file, line, field and fix."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlantModelError(
            [PlantIssue((), f"cannot read the file: {exc.strerror}", "check the path")], str(p)
        ) from None
    return parse_plant(text, str(p))
