"""Command line: python -m scenarios.odoo_sandbox --port 8069 --db sandbox.sqlite --version 18.0."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading

from .seed import load_plant_file
from .server import SUPPORTED_VERSIONS, SandboxServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scenarios.odoo_sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=8069)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--db", default="odoo_sandbox.sqlite", help="SQLite file (kept across restarts)")
    parser.add_argument("--db-name", default="sandbox", help="the Odoo database name clients log in to")
    parser.add_argument("--version", default="18.0", choices=SUPPORTED_VERSIONS)
    parser.add_argument("--admin-password", default="admin")
    parser.add_argument("--seed", help="YAML plant file: products, workcenters, boms, equipment, users")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = SandboxServer(
        port=args.port,
        db_path=args.db,
        version=args.version,
        db_name=args.db_name,
        admin_password=args.admin_password,
        host=args.host,
    )
    if args.seed:
        server.seed_plant(load_plant_file(args.seed))
    server.start()
    print(
        f"Odoo {args.version} sandbox on {server.url} (database {args.db_name!r}, file {args.db})", flush=True
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
