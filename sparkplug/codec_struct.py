"""DataSet, PropertySet / PropertySetList and MetaData between value objects and protobuf messages."""

from __future__ import annotations

from typing import Any, Literal

from sparkplug.codec_scalar import SCALAR_FROM_WIRE, SCALAR_TO_WIRE, WireValueError, text_from_wire
from sparkplug.datatypes import (
    PROPERTY_VALUE_FIELD,
    PROPERTYSET_VALUE,
    PROPERTYSETS_VALUE,
    SCALAR_FIELD,
    SCALAR_FIELDS_ACCEPTED,
    DataType,
    datatype_from_number,
    datatype_name,
)
from sparkplug.errors import SparkplugDecodeError
from sparkplug.payload import DataSet, MetaData, PropertySet, PropertyValue
from sparkplug.proto import pb

PbDataSet = pb.Payload.DataSet
PbPropertySet = pb.Payload.PropertySet
PbPropertyValue = pb.Payload.PropertyValue
PbMetaData = pb.Payload.MetaData

_MetaDataField = Literal[
    "is_multi_part", "content_type", "size", "seq", "file_name", "file_type", "md5", "description"
]

_METADATA_FIELDS: tuple[_MetaDataField, ...] = (
    "is_multi_part",
    "content_type",
    "size",
    "seq",
    "file_name",
    "file_type",
    "md5",
    "description",
)


def scalar_datatype(number: int, where: str) -> DataType:
    """The scalar DataType for a wire number found at `where`, or SparkplugDecodeError."""
    dt = datatype_from_number(number)
    if dt is None:
        raise SparkplugDecodeError(
            f"{where}: unknown datatype {number}", reason="unknown_datatype", datatype=number
        )
    if dt not in SCALAR_FIELD:
        raise SparkplugDecodeError(
            f"{where}: datatype {dt.name} is not allowed here (only basic scalar types)",
            reason="type_mismatch",
            datatype=number,
        )
    return dt


def read_scalar(msg: Any, datatype: DataType, where: str) -> Any:
    """The Python value of a scalar `oneof value` (DataSetValue, Parameter, PropertyValue); None if unset."""
    which = msg.WhichOneof("value")
    if which is None:
        return None
    if datatype is DataType.Unknown:
        if which == "extension_value":
            return None
        raw = getattr(msg, which)
        return text_from_wire(raw, where) if which == "string_value" else raw
    if which not in SCALAR_FIELDS_ACCEPTED[datatype]:
        expected = SCALAR_FIELD[datatype]
        raise SparkplugDecodeError(
            f"{where}: datatype {datatype.name} but the value is in {which}, expected {expected}",
            reason="type_mismatch",
            datatype=int(datatype),
        )
    try:
        return SCALAR_FROM_WIRE[datatype](getattr(msg, which))
    except WireValueError as exc:
        raise SparkplugDecodeError(f"{where}: {exc}", reason=exc.reason, datatype=int(datatype)) from None


def write_scalar(msg: Any, datatype: DataType, value: Any, where: str) -> None:
    """Set a scalar `oneof value` from a Python value; ValueError naming `where` if it does not fit."""
    field = SCALAR_FIELD.get(datatype)
    if field is None:
        raise ValueError(f"{where}: datatype {datatype.name} is not a basic scalar type")
    try:
        setattr(msg, field, SCALAR_TO_WIRE[datatype](value))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


# -- DataSet ------------------------------------------------------------------------------------------


def fill_dataset(msg: PbDataSet, ds: Any, where: str) -> None:
    if not isinstance(ds, DataSet):
        raise ValueError(f"{where}: DataSet needs a sparkplug.payload.DataSet, got {type(ds).__name__}")
    if len(ds.columns) != len(ds.types):
        raise ValueError(f"{where}: DataSet has {len(ds.columns)} columns but {len(ds.types)} types")
    types = [DataType(t) for t in ds.types]
    for t in types:
        if t not in SCALAR_FIELD:
            raise ValueError(f"{where}: DataSet column type {t.name} is not a basic scalar type")
    msg.SetInParent()
    msg.num_of_columns = len(ds.columns)
    msg.columns.extend(ds.columns)
    msg.types.extend(int(t) for t in types)
    for r, row in enumerate(ds.rows):
        if len(row) != len(types):
            raise ValueError(f"{where}: DataSet row {r} has {len(row)} values for {len(types)} columns")
        pb_row = msg.rows.add()
        for c, (t, value) in enumerate(zip(types, row, strict=True)):
            element = pb_row.elements.add()
            if value is not None:
                write_scalar(element, t, value, f"{where} row {r} column {ds.columns[c]!r}")


