"""`uns validate | schema | catalog` end to end, and the catalog derived from the plant model."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bridge.cli import main
from uns_model import PlantResolver, load_plant, parse_plant
from uns_model.catalog import build_catalog
from uns_model.catalog_render import render_html, render_markdown
from uns_model.schema import all_schema_texts

ROOT = Path(__file__).resolve().parents[2]
CNC = ROOT / "scenarios" / "plants" / "cnc_shop.yaml"
BATCH = ROOT / "scenarios" / "plants" / "batch_plant.yaml"
BROKEN = Path(__file__).parent / "broken"


@pytest.mark.parametrize("plant", [CNC, BATCH])
def test_validate_ok(plant: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(plant)]) == 0
    assert ": ok - acme/" in capsys.readouterr().out


def test_validate_reports_file_line_and_fix(capsys: pytest.CaptureFixture[str]) -> None:
    path = BROKEN / "unknown_connection.yaml"
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert re.search(
        rf"{re.escape(str(path))}:\d+:\d+: .*source\.connection: no connection named 'plc2'", err
    )
    assert "fix: declare it under the line's 'connections:'" in err


def test_schema_out_writes_the_published_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--out", str(tmp_path)]) == 0
    written = {p.name: p.read_text() for p in tmp_path.glob("*.json")}
    assert written == all_schema_texts()
    assert main(["schema"]) == 0
    printed = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert printed["production_reported.v1.json"]["x-contract"] == "production_reported"


def test_catalog_markdown_lists_every_interface_and_tag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", str(CNC)]) == 0
    md = capsys.readouterr().out
    resolver = PlantResolver(load_plant(CNC))
    for ref in resolver.tags():
        assert ref.raw_topic in md
    for name in (
        "production_reported",
        "downtime_started",
        "maintenance_requested",
        "work orders",
        "quality holds",
    ):
        assert f"| {name} |" in md
    assert "60 s windows" in md  # the plant's override of production_reported
    assert "Maintenance planning, toolworks" in md  # the plant's owner for maintenance_requested
    assert "Recovery procedure" in md and "mrp.workcenter.productivity" in md
    # The CNC shop has no process values: no quality_deviation interface is invented for it.
    assert "| quality_deviation |" not in md


def test_catalog_follows_the_plant_model() -> None:
    text = BATCH.read_text().replace(
        "flows:\n",
        "flows:\n  goods_finished: {enabled: false}\n  downtime_started: {owner: Night shift lead}\n",
    )
    cat = build_catalog(parse_plant(text, "batch.yaml"))
    names = {i.name for i in cat.interfaces}
    assert "quality_deviation" in names and "goods_finished" not in names
    downtime = next(i for i in cat.interfaces if i.name == "downtime_started")
    assert downtime.owner == "Night shift lead" and downtime.mode == "near_real_time"
    assert set(downtime.instances) == {r.place.path for r in cat.tags if r.role == "machine_state"}


class _Checker(HTMLParser):
    VOID = frozenset({"meta", "br", "hr", "img", "link", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in ("src", "href") and value and not value.startswith("#"):
                self.external.append(value)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (
            f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        )
        self.stack.pop()


def test_catalog_html_is_one_self_contained_page(tmp_path: Path) -> None:
    out = tmp_path / "catalog.html"
    assert main(["catalog", str(BATCH), "--format", "html", "--out", str(out)]) == 0
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    checker = _Checker()
    checker.feed(page)
    assert checker.stack == [] and checker.external == []
    assert "<script" not in page and "url(" not in page and "@import" not in page
    assert "acme/blending/processing/batch1/reactor-01/_raw/temperature" in page


def test_catalog_escapes_what_the_plant_file_says() -> None:
    text = BATCH.read_text().replace(
        "description: Syrup blending plant", "description: <script>alert(1)</script> Syrup blending plant"
    )
    text = text.replace("integration: Integration team", "integration: Integration | team")
    cat = build_catalog(parse_plant(text, "x.yaml"))
    page = render_html(cat)
    assert "<script>" not in page and "&lt;script&gt;" in page
    md = render_markdown(cat)
    assert (
        "| Integration \\| team (integration@acme.example) |" in md
    )  # a '|' in a value does not split the Markdown table
