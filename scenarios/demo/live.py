"""The demo's live terminal view (rich): tags per second, windows, events by type and state, outbox,
orders and holds in the namespace, Odoo records created, the plant's clock and the last errors."""

from __future__ import annotations

import contextlib
import time
from collections import deque
from pathlib import Path

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from odoo_sync.client import OdooClient
from odoo_sync.errors import OdooError
from scenarios.demo.compare import Comparison
from scenarios.demo.probe import Namespace, labelled, metrics, odoo_counts


class LiveState:
    """Polled by the view at each refresh; everything it shows comes from the running parts."""

    def __init__(self, metrics_port: int, ns: Namespace, odoo: OdooClient | None, logs: Path) -> None:
        self.metrics_port = metrics_port
        self.ns = ns
        self.odoo = odoo
        self.logs = logs
        self._last: tuple[float, float] | None = None
        self.rate = 0.0
        self.odoo_counts: dict[str, int] = {}
        self._odoo_at = 0.0

    def errors(self, n: int = 5) -> list[str]:
        """The last ERROR / Traceback lines of the processes' logs."""
        found: deque[str] = deque(maxlen=n)
        for path in sorted(self.logs.glob("*.log")):
            try:
                lines = path.read_text(errors="replace").splitlines()[-400:]
            except OSError:
                continue
            for line in lines:
                if " ERROR " in line or "Traceback" in line or " CRITICAL " in line:
                    found.append(f"{path.stem}: {line[-140:]}")
        return list(found)

    def render(self, plant: dict[str, object], scenario: str) -> Group:
        m = metrics(self.metrics_port)
        now = time.monotonic()
        samples = m.get("uns_ingest_samples_total", 0.0)
        if self._last is not None and now > self._last[0]:
            self.rate = (samples - self._last[1]) / (now - self._last[0])
        self._last = (now, samples)
        if self.odoo is not None and now - self._odoo_at > 2.0:
            with contextlib.suppress(OdooError):
                self.odoo_counts = odoo_counts(self.odoo)
            self._odoo_at = now

        head = Table.grid(padding=(0, 2))
        sim_s = float(plant.get("sim_s", 0.0) or 0.0)  # type: ignore[arg-type]
        head.add_row(
            f"[b]{scenario}[/b] plant: {plant.get('phase', 'starting')}",
            f"sim time {int(sim_s // 3600)}h{int(sim_s % 3600 // 60):02d}",
            f"tags/s {self.rate:,.0f}",
            f"windows closed {m.get('uns_windows_closed_total', 0):.0f}",
            f"outbox depth {m.get('uns_outbox_depth', 0):.0f}",
            f"dead letters {m.get('uns_outbox_dead_letters', 0):.0f}",
        )
        events = Table(title="ERP events (bridge)", expand=True)
        events.add_column("contract")
        events.add_column("state / count", justify="right")
        by: dict[str, dict[str, float]] = {}
        for key, value in m.items():
            if key.startswith("uns_erp_events_total{"):
                contract = labelled({key: value}, "uns_erp_events_total", "contract")
                state = labelled({key: value}, "uns_erp_events_total", "state")
                for c in contract:
                    for s in state or {"": 0.0}:
                        by.setdefault(c, {})[s] = by.get(c, {}).get(s, 0.0) + value
        for name in sorted(by):
            events.add_row(name, "  ".join(f"{s} {v:.0f}" for s, v in sorted(by[name].items())))
        erp = Table(title="namespace _erp (retained)", expand=True)
        erp.add_column("topic")
        erp.add_column("what")
        for topic, payload in sorted(self.ns.under("/_erp/").items())[:12]:
            what = payload.get("contract", "")
            if "quantity" in payload:
                what += f" {payload.get('quantity_produced', 0):g}/{payload['quantity']:g}"
            erp.add_row(topic.split("/_erp/", 1)[1], str(what))
        odoo = Table(title="Odoo records", expand=True)
        odoo.add_column("records")
        odoo.add_column("count", justify="right")
        for label, count in self.odoo_counts.items():
            odoo.add_row(label, str(count))
        grid = Table.grid(expand=True)
        grid.add_row(events, erp, odoo)
        errors = self.errors()
        return Group(
            Panel(head, title="uns demo  (Ctrl-C stops everything)"),
            grid,
            Panel(
                "\n".join(errors) or "none", title="last errors in the logs", style="red" if errors else "dim"
            ),
        )


def summary_table(c: Comparison) -> Table:
    t = Table(title="Odoo against the simulation's ground truth")
    t.add_column("check")
    t.add_column("Odoo", justify="right")
    t.add_column("truth", justify="right")
    t.add_column("")
    for r in c.rows:
        t.add_row(r.what, r.odoo, r.truth, "[green]equal[/]" if r.ok else "[red]DIFFERENT[/]")
    return t
