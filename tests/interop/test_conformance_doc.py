"""The conformance doc stays honest: it lists every spec assertion the tests name, with those tests."""

from __future__ import annotations

from collections import Counter

from tests.interop.conformance_map import (
    DOC,
    covering_tests,
    expected_cell,
    mentioned_ids,
    read_rows,
    summary,
    summary_line,
)

FIX = "run `.venv/bin/python -m tests.interop.conformance_map --write` and review the diff"


def test_every_tck_id_in_the_tests_is_a_row_of_the_doc() -> None:
    rows = {r.tck_id for r in read_rows()}
    unknown = sorted(mentioned_ids() - rows)
    # A typo in a tck id, or an id the spec does not have, shows up here too.
    assert not unknown, f"tck ids named in tests/ but not in {DOC.name}: {unknown}"


def test_each_assertion_has_one_row() -> None:
    counts = Counter(r.tck_id for r in read_rows())
    assert len(counts) >= 250, "the table should list the spec's testable assertions"
    assert [i for i, n in counts.items() if n > 1] == []


def test_covered_by_names_exactly_the_tests_that_name_the_assertion() -> None:
    coverage = covering_tests()
    stale = {r.tck_id: r.covered_by for r in read_rows() if expected_cell(r, coverage) != r.covered_by}
    assert not stale, f"{len(stale)} rows out of date ({FIX}): {sorted(stale)[:10]}"


def test_rows_without_a_test_say_why() -> None:
    coverage = covering_tests()
    vague = [
        r.tck_id for r in read_rows() if r.tck_id not in coverage and len(r.covered_by) < len("not yet: x")
    ]
    assert vague == []


def test_the_summary_counts_match_the_table() -> None:
    assert summary_line() == summary(read_rows(), covering_tests()), FIX
