"""Dockerfile and docker-compose.yml, checked by structure (no Docker engine here): services, mounts
against the product broker config and make-secrets.sh's files, segmented networks, non-root users."""

from __future__ import annotations

import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.cli import build_parser
from bridge.config import BridgeSettings
from sparkplug.mqtt_url import parse_broker_url
from tests.support.mosquitto import PRODUCT_CONF, REPO
from uns_model.loader import load_plant
from uns_model.resolver import PlantResolver

COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())  # resolves the x-uns-image anchor and `<<` merges
    assert isinstance(data, dict)
    return data


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """container path -> host path (relative to the repository, `${VAR:-default}` as its default)."""
    found = {}
    for spec in service.get("volumes", []):
        host, container = spec.split(":")[:2] if not spec.startswith("${") else _var_mount(spec)
        found[container] = host
    return found


def _var_mount(spec: str) -> tuple[str, str]:
    var, rest = spec[2:].split("}", 1)
    return var.split(":-", 1)[1], rest.lstrip(":").split(":")[0]


def product_conf() -> list[tuple[str, str]]:
    lines = [ln.strip() for ln in PRODUCT_CONF.read_text().splitlines()]
    return [tuple(ln.split(None, 1)) for ln in lines if ln and not ln.startswith("#")]  # type: ignore[misc]


def edge_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in compose["services"].items() if s.get("command", [None])[0] == "edge"}


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def test_services_and_segmented_networks(compose):
    services = compose["services"]
    assert {"mosquitto", "bridge"} <= set(services) and edge_services(compose)
    assert set(compose["networks"]) == {"plant", "erp"}
    assert services["mosquitto"]["image"].startswith("eclipse-mosquitto:2")
    assert sorted(services["bridge"]["networks"]) == ["erp", "plant"]
    # Only the bridge talks to the ERP side: no edge gateway, not the broker.
    on_erp = {n for n, s in services.items() if "erp" in s.get("networks", [])}
    assert on_erp == {"bridge"}
    for service in edge_services(compose).values():
        assert service["networks"] == ["plant"]
    for name, service in services.items():
        user = str(service.get("user", "root"))
        assert not user.startswith(("0:", "root")) and user != "0", f"{name} runs as root"


def test_broker_mounts_cover_every_file_the_product_config_names(compose):
    mosquitto = compose["services"]["mosquitto"]
    m = mounts(mosquitto)
    assert m["/mosquitto/config/mosquitto.conf"] == "./broker/mosquitto.conf"
    assert mosquitto["command"][-1] == "/mosquitto/config/mosquitto.conf"
    secrets_dir = "/mosquitto/config/secrets"
    assert m[secrets_dir] == "./broker/secrets/broker"  # the broker's part only: no CA or client keys
    files = {
        k: v for k, v in product_conf() if k in ("password_file", "acl_file", "cafile", "certfile", "keyfile")
    }
    assert set(files) == {"password_file", "acl_file", "cafile", "certfile", "keyfile"}
    for path in files.values():
        assert path.startswith(secrets_dir + "/")
    persistence = dict(product_conf())["persistence_location"]
    assert persistence.rstrip("/") in m
    listeners = sorted(int(v.split()[0]) for k, v in product_conf() if k == "listener")
    published = sorted(int(p.split(":")[-1]) for p in mosquitto["ports"])
    assert published == listeners == [1883, 8883, 8884]


def test_broker_files_are_those_make_secrets_writes(compose, secrets_dir: Path):
    """Every file the product config names exists in make-secrets.sh's broker directory."""
    for key, path in product_conf():
        if key in ("password_file", "acl_file", "cafile", "certfile", "keyfile"):
            assert (secrets_dir / "broker" / Path(path).name).is_file(), path
    for service in compose["services"].values():
        for env_file in service.get("env_file", []):
            assert env_file.startswith("./broker/secrets/")
            assert (secrets_dir / env_file.removeprefix("./broker/secrets/")).is_file(), env_file
        for container, host in mounts(service).items():
            if host.startswith("./broker/secrets/") and container != "/mosquitto/config/secrets":
                assert (secrets_dir / host.removeprefix("./broker/secrets/")).is_file(), host


