"""Sparkplug B datatypes (spec "Data Types") and the protobuf value field each one travels in."""

from __future__ import annotations

from enum import IntEnum
from typing import Final


class DataType(IntEnum):
    """The Sparkplug B 3.0 datatype numbers, as the spec's DataType enum gives them."""

    Unknown = 0
    Int8 = 1
    Int16 = 2
    Int32 = 3
    Int64 = 4
    UInt8 = 5
    UInt16 = 6
    UInt32 = 7
    UInt64 = 8
    Float = 9
    Double = 10
    Boolean = 11
    String = 12
    DateTime = 13
    Text = 14
    UUID = 15
    DataSet = 16
    Bytes = 17
    File = 18
    Template = 19
    PropertySet = 20
    PropertySetList = 21
    Int8Array = 22
    Int16Array = 23
    Int32Array = 24
    Int64Array = 25
    UInt8Array = 26
    UInt16Array = 27
    UInt32Array = 28
    UInt64Array = 29
    FloatArray = 30
    DoubleArray = 31
    BooleanArray = 32
    StringArray = 33
    DateTimeArray = 34


# Names of the `oneof value` members. Metric, PropertyValue, Template.Parameter and DataSetValue
# all use these same names for their scalar members, which lets one table serve all four.
INT_VALUE: Final = "int_value"
LONG_VALUE: Final = "long_value"
FLOAT_VALUE: Final = "float_value"
DOUBLE_VALUE: Final = "double_value"
BOOLEAN_VALUE: Final = "boolean_value"
STRING_VALUE: Final = "string_value"
BYTES_VALUE: Final = "bytes_value"
DATASET_VALUE: Final = "dataset_value"
TEMPLATE_VALUE: Final = "template_value"
PROPERTYSET_VALUE: Final = "propertyset_value"
PROPERTYSETS_VALUE: Final = "propertysets_value"

# Inclusive value ranges of the integer datatypes; the wire carries them in unsigned fields.
INT_RANGES: Final[dict[DataType, tuple[int, int]]] = {
    DataType.Int8: (-(2**7), 2**7 - 1),
    DataType.Int16: (-(2**15), 2**15 - 1),
    DataType.Int32: (-(2**31), 2**31 - 1),
    DataType.Int64: (-(2**63), 2**63 - 1),
    DataType.UInt8: (0, 2**8 - 1),
    DataType.UInt16: (0, 2**16 - 1),
    DataType.UInt32: (0, 2**32 - 1),
    DataType.UInt64: (0, 2**64 - 1),
    DataType.DateTime: (0, 2**64 - 1),
}

# Bit width of the signed integer datatypes, for two's complement on the wire.
SIGNED_BITS: Final[dict[DataType, int]] = {
    DataType.Int8: 8,
    DataType.Int16: 16,
    DataType.Int32: 32,
    DataType.Int64: 64,
}

INTEGER_TYPES: Final = frozenset(INT_RANGES)
STRING_TYPES: Final = frozenset({DataType.String, DataType.Text, DataType.UUID})
BYTES_TYPES: Final = frozenset({DataType.Bytes, DataType.File})

# The protobuf scalar field each scalar datatype uses when written (spec "Basic Types" + UUID).
SCALAR_FIELD: Final[dict[DataType, str]] = {
    DataType.Int8: INT_VALUE,
    DataType.Int16: INT_VALUE,
    DataType.Int32: INT_VALUE,
    DataType.Int64: LONG_VALUE,
    DataType.UInt8: INT_VALUE,
    DataType.UInt16: INT_VALUE,
    DataType.UInt32: INT_VALUE,
    DataType.UInt64: LONG_VALUE,
    DataType.Float: FLOAT_VALUE,
    DataType.Double: DOUBLE_VALUE,
    DataType.Boolean: BOOLEAN_VALUE,
    DataType.String: STRING_VALUE,
    DataType.DateTime: LONG_VALUE,
    DataType.Text: STRING_VALUE,
    DataType.UUID: STRING_VALUE,
}

