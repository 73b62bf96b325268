"""Start the Odoo sandbox (scenarios/odoo_sandbox) with the bridge's least-privilege user and an API key."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import SecretStr

from odoo_sync.transport import OdooSettings

BRIDGE_GROUPS = ["mrp.group_mrp_user"]


@contextmanager
def start_sandbox(tmp: Path, version: str = "18.0") -> Iterator[tuple[OdooSettings, OdooSettings]]:
    from scenarios.odoo_sandbox import SandboxServer

    server = SandboxServer(port=0, db_path=tmp / "odoo.sqlite", version=version).start()
    try:
        uid = server.add_user("uns-bridge", "UNS Bridge", BRIDGE_GROUPS)
        key = server.add_api_key(uid, "uns-bridge")
        bridge = OdooSettings(url=server.url, db=server.db_name, user="uns-bridge", key=SecretStr(key))
        # JSON-2 (19+) takes API keys only; JSON-RPC also takes the password.
        admin_key = server.add_api_key(2, "admin") if version >= "19" else "admin"
        admin = OdooSettings(url=server.url, db=server.db_name, user="admin", key=SecretStr(admin_key))
        yield bridge, admin
    finally:
        server.stop()
