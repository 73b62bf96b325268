"""The generated Sparkplug B protobuf module (from sparkplug_b.proto, regenerate with `make proto`)."""

from sparkplug.proto import sparkplug_b_pb2 as pb

__all__ = ["pb"]