# Fields accepted on decode: peers disagree on UInt32 (uint32 vs uint64 field), so both are read.
SCALAR_FIELDS_ACCEPTED: Final[dict[DataType, frozenset[str]]] = {
    dt: frozenset({field}) for dt, field in SCALAR_FIELD.items()
}
SCALAR_FIELDS_ACCEPTED[DataType.UInt32] = frozenset({INT_VALUE, LONG_VALUE})

SCALAR_TYPES: Final = frozenset(SCALAR_FIELD)

# Array datatypes: the struct format of one little-endian element. BooleanArray and StringArray
# have encodings of their own (bit-packed with a count, NUL-terminated UTF-8).
ARRAY_ELEMENT_FORMAT: Final[dict[DataType, str]] = {
    DataType.Int8Array: "b",
    DataType.Int16Array: "h",
    DataType.Int32Array: "i",
    DataType.Int64Array: "q",
    DataType.UInt8Array: "B",
    DataType.UInt16Array: "H",
    DataType.UInt32Array: "I",
    DataType.UInt64Array: "Q",
    DataType.FloatArray: "f",
    DataType.DoubleArray: "d",
    DataType.DateTimeArray: "q",
}
ARRAY_TYPES: Final = frozenset(ARRAY_ELEMENT_FORMAT) | {DataType.BooleanArray, DataType.StringArray}

# The element datatype of each array datatype.
ARRAY_ELEMENT_TYPE: Final[dict[DataType, DataType]] = {
    DataType.Int8Array: DataType.Int8,
    DataType.Int16Array: DataType.Int16,
    DataType.Int32Array: DataType.Int32,
    DataType.Int64Array: DataType.Int64,
    DataType.UInt8Array: DataType.UInt8,
    DataType.UInt16Array: DataType.UInt16,
    DataType.UInt32Array: DataType.UInt32,
    DataType.UInt64Array: DataType.UInt64,
    DataType.FloatArray: DataType.Float,
    DataType.DoubleArray: DataType.Double,
    DataType.BooleanArray: DataType.Boolean,
    DataType.StringArray: DataType.String,
    DataType.DateTimeArray: DataType.DateTime,
}

# The Metric `oneof value` member each metric datatype is written to. PropertySet and
# PropertySetList are property datatypes only: a Metric has no field for them.
METRIC_VALUE_FIELD: Final[dict[DataType, str]] = {
    **SCALAR_FIELD,
    DataType.DataSet: DATASET_VALUE,
    DataType.Bytes: BYTES_VALUE,
    DataType.File: BYTES_VALUE,
    DataType.Template: TEMPLATE_VALUE,
    **dict.fromkeys(ARRAY_TYPES, BYTES_VALUE),
}

# The PropertyValue `oneof value` member each property datatype is written to.
PROPERTY_VALUE_FIELD: Final[dict[DataType, str]] = {
    **SCALAR_FIELD,
    DataType.PropertySet: PROPERTYSET_VALUE,
    DataType.PropertySetList: PROPERTYSETS_VALUE,
}

_BY_NUMBER: Final[dict[int, DataType]] = {int(dt): dt for dt in DataType}


def metric_value_field(datatype: DataType) -> str | None:
    """The Metric value member `datatype` is written to, or None (Unknown, property-only types)."""
    return METRIC_VALUE_FIELD.get(datatype)


def property_value_field(datatype: DataType) -> str | None:
    """The PropertyValue value member `datatype` is written to, or None if properties cannot hold it."""
    return PROPERTY_VALUE_FIELD.get(datatype)


def scalar_value_field(datatype: DataType) -> str | None:
    """The scalar member (DataSetValue, Template.Parameter) `datatype` is written to, or None."""
    return SCALAR_FIELD.get(datatype)


def datatype_from_number(number: int) -> DataType | None:
    """The DataType for a wire number, or None when the number is not one of the spec's."""
    return _BY_NUMBER.get(number)


def datatype_name(number: int) -> str:
    """The spec name of a datatype number, or `Unknown(<n>)` for numbers outside the spec."""
    dt = _BY_NUMBER.get(number)
    return dt.name if dt is not None else f"Unknown({number})"
