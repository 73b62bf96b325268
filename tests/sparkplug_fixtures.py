"""Fixtures shared by the Sparkplug session and conformance tests: a wire observer, sessions stopped after."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conformance.wire import Wire
from tests.support.mosquitto import Mosquitto


@pytest.fixture
def wire(broker: Mosquitto) -> Iterator[Wire]:
    w = Wire(broker.host, broker.port)
    yield w
    w.close()


def _stopped_at_teardown() -> Iterator[list[Any]]:
    """A list a test appends its EdgeNodes / HostApplications to; those still connected are stopped."""
    made: list[Any] = []
    yield made
    for session in made:
        if session._client.is_connected():
            session.stop()


@pytest.fixture
def nodes() -> Iterator[list[Any]]:
    yield from _stopped_at_teardown()


@pytest.fixture
def hosts() -> Iterator[list[Any]]:
    yield from _stopped_at_teardown()


@pytest.fixture
def cleanup() -> Iterator[list[Any]]:
    yield from _stopped_at_teardown()
