"""Each broken plant file gives the expected error at the line marked '# <- error', with a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from uns_model import PlantModelError, load_plant

BROKEN = Path(__file__).parent / "broken"
CASES = sorted(BROKEN.glob("*.yaml"))


def _expectation(path: Path) -> tuple[str, int]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# expect: "), f"{path.name} lacks its '# expect:' header"
    marked = [i + 1 for i, line in enumerate(lines) if line.rstrip().endswith("# <- error")]
    assert len(marked) == 1, f"{path.name} must mark exactly one line with '# <- error'"
    return lines[0].removeprefix("# expect: "), marked[0]


def test_there_are_at_least_a_dozen_cases() -> None:
    assert len(CASES) >= 12


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_broken_plant_reports_line_field_and_fix(path: Path) -> None:
    expected, line = _expectation(path)
    with pytest.raises(PlantModelError) as info:
        load_plant(path)
    err = info.value
    hits = [i for i in err.issues if expected in f"{i.message} {i.fix}"]
    assert hits, f"no issue mentions {expected!r}:\n{err.report()}"
    assert hits[0].line == line, f"expected line {line}:\n{err.report()}"
    assert hits[0].fix
    report = err.report()
    assert f"{path}:{line}:" in report
    assert "fix:" in report


def test_unreadable_file_is_an_issue_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(PlantModelError, match="cannot read the file"):
        load_plant(tmp_path / "missing.yaml")


def test_all_issues_are_reported_at_once(tmp_path: Path) -> None:
    text = (BROKEN / "undeclared_equipment.yaml").read_text().replace("WC-1", "WC-1\n            bogus: 1")
    path = tmp_path / "two.yaml"
    path.write_text(text)
    with pytest.raises(PlantModelError) as info:
        load_plant(path)
    # The shape error stops pydantic before the cross-field checks; that one is what is reported first.
    assert any("bogus" in ".".join(map(str, i.loc)) for i in info.value.issues)
