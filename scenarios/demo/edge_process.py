"""`python -m scenarios.demo.edge_process`: one edge gateway (edge.gateway.Gateway) as a process.

The demo runs `uns edge` when the CLI has it; this runner is the stand-in while it has not (same
Gateway class, same arguments). The broker password comes from $UNS_BROKER_PASSWORD, never argv.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from edge.gateway import Gateway, find_edge_node
from uns_model.loader import load_plant
from uns_model.resolver import PlantResolver


def with_password(url: str, password: str | None) -> str:
    if not password:
        return url
    parts = urlsplit(url)
    netloc = f"{quote(parts.username or '')}:{quote(password)}@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


async def serve(args: argparse.Namespace) -> int:
    resolver = PlantResolver(load_plant(args.plant))
    edge = find_edge_node(resolver, args.edge_node)
    broker = with_password(args.broker, os.environ.get("UNS_BROKER_PASSWORD"))
    gateway = Gateway(resolver, edge, broker, primary_host_id=args.host_id, data_dir=args.data_dir)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await gateway.run(stop)
    logging.getLogger("uns.demo.edge").info("stats %s", gateway.all_stats())
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m scenarios.demo.edge_process", description=__doc__)
    p.add_argument("--plant", required=True, type=Path)
    p.add_argument("--edge-node", required=True)
    p.add_argument("--broker", required=True, help="mqtt://[user@]host:port")
    p.add_argument("--host-id", default="uns-bridge", help="primary host id to wait for")
    p.add_argument("--data-dir", type=Path)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("asyncua").setLevel(logging.WARNING)
    logging.getLogger("pymodbus").setLevel(logging.ERROR)
    return asyncio.run(serve(args))


if __name__ == "__main__":
    sys.exit(main())
