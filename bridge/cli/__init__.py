"""The `uns` command: one argparse tree, each family of subcommands in a module of its own."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from bridge.logging_setup import PLAIN_FORMAT, console_handler, install_console_handler

# Each module exposes register(subparsers) and sets `func` on the parsers it adds. Modules are listed
# here rather than discovered so that the command tree is explicit and import errors surface in tests.
COMMAND_MODULES: tuple[str, ...] = (
    "bridge.cli.sparkplug_cmd",
    "bridge.cli.outbox_cmd",
    "bridge.cli.run_cmd",
    "bridge.cli.model_cmd",
    "bridge.cli.odoo_cmd",
    "bridge.cli.broker_cmd",
    "bridge.cli.demo_cmd",
    "bridge.cli.edge_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="uns",
        description="Sparkplug B unified namespace bridge to Odoo.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    install_console_handler(console_handler(logging.Formatter(PLAIN_FORMAT)))
    logging.getLogger().setLevel(level)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
