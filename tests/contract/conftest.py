"""The contract suite's Odoo targets: the sandbox (17.0, 18.0, 19.0) always, a real Odoo when
ODOO_URL/DB/USER/KEY are set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract.harness import Target, prepare, real_settings, sandbox_target


@pytest.fixture(scope="module", params=["sandbox", "sandbox17", "sandbox19", "real"])
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    if request.param == "real":
        settings = real_settings()
        if settings is None:
            pytest.skip(
                "real Odoo: set ODOO_URL, ODOO_DB, ODOO_USER, ODOO_KEY (and ODOO_ADMIN_LOGIN/PASSWORD)"
            )
        bridge, admin = settings
        if admin is None:
            pytest.skip(
                "real Odoo: each run creates its own master data (work centers, products, BoMs) and the "
                "bridge's user may not; set ODOO_ADMIN_LOGIN and ODOO_ADMIN_PASSWORD (or ODOO_ADMIN_KEY)"
            )
        t = prepare("real", bridge, admin)
        yield t
        t.client.close()
        t.admin.close()
        return
    version = {"sandbox17": "17.0", "sandbox19": "19.0"}.get(request.param, "18.0")
    with sandbox_target(tmp_path_factory.mktemp("odoo_sandbox"), version) as t:
        yield t
