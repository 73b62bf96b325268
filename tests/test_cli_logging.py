"""The `uns` command's console logging can be set up again in one process without stale handlers."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge.cli import main
from bridge.logging_setup import setup_logging

PLANT = Path(__file__).resolve().parents[1] / "scenarios" / "plants" / "cnc_shop.yaml"


def _consoles() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if type(h).__name__ == "_ConsoleHandler"]


@pytest.fixture(autouse=True)
def _drop_console_handlers() -> Iterator[None]:
    yield
    for h in _consoles():
        logging.getLogger().removeHandler(h)


def test_a_second_setup_does_not_log_to_the_first_runs_closed_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    setup_logging("INFO", secrets=["hunter2-secret"])
    first.close()  # as pytest closes a test's captured stream
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    assert main(["validate", str(PLANT)]) == 0
    logging.getLogger("uns.test").warning("after the second run, hunter2-secret")
    out = second.getvalue()
    assert "Logging error" not in out
    assert "after the second run" in out
    assert len(_consoles()) == 1


def test_setup_keeps_handlers_it_did_not_install(monkeypatch: pytest.MonkeyPatch) -> None:
    foreign = logging.NullHandler()
    logging.getLogger().addHandler(foreign)
    try:
        monkeypatch.setattr(sys, "stderr", io.StringIO())
        setup_logging("INFO")
        setup_logging("INFO")
        assert foreign in logging.getLogger().handlers
        assert len(_consoles()) == 1
    finally:
        logging.getLogger().removeHandler(foreign)
