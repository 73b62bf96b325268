"""Golden Sparkplug B payloads built byte by byte from the wire format (see build_vectors.py)."""
