"""JSON Schema of every published contract version, as files 'docs/schemas/<contract>.v<version>.json'."""

from __future__ import annotations

import json
from typing import Any

from uns_model.contract_base import Payload
from uns_model.contracts import ALL_PAYLOADS

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def contract_schema(cls: type[Payload]) -> dict[str, Any]:
    """The JSON Schema of the JSON a contract version serializes to."""
    schema = cls.model_json_schema(mode="serialization")
    schema = {
        "$schema": SCHEMA_DIALECT,
        "$id": f"urn:uns-bridge:contract:{cls.schema_name()}",
        "x-contract": cls.CONTRACT,
        "x-version": cls.VERSION,
        "x-direction": cls.DIRECTION,
        **schema,
    }
    return schema


def schema_text(cls: type[Payload]) -> str:
    """The schema as stable text: sorted keys, two-space indent, final newline."""
    return json.dumps(contract_schema(cls), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def all_schema_texts() -> dict[str, str]:
    """File name -> schema text for every published contract version."""
    return {f"{cls.schema_name()}.json": schema_text(cls) for cls in ALL_PAYLOADS}
