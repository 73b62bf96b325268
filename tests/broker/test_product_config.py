"""broker/mosquitto.conf as shipped, and the two configs the test broker derives from it."""

from __future__ import annotations

from pathlib import Path

from tests.support.mosquitto import PRODUCT_CONF, Mosquitto, SecureFiles, derive_config


def settings(text: str) -> list[tuple[str, str]]:
    lines = [ln.strip() for ln in text.splitlines()]
    pairs = [(*ln.split(None, 1), "")[:2] for ln in lines if ln and not ln.startswith("#")]
    return [(k, v) for k, v in pairs]


def listeners(pairs: list[tuple[str, str]]) -> dict[str, dict[str, str]]:
    """listener port -> its settings (the lines after it that belong to a listener)."""
    found: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for key, value in pairs:
        if key == "listener":
            current = found.setdefault(value.split()[0], {})
        elif current is not None and key in ("protocol", "cafile", "certfile", "keyfile", "tls_version",
                                             "require_certificate", "use_identity_as_username"):  # fmt: skip
            current[key] = value
    return found


def test_product_config_has_no_anonymous_access_and_tls_listeners():
    pairs = settings(PRODUCT_CONF.read_text())
    conf = dict(pairs)
    assert conf["allow_anonymous"] == "false" and conf["per_listener_settings"] == "false"
    assert conf["password_file"] and conf["acl_file"]
    assert [v for k, v in pairs if k == "allow_anonymous"] == ["false"]
    ls = listeners(pairs)
    assert set(ls) == {"1883", "8883", "8884"}
    assert "cafile" not in ls["1883"]
    for port in ("8883", "8884"):
        assert {"cafile", "certfile", "keyfile"} <= set(ls[port]) and ls[port]["tls_version"] == "tlsv1.2"
    assert "require_certificate" not in ls["8883"]
    assert ls["8884"]["require_certificate"] == "true" and ls["8884"]["use_identity_as_username"] == "true"
    assert conf["max_queued_messages"] == "200000" and conf["max_queued_bytes"] == "268435456"


def test_default_derived_config_is_the_anonymous_development_broker(tmp_path: Path):
    pairs = settings(derive_config(tmp_path, 4321).read_text())
    keys = [k for k, _ in pairs]
    for dropped in ("password_file", "acl_file", "cafile", "certfile", "keyfile", "tls_version",
                    "require_certificate", "use_identity_as_username"):  # fmt: skip
        assert dropped not in keys
    assert [v for k, v in pairs if k == "listener"] == ["4321 127.0.0.1"]
    assert [v for k, v in pairs if k == "allow_anonymous"] == ["true"]
    assert dict(pairs)["max_queued_messages"] == "200000"


def test_secure_derived_config_keeps_the_product_listeners(tmp_path: Path):
    files = SecureFiles(*(tmp_path / n for n in ("passwd", "acl", "ca.crt", "server.crt", "server.key")))
    ports: dict[int, int] = {}
    pairs = settings(derive_config(tmp_path, 4321, secure=files, ports=ports).read_text())
    assert ports[1883] == 4321 and len(set(ports.values())) == 3
    assert dict(pairs)["allow_anonymous"] == "false"
    assert dict(pairs)["password_file"] == str(tmp_path / "passwd")
    ls = listeners(pairs)
    product = listeners(settings(PRODUCT_CONF.read_text()))
    for port, mine in ports.items():
        theirs = {k: v for k, v in product[str(port)].items() if k not in ("cafile", "certfile", "keyfile")}
        assert {
            k: v for k, v in ls[str(mine)].items() if k not in ("cafile", "certfile", "keyfile")
        } == theirs
        if "cafile" in product[str(port)]:
            assert ls[str(mine)]["cafile"] == str(tmp_path / "ca.crt")


def test_anonymous_clients_still_work_on_the_test_fixture(broker: Mosquitto):
    from tests.broker.clients import Session

    s = Session(broker.port)
    try:
        assert not s.connect().is_failure
    finally:
        s.close()
