"""The UNS vocabulary: ISA-95 plant model, topic grammar, versioned contracts, integration catalog (no I/O)."""