def read_dataset(msg: PbDataSet, where: str) -> DataSet:
    columns = [text_from_wire(c, f"{where} DataSet column name") for c in msg.columns]
    types = [scalar_datatype(t, f"{where} DataSet column {i}") for i, t in enumerate(msg.types)]
    if len(columns) != len(types):
        raise SparkplugDecodeError(
            f"{where}: DataSet has {len(columns)} columns but {len(types)} types", reason="malformed"
        )
    if msg.HasField("num_of_columns") and msg.num_of_columns != len(columns):
        raise SparkplugDecodeError(
            f"{where}: DataSet num_of_columns {msg.num_of_columns} but {len(columns)} columns",
            reason="malformed",
        )
    rows: list[list[Any]] = []
    for r, pb_row in enumerate(msg.rows):
        if len(pb_row.elements) != len(types):
            raise SparkplugDecodeError(
                f"{where}: DataSet row {r} has {len(pb_row.elements)} values for {len(types)} columns",
                reason="malformed",
            )
        rows.append(
            [
                read_scalar(e, t, f"{where} row {r} column {columns[c]!r}")
                for c, (t, e) in enumerate(zip(types, pb_row.elements, strict=True))
            ]
        )
    return DataSet(columns=columns, types=types, rows=rows)


# -- PropertySet --------------------------------------------------------------------------------------


def fill_propertyset(msg: PbPropertySet, ps: Any, where: str) -> None:
    if not isinstance(ps, PropertySet):
        raise ValueError(f"{where}: PropertySet needs a payload.PropertySet, got {type(ps).__name__}")
    msg.SetInParent()
    for key, pv in ps.values.items():
        msg.keys.append(key)
        fill_propertyvalue(msg.values.add(), pv, f"{where} property {key!r}")


def fill_propertyvalue(msg: PbPropertyValue, pv: PropertyValue, where: str) -> None:
    dt = DataType(pv.datatype)
    msg.type = int(dt)
    if pv.is_null or pv.value is None:
        msg.is_null = True
        return
    if dt is DataType.PropertySet:
        fill_propertyset(msg.propertyset_value, pv.value, where)
    elif dt is DataType.PropertySetList:
        msg.propertysets_value.SetInParent()
        if isinstance(pv.value, PropertySet):
            raise ValueError(f"{where}: PropertySetList needs a list of PropertySet, got one PropertySet")
        for i, ps in enumerate(pv.value):
            fill_propertyset(msg.propertysets_value.propertyset.add(), ps, f"{where}[{i}]")
    else:
        write_scalar(msg, dt, pv.value, where)


def read_propertyset(msg: PbPropertySet, where: str) -> PropertySet:
    if len(msg.keys) != len(msg.values):
        raise SparkplugDecodeError(
            f"{where}: PropertySet has {len(msg.keys)} keys but {len(msg.values)} values", reason="malformed"
        )
    return PropertySet(
        {
            text_from_wire(key, f"{where} key"): read_propertyvalue(value, f"{where} property {key!r}")
            for key, value in zip(msg.keys, msg.values, strict=True)
        }
    )


def read_propertyvalue(msg: PbPropertyValue, where: str) -> PropertyValue:
    number = msg.type
    dt = datatype_from_number(number)
    if dt is None:
        raise SparkplugDecodeError(
            f"{where}: unknown datatype {number}", reason="unknown_datatype", datatype=number
        )
    which = msg.WhichOneof("value")
    if msg.is_null or which is None:
        return PropertyValue(dt, None, is_null=True)
    if which in (PROPERTYSET_VALUE, PROPERTYSETS_VALUE):
        # Unknown (type not sent) takes whichever nested form arrived.
        wanted = dt if dt is not DataType.Unknown else None
        if which == PROPERTYSET_VALUE and wanted in (None, DataType.PropertySet):
            return PropertyValue(dt, read_propertyset(msg.propertyset_value, where))
        if which == PROPERTYSETS_VALUE and wanted in (None, DataType.PropertySetList):
            return PropertyValue(
                dt,
                [
                    read_propertyset(ps, f"{where}[{i}]")
                    for i, ps in enumerate(msg.propertysets_value.propertyset)
                ],
            )
    elif dt is not DataType.PropertySet and dt is not DataType.PropertySetList:
        if dt is not DataType.Unknown and dt not in SCALAR_FIELD:
            raise SparkplugDecodeError(
                f"{where}: datatype {datatype_name(number)} is not a property datatype",
                reason="type_mismatch",
                datatype=number,
            )
        return PropertyValue(dt, read_scalar(msg, dt, where))
    expected = PROPERTY_VALUE_FIELD.get(dt, "a scalar field")
    raise SparkplugDecodeError(
        f"{where}: datatype {dt.name} but the value is in {which}, expected {expected}",
        reason="type_mismatch",
        datatype=number,
    )


# -- MetaData -----------------------------------------------------------------------------------------


def fill_metadata(msg: PbMetaData, md: MetaData) -> None:
    msg.SetInParent()
    for name in _METADATA_FIELDS:
        value = getattr(md, name)
        if value is not None:
            try:
                setattr(msg, name, value)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"MetaData.{name}: {exc}") from None


def read_metadata(msg: PbMetaData) -> MetaData:
    md = MetaData()
    for name in _METADATA_FIELDS:
        if msg.HasField(name):
            value = getattr(msg, name)
            if isinstance(value, bytes):
                value = text_from_wire(value, f"MetaData.{name}")
            setattr(md, name, value)
    return md
