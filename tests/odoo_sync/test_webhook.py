"""Odoo webhook hints: the right token wakes the reader, anything else is refused."""

from __future__ import annotations

import threading

import httpx
import pytest

from odoo_sync.webhook import WebhookHint


def test_token_gates_the_hint() -> None:
    woke = threading.Event()
    hint = WebhookHint(woke.set, token="t" * 32).start()
    try:
        base = hint.url.rsplit("/", 1)[0]
        assert (
            httpx.post(f"{base}/wrong-token-wrong-token", json={"_model": "mrp.production"}).status_code
            == 404
        )
        assert not woke.is_set() and hint.counters["refused"] == 1
        assert httpx.get(hint.url).status_code == 405
        response = httpx.post(hint.url, json={"_model": "mrp.production", "_id": 7})
        assert response.status_code == 204 and woke.wait(5)
        assert hint.counters["hints"] == 1
        assert httpx.post(hint.url, content=b"x" * 70_000).status_code == 413
    finally:
        hint.stop()


def test_short_tokens_are_refused() -> None:
    with pytest.raises(ValueError):
        WebhookHint(lambda: None, token="short")
