"""Conformance tests name the Sparkplug 3.0 assertion ids (tck-id-...) they check, via @pytest.mark.tck."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "tck(*ids): the Sparkplug specification assertion ids (tck-id-...) a test checks"
    )
