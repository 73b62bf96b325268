"""Settings of `uns run`: flags over environment (UNS_*) over a YAML config file over defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

SinkKind = Literal["jsonl", "odoo"]
HostRole = Literal["primary", "secondary_passive"]


class BridgeSettings(BaseSettings):
    """Everything the bridge service needs. Secrets are SecretStr: their repr and logs show '**********'.

    A secret may also come from a file: `odoo_api_key_file` / `broker_password_file` (Docker and
    Kubernetes secrets), or any field through `secrets_dir` (one file per field name).
    """

    model_config = SettingsConfigDict(
        env_prefix="UNS_",
        extra="forbid",
        validate_default=True,
    )

    plant: Path = Field(description="the plant model file (YAML)")
    broker: str = Field(default="mqtt://127.0.0.1:1883", description="MQTT broker URL (mqtt:// or mqtts://)")
    broker_password: SecretStr | None = Field(default=None, description="broker password (not in the URL)")
    broker_password_file: Path | None = None
    host_id: str = Field(default="uns-bridge", pattern=r"^[^/+#]{1,128}$", description="Sparkplug host id")
    role: HostRole = "primary"
    data_dir: Path = Field(default=Path("uns-data"), description="outbox, checkpoints, rejected input")

    sink: SinkKind = "jsonl"
    jsonl_path: Path | None = Field(default=None, description="JSONL sink file; <data_dir>/events.jsonl")
    odoo_url: str | None = None
    odoo_db: str | None = None
    odoo_user: str | None = None
    odoo_api_key: SecretStr | None = None
    odoo_api_key_file: Path | None = None
    odoo_api: Literal["auto", "jsonrpc", "json2"] = Field(default="auto", description="Odoo API flavour")
    odoo_poll_s: float = Field(default=5.0, gt=0, description="how often orders and holds are read from Odoo")
    odoo_default_line: str | None = Field(
        default=None, description="ISA-95 line for orders whose work centers the plant does not know"
    )

    window_s: float | None = Field(
        default=None, gt=0, description="override the window of every batch flow (tests, demos)"
    )
    grace_ms: int = Field(default=2000, ge=0, description="wait for late samples before closing a window")
    reorder_timeout_s: float = Field(default=2.0, ge=0)
    mirror: bool = Field(default=True, description="publish the retained JSON view under _raw")
    mirror_interval_s: float = Field(
        default=1.0, ge=0, description="at most one _raw publish per tag per this many seconds"
    )
    status_retention_s: float = Field(
        default=86_400.0, ge=0, description="clear a delivered event's retained status after this long"
    )
    health_interval_s: float = Field(default=10.0, gt=0, description="period of _bridge/health publishes")
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(
        default=9108, ge=0, le=65535, description="Prometheus /metrics and /healthz; 0 picks a free port"
    )
    outbox_max_attempts: int | None = Field(default=None, ge=1, description="None: retry transient for ever")
    outbox_retention_days: float = Field(default=30.0, gt=0)
    outbox_backoff_base_s: float = Field(default=1.0, ge=0, description="first retry within this delay")
    outbox_backoff_cap_s: float = Field(default=300.0, ge=0, description="longest delay between retries")
    log_json: bool = False
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _secrets_from_files(self) -> BridgeSettings:
        if self.odoo_api_key is None and self.odoo_api_key_file is not None:
            self.odoo_api_key = SecretStr(_read_secret(self.odoo_api_key_file))
        if self.broker_password is None and self.broker_password_file is not None:
            self.broker_password = SecretStr(_read_secret(self.broker_password_file))
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The YAML file is read from model_config['yaml_file'], set by load_settings (None: no file).
        return (init_settings, env_settings, file_secret_settings, YamlConfigSettingsSource(settings_cls))

    # -- derived -------------------------------------------------------------------------------------

    @property
    def outbox_path(self) -> Path:
        return self.data_dir / "outbox.sqlite3"

    @property
    def checkpoint_path(self) -> Path:
        return self.data_dir / "windows.sqlite3"

    @property
    def state_path(self) -> Path:
        return self.data_dir / "rules.sqlite3"

    @property
    def rejected_path(self) -> Path:
        return self.data_dir / "rejected.sqlite3"

    @property
    def events_path(self) -> Path:
        return self.jsonl_path or self.data_dir / "events.jsonl"

    def broker_url(self) -> str:
        """The broker URL with the password from broker_password, if it is given apart."""
        if self.broker_password is None:
            return self.broker
        from urllib.parse import quote, urlsplit, urlunsplit

        parts = urlsplit(self.broker if "://" in self.broker else f"mqtt://{self.broker}")
        user = parts.username or ""
        host = parts.hostname or ""
        netloc = f"{quote(user)}:{quote(self.broker_password.get_secret_value())}@{host}"
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))

    def secrets(self) -> list[str]:
        """Secret values to scrub from log lines."""
        out = [s.get_secret_value() for s in (self.odoo_api_key, self.broker_password) if s is not None]
        from urllib.parse import urlsplit

        pw = urlsplit(self.broker if "://" in self.broker else f"mqtt://{self.broker}").password
        if pw:
            out.append(pw)
        return [s for s in out if s]

    def redacted(self) -> dict[str, Any]:
        """The settings for a startup log line: secrets masked, the broker URL without its password."""
        from sparkplug.mqtt_url import parse_broker_url

        data = self.model_dump(mode="json")
        for key in ("odoo_api_key", "broker_password"):
            if data.get(key) is not None:
                data[key] = "***"
        try:
            data["broker"] = parse_broker_url(self.broker).redacted()
        except Exception:
            data["broker"] = "<unparsable>"
        return data


def _read_secret(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise ValueError(f"cannot read secret file {path}: {exc.strerror}") from None


def load_settings(config_file: Path | None = None, **flags: Any) -> BridgeSettings:
    """Settings from flags (None means not given), then UNS_* environment, then the YAML file."""
    given = {k: v for k, v in flags.items() if v is not None}
    if config_file is None:
        return BridgeSettings(**given)
    if not config_file.is_file():
        raise ValueError(f"config file {config_file} does not exist")
    config = SettingsConfigDict(**{**BridgeSettings.model_config, "yaml_file": config_file})
    cls: type[BridgeSettings] = type("FileBridgeSettings", (BridgeSettings,), {"model_config": config})
    return cls(**given)
