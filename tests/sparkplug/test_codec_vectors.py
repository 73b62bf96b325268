"""Golden byte vectors built by hand from the wire format: decode, re-encode byte for byte, JSON view."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pytest

from sparkplug.codec import decode_payload, encode_payload, metric_value, parse_payload
from sparkplug.datatypes import DataType
from sparkplug.json_view import payload_to_jsonable
from sparkplug.proto import pb
from tests.sparkplug.vectors.build_vectors import VECTORS

HERE = Path(__file__).parent / "vectors"
NAMES = sorted(VECTORS)
TYPED = [n for n in NAMES if n != "ddata_aliases"]  # the alias-only DDATA has no datatypes to encode by


@pytest.mark.parametrize("name", NAMES)
def test_committed_bytes_match_the_hand_built_wire_format(name: str) -> None:
    data, expected = VECTORS[name]()
    assert (HERE / f"{name}.bin").read_bytes() == data
    assert json.loads((HERE / f"{name}.json").read_text()) == expected


@pytest.mark.parametrize("name", NAMES)
def test_decode_matches_expected_json(name: str) -> None:
    data = (HERE / f"{name}.bin").read_bytes()
    expected = json.loads((HERE / f"{name}.json").read_text())
    assert payload_to_jsonable(decode_payload(data)) == expected


@pytest.mark.parametrize("name", TYPED)
def test_reencode_is_byte_identical(name: str) -> None:
    data = (HERE / f"{name}.bin").read_bytes()
    assert encode_payload(decode_payload(data)) == data


def test_alias_only_data_decodes_with_birth_datatypes() -> None:
    data = (HERE / "ddata_aliases.bin").read_bytes()
    birth = {2: DataType.Int8, 3: DataType.Float, 4: DataType.String}
    p = decode_payload(data, datatypes=birth)
    assert [(m.alias, m.datatype, m.value) for m in p.metrics] == [
        (2, DataType.Int8, -1),
        (3, DataType.Float, -3.5),
        (4, DataType.String, "RUNNING"),
    ]
    assert encode_payload(p, include_datatypes=False) == data


def test_generated_module_uses_the_spec_descriptor_names() -> None:
    # Peers (Tahu Java/JS, C) resolve messages by these full names.
    assert pb.Payload.DESCRIPTOR.full_name == "org.eclipse.tahu.protobuf.Payload"
    assert pb.Payload.Metric.DESCRIPTOR.full_name == "org.eclipse.tahu.protobuf.Payload.Metric"
    assert pb.DataType.Value("DateTimeArray") == 34


def test_spec_int32_array_example() -> None:
    # Spec, Array Types: Int32Array [123456789, 987654321] -> bytes_value 15 CD 5B 07 B1 68 DE 3A.
    m = pb.Payload.Metric(
        name="a", datatype=DataType.Int32Array, bytes_value=bytes.fromhex("15CD5B07B168DE3A")
    )
    p = parse_payload(pb.Payload(metrics=[m]).SerializeToString())
    assert metric_value(p.metrics[0]) == [123456789, 987654321]


def test_committed_module_is_generated_from_the_committed_proto(tmp_path: Path) -> None:
    # Catches an edit of sparkplug_b.proto without `make proto` (or the reverse).
    from google.protobuf import descriptor_pb2
    from grpc_tools import protoc  # type: ignore[import-untyped]

    proto_dir = Path(pb.__file__).parent
    out = tmp_path / "set.pb"
    rc = protoc.main(["protoc", f"-I{proto_dir}", f"--descriptor_set_out={out}", "sparkplug_b.proto"])
    assert rc == 0
    compiled = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()).file[0]

    def strip_json_names(messages: Iterable[descriptor_pb2.DescriptorProto]) -> None:
        # protoc fills json_name in descriptor sets; the generated module leaves it out.
        for m in messages:
            for f in m.field:
                f.ClearField("json_name")
            strip_json_names(m.nested_type)

    strip_json_names(compiled.message_type)
    committed = descriptor_pb2.FileDescriptorProto.FromString(pb.DESCRIPTOR.serialized_pb)
    assert compiled == committed
