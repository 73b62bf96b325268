"""Shared fixtures: a real Mosquitto per test module, and a unique topic namespace per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.mosquitto import Mosquitto

pytest_plugins = ["tests.sparkplug_fixtures"]


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """One broker per test module; tests keep apart through unique group ids (see `uid`)."""
    b = Mosquitto(workdir=tmp_path_factory.mktemp("mosquitto"))
    b.start()
    yield b
    b.stop()


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker for one test alone, for tests that kill or restart it."""
    b = Mosquitto(workdir=tmp_path / "mosquitto")
    b.start()
    yield b
    b.stop()


@pytest.fixture
def uid() -> str:
    """A short id unique to this test, for group ids, client ids and topics."""
    return "t" + uuid.uuid4().hex[:10]
