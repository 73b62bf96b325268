"""OdooClient: connect (transport chosen from the server version), ORM helpers, reads retried, writes not."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from odoo_sync.dialect import Dialect, dialect_for
from odoo_sync.errors import OdooError, OdooPermanentError, OdooTransientError
from odoo_sync.json2 import Json2Transport, http_error
from odoo_sync.jsonrpc import JsonRpcTransport
from odoo_sync.transport import Flavour, OdooSettings, Transport, default_flavour, quiet_secret_loggers

log = logging.getLogger(__name__)

Domain = Sequence[Any]

#: Methods that only read: safe to send again after a timeout or a dropped connection.
READ_METHODS: frozenset[str] = frozenset(
    {"search", "search_read", "read", "search_count", "fields_get", "read_group", "context_get"}
)


def probe_version(settings: OdooSettings) -> str:
    """The server version, without logging in: JSON-RPC version_info (16-21), else GET /web/version (19+)."""
    what = f"read the Odoo version at {settings.url}"
    base = settings.url.rstrip("/")
    try:
        with httpx.Client(timeout=settings.timeout_s) as http:
            response = http.post(
                f"{base}/web/webclient/version_info",
                json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": {}},
            )
            if response.status_code == 200:
                result = response.json().get("result")
                if isinstance(result, dict) and result.get("server_version"):
                    return str(result["server_version"])
            response = http.get(f"{base}/web/version")
            if response.status_code == 200:
                return str(response.json()["version"])
    except httpx.HTTPError as exc:
        raise http_error(what, exc) from None
    except (ValueError, KeyError, TypeError):
        pass
    raise OdooPermanentError(what, "", "no Odoo answered there (neither version_info nor /web/version)")


def open_transport(settings: OdooSettings) -> Transport:
    """A logged-in transport: the flavour set in the settings, or the one that fits the server version."""
    quiet_secret_loggers()
    flavour: Flavour
    version: str | None = None
    if settings.api == "auto":
        version = probe_version(settings)
        flavour = default_flavour(version)
    else:
        flavour = settings.api
    if flavour == "json2":
        return Json2Transport(settings, version=version)
    return JsonRpcTransport(settings)


class OdooClient:
    """The calls the writer, reader and setup commands make, over any transport.

    Reads are sent again once after a transient failure (they change nothing). Writes never are: a
    write that timed out may have been applied, so the error goes up and the caller (the outbox) runs
    the whole event again, whose first step is the lookup that finds what the lost answer would have said.
    """

    def __init__(self, transport: Transport, *, read_retries: int = 1, retry_pause_s: float = 0.5) -> None:
        self.transport = transport
        self.dialect: Dialect = dialect_for(transport.version)
        self._read_retries = read_retries
        self._retry_pause_s = retry_pause_s

    @classmethod
    def connect(cls, settings: OdooSettings) -> OdooClient:
        return cls(open_transport(settings))

    @property
    def version(self) -> str:
        return self.transport.version

    @property
    def flavour(self) -> Flavour:
        return self.transport.flavour

    @property
    def uid(self) -> int:
        return self.transport.uid

    def call(
        self,
        model: str,
        method: str,
        ids: Sequence[int] | None = None,
        params: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Any:
        tries = 1 + (self._read_retries if method in READ_METHODS else 0)
        for attempt in range(1, tries + 1):
            try:
                return self.transport.call(model, method, ids, params, context)
            except OdooTransientError as exc:
                if attempt >= tries:
                    raise
                log.info("odoo: %s failed (%s); reading again", exc.what, exc.name)
                time.sleep(self._retry_pause_s)
        raise AssertionError("unreachable")

    # --- ORM helpers ---------------------------------------------------------------------------------

    def search_read(
        self,
        model: str,
        domain: Domain,
        fields: Sequence[str],
        *,
        limit: int | None = None,
        order: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"domain": list(domain), "fields": list(fields)}
        if limit is not None:
            params["limit"] = limit
        if order:
            params["order"] = order
        return list(self.call(model, "search_read", params=params, context=context) or [])

    def search(
        self,
        model: str,
        domain: Domain,
        *,
        limit: int | None = None,
        order: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[int]:
        params: dict[str, Any] = {"domain": list(domain)}
        if limit is not None:
            params["limit"] = limit
        if order:
            params["order"] = order
        return [int(i) for i in self.call(model, "search", params=params, context=context) or []]

    def search_count(self, model: str, domain: Domain) -> int:
        return int(self.call(model, "search_count", params={"domain": list(domain)}))

    def read(self, model: str, ids: Sequence[int], fields: Sequence[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        return list(self.call(model, "read", list(ids), {"fields": list(fields)}) or [])

    def read_one(self, model: str, record_id: int, fields: Sequence[str]) -> dict[str, Any]:
        rows = self.read(model, [record_id], fields)
        if not rows:
            raise OdooPermanentError(f"read {model} {record_id}", "MissingError", "the record is gone")
        return rows[0]

    def create(self, model: str, values: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> int:
        result = self.call(model, "create", params={"vals_list": [dict(values)]}, context=context)
        if isinstance(result, list):
            result = result[0]
        return int(result)

    def write(
        self,
        model: str,
        ids: Sequence[int],
        values: Mapping[str, Any],
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self.call(model, "write", list(ids), {"vals": dict(values)}, context)

    def model_exists(self, model: str) -> bool:
        """True when the model is installed (Enterprise quality.alert, say), by asking it to count."""
        try:
            self.search_count(model, [("id", "=", 0)])
        except OdooError as exc:
            if "doesn't exist" in exc.remote_message or "does not exist" in exc.remote_message:
                return False
            raise
        return True

    def close(self) -> None:
        self.transport.close()
