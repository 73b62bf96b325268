"""Which tests check which Sparkplug assertion (tck-id-...): the "covered by" column of the conformance doc.

`python -m tests.interop.conformance_map` prints what would change; `--write` rewrites the column in
docs/sparkplug-conformance.md. A test covers every tck id written in its decorators, docstring, body or
comments; rows no test covers keep their hand-written "not yet: <why>" text.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
DOC = REPO / "docs" / "sparkplug-conformance.md"
TCK_ID = re.compile(r"tck-id-[A-Za-z0-9-]*[A-Za-z0-9]")
ROW = re.compile(r"^\|\s*`?(tck-id-[A-Za-z0-9-]+)`?\s*\|(.*)\|(.*)\|\s*$")
NOT_YET = "not yet"
KEPT = (NOT_YET, "not applicable")  # hand-written reasons the rewrite keeps
SUMMARY = "**Coverage:**"


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    tck_id: str
    text: str
    covered_by: str


def covering_tests(root: Path = TESTS) -> dict[str, list[str]]:
    """tck id -> the tests (path relative to tests/ :: function) whose source names it."""
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("test_*.py")):
        src = path.read_text(encoding="utf-8")
        lines = src.splitlines()
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
                first = min([d.lineno for d in node.decorator_list] + [node.lineno])
                text = "\n".join(lines[first - 1 : node.end_lineno])
                for tck in sorted(set(TCK_ID.findall(text))):
                    found.setdefault(tck, []).append(f"{rel}::{node.name}")
    return found


def mentioned_ids(root: Path = TESTS) -> set[str]:
    """Every tck id written anywhere under tests/ (in a test or not)."""
    ids: set[str] = set()
    for path in root.rglob("*.py"):
        ids |= set(TCK_ID.findall(path.read_text(encoding="utf-8")))
    return ids


def read_rows(doc: Path = DOC) -> list[Row]:
    rows = []
    for i, line in enumerate(doc.read_text(encoding="utf-8").splitlines()):
        m = ROW.match(line)
        if m:
            rows.append(Row(i, m.group(1), m.group(2).strip(), m.group(3).strip()))
    return rows


def cell(tests: list[str]) -> str:
    return ", ".join(f"`{t}`" for t in tests)


def expected_cell(row: Row, coverage: dict[str, list[str]]) -> str:
    tests = coverage.get(row.tck_id)
    if tests:
        return cell(tests)
    if row.covered_by.startswith(KEPT):
        return row.covered_by
    return f"{NOT_YET}: no test names this assertion"


def summary(rows: list[Row], coverage: dict[str, list[str]]) -> str:
    """The doc's one-line count of covered, not yet and not applicable assertions."""
    cells = [expected_cell(r, coverage) for r in rows]
    covered = sum(1 for r in rows if r.tck_id in coverage)
    na = sum(1 for c in cells if c.startswith("not applicable"))
    return (
        f"{SUMMARY} {covered} of {len(rows)} testable assertions are named by a test, "
        f"{len(rows) - covered - na} not yet, {na} not applicable to this product."
    )


def summary_line(doc: Path = DOC) -> str | None:
    for line in doc.read_text(encoding="utf-8").splitlines():
        if line.startswith(SUMMARY):
            return line
    return None


def rewrite(doc: Path = DOC, root: Path = TESTS) -> int:
    """Rewrite the covered-by column and the summary line; the number of lines changed."""
    coverage = covering_tests(root)
    lines = doc.read_text(encoding="utf-8").splitlines()
    rows = read_rows(doc)
    changed = 0
    for row in rows:
        want = expected_cell(row, coverage)
        if want != row.covered_by:
            lines[row.line] = f"| `{row.tck_id}` | {row.text} | {want} |"
            changed += 1
    for i, line in enumerate(lines):
        if line.startswith(SUMMARY) and line != summary(rows, coverage):
            lines[i] = summary(rows, coverage)
            changed += 1
    doc.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--write", action="store_true", help="rewrite the covered-by column of the doc")
    args = ap.parse_args(argv)
    if args.write:
        print(f"{rewrite()} rows updated in {DOC}")
        return 0
    coverage = covering_tests()
    rows = read_rows()
    stale = [r for r in rows if expected_cell(r, coverage) != r.covered_by]
    for r in stale:
        print(f"{r.tck_id}: {r.covered_by!r} -> {expected_cell(r, coverage)!r}")
    if summary_line() != summary(rows, coverage):
        print(f"summary -> {summary(rows, coverage)}")
        return 1
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
