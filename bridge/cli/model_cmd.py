"""`uns validate`, `uns schema`, `uns catalog`: the plant model and the contracts from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from uns_model.catalog import build_catalog
from uns_model.catalog_render import render_html, render_markdown
from uns_model.errors import PlantModelError
from uns_model.loader import load_plant
from uns_model.resolver import PlantResolver
from uns_model.schema import all_schema_texts


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "validate", help="validate a plant model file (exit 0, or the errors with file:line and a fix)"
    )
    p.add_argument("plant", type=Path, help="plant model YAML file")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("schema", help="JSON Schema of every contract version")
    p.add_argument("--out", type=Path, help="write <contract>.v<version>.json files into this directory")
    p.set_defaults(func=cmd_schema)

    p = sub.add_parser("catalog", help="the integration catalog of a plant, generated from its model")
    p.add_argument("plant", type=Path, help="plant model YAML file")
    p.add_argument(
        "--format", choices=("md", "html"), default="md", help="Markdown (default) or one HTML page"
    )
    p.add_argument("--out", type=Path, help="write to this file instead of standard output")
    p.set_defaults(func=cmd_catalog)


def _load(path: Path) -> PlantResolver | None:
    try:
        return PlantResolver(load_plant(path))
    except PlantModelError as exc:
        print(exc.report(), file=sys.stderr)
        return None


def cmd_validate(args: argparse.Namespace) -> int:
    resolver = _load(args.plant)
    if resolver is None:
        return 1
    plant = resolver.plant
    cells = sum(1 for _ in plant.iter_cells())
    roles = sum(1 for r in resolver.tags() if r.role is not None)
    print(
        f"{args.plant}: ok - {plant.enterprise}/{plant.site}: {cells} cells, {len(resolver.tags())} tags "
        f"({roles} with a business role), {len(resolver.edge_nodes())} edge nodes in group(s) "
        + ", ".join(resolver.groups())
    )
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    texts = all_schema_texts()
    if args.out is None:
        print(json.dumps({name: json.loads(text) for name, text in texts.items()}, indent=2, sort_keys=True))
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (args.out / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(texts)} schemas to {args.out}")
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    resolver = _load(args.plant)
    if resolver is None:
        return 1
    catalog = build_catalog(resolver.plant)
    text = render_html(catalog) if args.format == "html" else render_markdown(catalog)
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    return 0
