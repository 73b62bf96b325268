"""Sparkplug B 3.0: protobuf codec, topic grammar, EdgeNode and HostApplication sessions."""