def test_bridge_settings_and_broker_url(compose):
    bridge = compose["services"]["bridge"]
    env = bridge["environment"]
    fields = {f"UNS_{name.upper()}" for name in BridgeSettings.model_fields}
    assert set(env) <= fields, set(env) - fields
    url = parse_broker_url(env["UNS_BROKER"])
    assert (url.host, url.port, url.tls, url.username, url.password) == (
        "mosquitto",
        8883,
        True,
        "bridge",
        None,
    )
    assert url.ca_file in mounts(bridge)
    assert env["UNS_ODOO_API_KEY_FILE"] == "/run/secrets/odoo_api_key" and "odoo_api_key" in bridge["secrets"]
    assert bridge["env_file"] == ["./broker/secrets/env/bridge.env"]  # UNS_BROKER_PASSWORD
    assert mounts(bridge)["/var/lib/uns"] in compose["volumes"]
    assert "/etc/uns/plant.yaml" in mounts(bridge) and env["UNS_PLANT"] == "/etc/uns/plant.yaml"
    assert build_parser().parse_args(bridge["command"]).func.__name__ == "_run"


def test_edge_gateways_log_in_as_their_edge_node(compose):
    plant_file = REPO / mounts(compose["services"]["bridge"])["/etc/uns/plant.yaml"]
    nodes = {ref.edge_node_id for ref in PlantResolver(load_plant(plant_file)).edge_nodes()}
    for name, service in edge_services(compose).items():
        command = service["command"]
        node = option(command, "--edge-node")
        assert node in nodes and option(command, "--plant") == "/etc/uns/plant.yaml"
        url = parse_broker_url(option(command, "--broker"))
        assert url.host == "mosquitto" and url.password is None, name
        m = mounts(service)
        if url.port == 8884:  # client certificate: its CN is the username
            assert url.username is None and url.tls
            assert m[url.cert_file or ""] == f"./broker/secrets/clients/{node}.crt"
            assert m[url.key_file or ""] == f"./broker/secrets/clients/{node}.key"
            assert url.ca_file in m
        else:
            assert url.username == node
            assert service["env_file"] == [f"./broker/secrets/env/{node}.env"]
        assert service["healthcheck"] == {"disable": True}
        # The command is one the `uns` of this repository accepts, and waits for the bridge's STATE.
        args = build_parser().parse_args(command)
        assert args.func.__name__ == "run_edge"
        assert args.primary_host == compose["services"]["bridge"]["environment"]["UNS_HOST_ID"]
        assert str(args.data_dir) in mounts(service)


def test_dockerfile():
    lines = [ln.strip() for ln in DOCKERFILE.read_text().replace("\\\n", " ").splitlines()]
    instr = [ln.split(None, 1) for ln in lines if ln and not ln.startswith("#")]
    froms = [arg for op, arg in instr if op == "FROM"]
    assert froms and all(f.split()[0] == "python:3.11-slim" for f in froms)
    users = [arg for op, arg in instr if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert dict(instr)["ENTRYPOINT"] == '["uns"]' and dict(instr)["CMD"] == '["run"]'
    health = dict(instr)["HEALTHCHECK"]
    assert "/healthz" in health and "9108" in health
    assert "UNS_METRICS_PORT=9108" in " ".join(arg for op, arg in instr if op == "ENV").split()
    # Every package the wheel ships is copied into the build stage.
    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"][
        "wheel"
    ]
    copied = {shlex.split(arg)[0] for op, arg in instr if op == "COPY" and not arg.startswith("--from")}
    assert set(packages["packages"]) <= copied


def test_dockerignore_keeps_secrets_out_of_the_build_context():
    ignored = {ln.strip() for ln in (REPO / ".dockerignore").read_text().splitlines()}
    assert {"broker/secrets", "broker/data", ".venv", ".git"} <= ignored
