"""Sparkplug B payload value objects: plain dataclasses that mirror the protobuf messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sparkplug.datatypes import DataType


@dataclass(slots=True)
class PropertyValue:
    """One property: a datatype and a value (a PropertySet / list of them for the nested types)."""

    datatype: DataType
    value: Any
    is_null: bool = False


@dataclass(slots=True)
class PropertySet:
    """A metric's properties, in wire order (keys[i] names values[i] on the wire)."""

    values: dict[str, PropertyValue] = field(default_factory=dict)


@dataclass(slots=True)
class MetaData:
    """Metric metadata for Bytes/File/multi-part values (spec "MetaData"); None means not sent."""

    is_multi_part: bool | None = None
    content_type: str | None = None
    size: int | None = None
    seq: int | None = None
    file_name: str | None = None
    file_type: str | None = None
    md5: str | None = None
    description: str | None = None


@dataclass(slots=True)
class DataSet:
    """A typed table: column names, one datatype per column, rows of values (None = no value)."""

    columns: list[str] = field(default_factory=list)
    types: list[DataType] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)


@dataclass(slots=True)
class TemplateParameter:
    """A template parameter; value None means the parameter carries no value."""

    name: str | None
    datatype: DataType
    value: Any = None


@dataclass(slots=True)
class Metric:
    """One Sparkplug metric. value None (or is_null) travels as is_null with no value field."""

    name: str | None = None
    alias: int | None = None
    datatype: DataType = DataType.Unknown
    value: Any = None
    timestamp: int | None = None
    is_historical: bool = False
    is_transient: bool = False
    is_null: bool = False
    properties: PropertySet | None = None
    metadata: MetaData | None = None


@dataclass(slots=True)
class Template:
    """A template definition (is_definition, no template_ref) or an instance of one."""

    version: str | None = None
    metrics: list[Metric] = field(default_factory=list)
    parameters: list[TemplateParameter] = field(default_factory=list)
    template_ref: str | None = None
    is_definition: bool = False


@dataclass(slots=True)
class Payload:
    """A Sparkplug B payload: publish timestamp (ms UTC), metrics, seq, optional uuid and body."""

    timestamp: int | None = None
    metrics: list[Metric] = field(default_factory=list)
    seq: int | None = None
    uuid: str | None = None
    body: bytes | None = None
