"""Settings the plant model does not (yet) carry: OPC UA security and credentials, Modbus block sizes,
backoff. Defaults here; secrets only from the environment or files, never from the plant YAML."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

SecurityPolicy = Literal["None", "Basic256Sha256"]
SecurityMode = Literal["Sign", "SignAndEncrypt"]


class Backoff(BaseModel):
    """Reconnect delays: first `min_s`, doubling up to `max_s`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_s: float = Field(default=1.0, gt=0)
    max_s: float = Field(default=30.0, gt=0)

    def delays(self) -> DelaySequence:
        return DelaySequence(self.min_s, self.max_s)


class DelaySequence:
    """min, 2*min, 4*min ... capped at max; reset() after a success."""

    def __init__(self, min_s: float, max_s: float) -> None:
        self._min, self._max = min_s, max_s
        self._next = min_s

    def next(self) -> float:
        d = self._next
        self._next = min(self._next * 2, self._max)
        return d

    def reset(self) -> None:
        self._next = self._min


class OpcUaOptions(BaseModel):
    """How the gateway talks to one OPC UA server (on top of the plant's endpoint and poll_ms)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    security_policy: SecurityPolicy = "None"
    security_mode: SecurityMode = "SignAndEncrypt"
    certificate: Path | None = Field(default=None, description="client certificate (PEM or DER)")
    private_key: Path | None = Field(default=None, description="client private key (PEM or DER)")
    private_key_password: SecretStr | None = None
    server_certificate: Path | None = Field(
        default=None, description="pin the server certificate; None: take it from the endpoint list"
    )
    username: str | None = None
    password: SecretStr | None = None
    request_timeout_s: float = Field(default=4.0, gt=0)
    watchdog_s: float = Field(default=1.0, gt=0, description="server liveness probe period")
    queue_size: int = Field(default=0, ge=0, description="monitored item queue; 0: server default (1)")
    backoff: Backoff = Field(default_factory=Backoff)

    @model_validator(mode="after")
    def _check(self) -> OpcUaOptions:
        if self.security_policy != "None" and (self.certificate is None or self.private_key is None):
            raise ValueError(f"security policy {self.security_policy} needs a certificate and a private key")
        if self.password is not None and self.username is None:
            raise ValueError("a password without a username")
        return self


class ModbusOptions(BaseModel):
    """How the gateway polls one Modbus TCP server (on top of the plant's host, port, poll_ms, timeout_ms)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_registers_per_read: int = Field(default=125, ge=1, le=125, description="Modbus limit is 125")
    max_bits_per_read: int = Field(default=2000, ge=1, le=2000, description="Modbus limit is 2000")
    max_gap: int = Field(
        default=0, ge=0, description="unused registers a block read may span; 0: only adjacent ones"
    )
    tag_poll_ms: dict[str, int] = Field(
        default_factory=dict, description="'<device>/<metric>' -> poll period, for polling groups by rate"
    )
    backoff: Backoff = Field(default_factory=Backoff)


# -- from the environment ---------------------------------------------------------------------------------


def env_prefix(connection: str) -> str:
    """UNS_EDGE_<CONNECTION>_, the name upper-cased and '-' as '_': 'plc-1' -> UNS_EDGE_PLC_1_."""
    return "UNS_EDGE_" + re.sub(r"[^A-Za-z0-9]", "_", connection).upper() + "_"


def _secret(env: Mapping[str, str], name: str) -> SecretStr | None:
    """NAME, or the content of the file NAME_FILE (Docker / Kubernetes secrets)."""
    if env.get(name):
        return SecretStr(env[name])
    path = env.get(name + "_FILE")
    if not path:
        return None
    try:
        return SecretStr(Path(path).read_text().strip())
    except OSError as exc:
        raise ValueError(f"cannot read {name}_FILE {path}: {exc.strerror}") from None


def opcua_options_from_env(connection: str, env: Mapping[str, str] | None = None) -> OpcUaOptions:
    """OPC UA options of one connection from UNS_EDGE_<CONNECTION>_* variables:

    SECURITY_POLICY (None | Basic256Sha256), SECURITY_MODE (Sign | SignAndEncrypt), CERTIFICATE,
    PRIVATE_KEY, PRIVATE_KEY_PASSWORD[_FILE], SERVER_CERTIFICATE, USERNAME, PASSWORD[_FILE].
    """
    env = os.environ if env is None else env
    p = env_prefix(connection)
    fields: dict[str, object] = {}
    for key, field in (
        ("SECURITY_POLICY", "security_policy"),
        ("SECURITY_MODE", "security_mode"),
        ("CERTIFICATE", "certificate"),
        ("PRIVATE_KEY", "private_key"),
        ("SERVER_CERTIFICATE", "server_certificate"),
        ("USERNAME", "username"),
    ):
        if env.get(p + key):
            fields[field] = env[p + key]
    for key, field in (("PASSWORD", "password"), ("PRIVATE_KEY_PASSWORD", "private_key_password")):
        secret = _secret(env, p + key)
        if secret is not None:
            fields[field] = secret
    return OpcUaOptions.model_validate(fields)


def broker_password_from_env(env: Mapping[str, str] | None = None) -> str | None:
    """UNS_BROKER_PASSWORD or the file UNS_BROKER_PASSWORD_FILE names (same names as `uns run`)."""
    secret = _secret(os.environ if env is None else env, "UNS_BROKER_PASSWORD")
    return None if secret is None else secret.get_secret_value()
