"""A benchmark figure with the baseline it was measured against in the same run; printing and JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Figure:
    """value / baseline_value = ratio; both in `unit`, both measured in this run."""

    name: str
    value: float
    unit: str
    baseline_name: str
    baseline_value: float
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline_value if self.baseline_value else 0.0

    def as_json(self) -> dict[str, object]:
        d = asdict(self)
        d["value"] = round(self.value, 1)
        d["baseline_value"] = round(self.baseline_value, 1)
        d["ratio"] = round(self.ratio, 3)
        if not self.note:
            d.pop("note")
        return d

    def line(self) -> str:
        note = f"  ({self.note})" if self.note else ""
        return (
            f"{self.name:<34} {self.value:>13,.0f} {self.unit:<10} "
            f"vs {self.baseline_name:<34} {self.baseline_value:>13,.0f}  = {self.ratio:6.1%}{note}"
        )


def write(figures: list[Figure], path: Path) -> None:
    path.write_text(json.dumps([f.as_json() for f in figures], indent=2) + "\n")
