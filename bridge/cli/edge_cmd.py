"""`uns edge`: run the edge gateway of one edge node of a plant (OPC UA / Modbus TCP -> Sparkplug B)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

if TYPE_CHECKING:
    from edge.gateway import Gateway

log = logging.getLogger("edge.cli")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "edge",
        help="run the edge gateway of one edge node: OPC UA / Modbus TCP tags -> Sparkplug B",
        description="Read the OPC UA and Modbus TCP sources the plant model gives one edge node and publish "
        "them through a Sparkplug B edge node (NBIRTH, one device per cell, DDATA by exception, DDEATH while "
        "a source is away). Broker password: UNS_BROKER_PASSWORD or UNS_BROKER_PASSWORD_FILE. OPC UA "
        "security and credentials per connection: UNS_EDGE_<CONNECTION>_USERNAME, _PASSWORD[_FILE], "
        "_SECURITY_POLICY (None|Basic256Sha256), _SECURITY_MODE (Sign|SignAndEncrypt), _CERTIFICATE, "
        "_PRIVATE_KEY, _PRIVATE_KEY_PASSWORD[_FILE], _SERVER_CERTIFICATE. "
        "Stops on SIGINT/SIGTERM with NDEATH.",
    )
    p.add_argument("--plant", required=True, type=Path, help="plant model file (YAML)")
    p.add_argument("--edge-node", required=True, help="Sparkplug edge node id (by default the line name)")
    p.add_argument("--group", help="Sparkplug group id, when the edge node id is used in several groups")
    p.add_argument(
        "--broker",
        default=os.environ.get("UNS_BROKER", "mqtt://127.0.0.1:1883"),
        help="MQTT broker URL, mqtt://[user@]host[:port] or mqtts://... (default $UNS_BROKER or local)",
    )
    p.add_argument("--primary-host", help="Sparkplug primary host id: birth only while its STATE is online")
    p.add_argument(
        "--data-dir", type=Path, help="keep bdSeq and the store-and-forward buffer here (default: in memory)"
    )
    p.add_argument("--client-id", help="MQTT client id (default: generated)")
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO (default), WARNING, ERROR")
    p.add_argument("--log-json", action="store_true", help="one JSON object per log line")
    p.set_defaults(func=run_edge)


def _fail(message: str, code: int = 2) -> int:
    print(f"uns edge: {message}", file=sys.stderr)
    return code


def run_edge(args: argparse.Namespace) -> int:
    from bridge.logging_setup import setup_logging
    from edge.config import OpcUaOptions, broker_password_from_env, env_prefix, opcua_options_from_env
    from edge.gateway import Gateway, UnknownEdgeNode, find_edge_node
    from sparkplug.errors import SparkplugError
    from sparkplug.mqtt_url import parse_broker_url
    from uns_model import PlantResolver, load_plant
    from uns_model.errors import PlantModelError
    from uns_model.plant import OpcUaConnection

    try:
        plant = load_plant(args.plant)
    except PlantModelError as exc:
        return _fail(f"the plant model {args.plant} is not valid:\n{exc}")
    except OSError as exc:
        return _fail(f"cannot read {args.plant}: {exc.strerror or exc}")
    resolver = PlantResolver(plant)
    try:
        edge = find_edge_node(resolver, args.edge_node, args.group)
    except UnknownEdgeNode as exc:
        return _fail(str(exc))

    try:
        broker = parse_broker_url(args.broker)
        password = broker_password_from_env()
    except (SparkplugError, ValueError) as exc:
        return _fail(f"broker: {exc}")
    if password is not None:
        broker = dataclasses.replace(broker, password=password)

    opcua: dict[str, OpcUaOptions] = {}
    for line in edge.lines:
        for conn in line.connections:
            if isinstance(conn, OpcUaConnection) and conn.name not in opcua:
                try:
                    opcua[conn.name] = opcua_options_from_env(conn.name)
                except (ValidationError, ValueError) as exc:
                    return _fail(f"OPC UA connection {conn.name} ({env_prefix(conn.name)}*): {exc}")
    secrets = [broker.password or ""]
    for o in opcua.values():
        secrets += [s.get_secret_value() for s in (o.password, o.private_key_password) if s is not None]
    setup_logging(args.log_level, json_lines=args.log_json, secrets=[s for s in secrets if s])

    try:
        gateway = Gateway(
            resolver,
            edge,
            broker,
            primary_host_id=args.primary_host,
            data_dir=args.data_dir,
            opcua_options=lambda name: opcua[name],
            client_id=args.client_id,
        )
    except (SparkplugError, OSError) as exc:
        return _fail(str(exc))
    asyncio.run(_serve(gateway))
    return 0


async def _serve(gateway: Gateway) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await gateway.run(stop)
    log.info("counters: %s", gateway.all_stats())
