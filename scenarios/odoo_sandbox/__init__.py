"""The Odoo sandbox: a server speaking Odoo's JSON-RPC and JSON-2 protocols over a small SQLite ORM with
the manufacturing models, state machines and errors the bridge relies on."""

from .server import SUPPORTED_VERSIONS, SandboxServer

__all__ = ["SUPPORTED_VERSIONS", "SandboxServer"]
