"""The one small interface every Odoo transport offers, its settings, and server version parsing."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr

Flavour = Literal["jsonrpc", "json2"]
FlavourSetting = Literal["auto", "jsonrpc", "json2"]

#: odoorpc logs whole request bodies at DEBUG, and execute_kw carries the API key in its args.
SECRET_LOGGERS: tuple[str, ...] = ("odoorpc", "httpx", "httpcore")


def quiet_secret_loggers() -> None:
    """Keep the loggers that would print credentials above DEBUG, whatever the root level is."""
    for name in SECRET_LOGGERS:
        logger = logging.getLogger(name)
        floor = logging.WARNING if name == "odoorpc" else logging.INFO
        if logger.getEffectiveLevel() < floor:
            logger.setLevel(floor)


class OdooSettings(BaseModel):
    """Where Odoo is and who the bridge is there. The key is a SecretStr: never printed, never logged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(pattern=r"^https?://\S+$", description="e.g. http://127.0.0.1:8069")
    db: str = Field(min_length=1)
    user: str = Field(min_length=1, description="login of the integration user")
    key: SecretStr = Field(description="API key of that user (Preferences > Account Security)")
    api: FlavourSetting = Field(default="auto", description="jsonrpc (16-21), json2 (19+), or auto")
    timeout_s: float = Field(default=30.0, gt=0)

    def __repr__(self) -> str:
        return f"OdooSettings(url={self.url!r}, db={self.db!r}, user={self.user!r}, api={self.api!r})"


class Transport(Protocol):
    """One authenticated connection to one Odoo database.

    `call` runs `model.method(**params)` on the records `ids` (None for model-level methods such as
    search_read or create) with `context` added to the user's context. Parameters are always passed by
    name, which both JSON-RPC's execute_kw and JSON-2 (named parameters only) accept. It raises
    OdooTransientError / OdooTimeoutError / OdooPermanentError (odoo_sync.errors), never anything else.
    """

    flavour: Flavour
    version: str
    uid: int

    def call(
        self,
        model: str,
        method: str,
        ids: Sequence[int] | None = None,
        params: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Any: ...

    def close(self) -> None: ...


_VERSION_RE = re.compile(r"^(?:saas~)?(\d+)(?:\.(\d+))?")


def major_version(version: str) -> int:
    """18 for '18.0', '18.0+e', 'saas~18.2'; 0 when the text is not a version."""
    match = _VERSION_RE.match(version.strip())
    return int(match.group(1)) if match else 0


def default_flavour(version: str) -> Flavour:
    """JSON-2 from 19 on (JSON-RPC is deprecated there and gone in 22), JSON-RPC before."""
    return "json2" if major_version(version) >= 19 else "jsonrpc"
