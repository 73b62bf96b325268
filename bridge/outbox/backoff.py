"""Exponential backoff with full jitter for the outbox's retries of transient delivery failures."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before the next try: uniform in [0, min(cap, base * 2**attempts)] ("full jitter").

    Full jitter spreads the retries of many keys that failed together (Odoo restarted) so they do
    not hit the recovering server in one burst; the cap bounds how stale a key can get once the
    target is back.
    """

    base_s: float = 1.0
    cap_s: float = 300.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.base_s < 0 or self.cap_s < 0:
            raise ValueError(f"backoff base and cap must be >= 0, got base={self.base_s} cap={self.cap_s}")

    def ceiling_s(self, attempts: int) -> float:
        """The upper bound of the delay after `attempts` failed tries (attempts >= 1)."""
        # Cap the exponent first so that a key failing for days does not overflow the float.
        exponent = min(max(attempts - 1, 0), 62)
        return float(min(self.cap_s, self.base_s * (2.0**exponent)))

    def delay_s(self, attempts: int) -> float:
        """A jittered delay after `attempts` failed tries."""
        return self.rng.uniform(0.0, self.ceiling_s(attempts))
