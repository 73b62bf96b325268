"""The bridge's counters, gauges and histograms, and their Prometheus text exposition (format 0.0.4)."""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

Labels = tuple[tuple[str, str], ...]
Sample = tuple[str, Labels, float]  # metric name (with _bucket/_sum/_count suffix), labels, value
Collector = Callable[[], Iterable[tuple[str, str, str, Iterable[tuple[Labels, float]]]]]

DEFAULT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def labels_of(**kw: str) -> Labels:
    return tuple(sorted(kw.items()))


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str) -> None:
        self.name = name
        self.help = help_text
        self._lock = threading.Lock()

    def samples(self) -> list[Sample]:
        raise NotImplementedError


class Counter(_Metric):
    """A value that only grows, per label set."""

    kind = "counter"

    def __init__(self, name: str, help_text: str) -> None:
        super().__init__(name, help_text)
        self._values: dict[Labels, float] = {}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        key = labels_of(**labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        return self._values.get(labels_of(**labels), 0.0)

    def total(self) -> float:
        with self._lock:
            return sum(self._values.values())

    def samples(self) -> list[Sample]:
        with self._lock:
            return [(self.name, k, v) for k, v in sorted(self._values.items())]


class Gauge(Counter):
    """A value that goes up and down, per label set."""

    kind = "gauge"

    def set(self, value: float, **labels: str) -> None:
        with self._lock:
            self._values[labels_of(**labels)] = value


class Histogram(_Metric):
    """Observations in cumulative buckets (seconds), per label set."""

    kind = "histogram"

    def __init__(self, name: str, help_text: str, buckets: Sequence[float] = DEFAULT_BUCKETS) -> None:
        super().__init__(name, help_text)
        self.buckets = tuple(sorted(buckets))
        self._data: dict[Labels, tuple[list[int], list[float]]] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = labels_of(**labels)
        with self._lock:
            counts, sums = self._data.setdefault(key, ([0] * (len(self.buckets) + 1), [0.0, 0.0]))
            counts[bisect.bisect_left(self.buckets, value)] += 1
            sums[0] += value
            sums[1] += 1

    def count(self, **labels: str) -> int:
        data = self._data.get(labels_of(**labels))
        return 0 if data is None else int(data[1][1])

    def samples(self) -> list[Sample]:
        out: list[Sample] = []
        with self._lock:
            for key, (counts, sums) in sorted(self._data.items()):
                running = 0
                for bound, n in zip((*self.buckets, math.inf), counts, strict=True):
                    running += n
                    out.append((f"{self.name}_bucket", (*key, ("le", _fmt(bound))), float(running)))
                out.append((f"{self.name}_sum", key, sums[0]))
                out.append((f"{self.name}_count", key, sums[1]))
        return out


class Registry:
    """Metrics owned by the bridge, plus collectors read at scrape time (host, outbox figures)."""

    def __init__(self) -> None:
        self._metrics: list[_Metric] = []
        self._collectors: list[Collector] = []

    def counter(self, name: str, help_text: str) -> Counter:
        m = Counter(name, help_text)
        self._metrics.append(m)
        return m

    def gauge(self, name: str, help_text: str) -> Gauge:
        m = Gauge(name, help_text)
        self._metrics.append(m)
        return m

    def histogram(self, name: str, help_text: str, buckets: Sequence[float] = DEFAULT_BUCKETS) -> Histogram:
        m = Histogram(name, help_text, buckets)
        self._metrics.append(m)
        return m

    def add_collector(self, collector: Collector) -> None:
        """collector() yields (name, type, help, [(labels, value)]) for figures owned elsewhere."""
        self._collectors.append(collector)

    def render(self) -> str:
        lines: list[str] = []
        for m in self._metrics:
            lines.append(f"# HELP {m.name} {_escape_help(m.help)}")
            lines.append(f"# TYPE {m.name} {m.kind}")
            lines.extend(_line(name, labels, value) for name, labels, value in m.samples())
        for collector in self._collectors:
            for name, kind, help_text, values in collector():
                lines.append(f"# HELP {name} {_escape_help(help_text)}")
                lines.append(f"# TYPE {name} {kind}")
                lines.extend(_line(name, labels, value) for labels, value in values)
        return "\n".join(lines) + "\n"

    def snapshot(self) -> dict[str, float]:
        """Plain figures for the _bridge/counters topic: name{labels} -> value (no histograms buckets)."""
        out: dict[str, float] = {}
        for m in self._metrics:
            for name, labels, value in m.samples():
                if name.endswith("_bucket"):
                    continue
                out[name + _labels_text(labels)] = value
        return out


def _fmt(v: float) -> str:
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if math.isnan(v):
        return "NaN"
    return repr(float(v)) if not float(v).is_integer() else str(int(v)) if abs(v) < 1e15 else repr(v)


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _escape_label(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels_text(labels: Labels) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels) + "}"


def _line(name: str, labels: Labels, value: float) -> str:
    return f"{name}{_labels_text(labels)} {_fmt(value)}"


class BridgeMetrics:
    """The bridge's own figures, by name (the collectors for host and outbox are added by the service)."""

    def __init__(self) -> None:
        r = self.registry = Registry()
        self.batches_in = r.counter("uns_ingest_batches_total", "Sparkplug messages with values taken in")
        self.samples_in = r.counter("uns_ingest_samples_total", "metric values taken in, by kind")
        self.unmapped = r.counter(
            "uns_ingest_unmapped_total", "metric values of metrics the plant model does not know"
        )
        self.bad_values = r.counter(
            "uns_ingest_bad_values_total", "values unusable for their tag (NaN, text in a number), by reason"
        )
        self.rejected_input = r.counter(
            "uns_rejected_input_total",
            "Sparkplug messages rejected by the host, by reason (kept with raw bytes)",
        )
        self.rejected_store_errors = r.counter(
            "uns_rejected_store_errors_total",
            "rejected messages that could not be written to rejected.sqlite3",
        )
        self.lifecycle = r.counter("uns_lifecycle_events_total", "births, deaths and disconnects, by type")
        self.queue_depth = r.gauge("uns_ingest_queue_depth", "items waiting for the bridge thread")
        self.windows_closed = r.counter("uns_windows_closed_total", "tumbling windows closed, by flow")
        self.window_close_s = r.histogram(
            "uns_window_close_seconds", "time to close a window and run its rules, by flow"
        )
        self.late_samples = r.counter("uns_window_late_samples_total", "samples older than the open window")
        self.counter_resets = r.counter("uns_counter_resets_total", "PLC counter resets detected, by tag")
        self.counter_rollovers = r.counter("uns_counter_rollovers_total", "PLC counter rollovers, by tag")
        self.events = r.counter("uns_erp_events_total", "ERP events by contract and delivery state")
        self.events_unattributed = r.counter(
            "uns_erp_unattributed_total", "quantities or finishes without an order to book them on, by rule"
        )
        self.unknown_states = r.counter(
            "uns_unknown_state_codes_total", "machine state codes not in the tag's state table"
        )
        self.commit_s = r.histogram(
            "uns_commit_seconds", "time to enqueue events and save rule state and checkpoints"
        )
        self.loop_errors = r.counter("uns_bridge_loop_errors_total", "unexpected errors in the bridge thread")
        self.sink_call_s = r.histogram(
            "uns_sink_call_seconds", "duration of one delivery call to the sink (Odoo), by sink and outcome"
        )
        self.mirror_published = r.counter(
            "uns_mirror_published_total", "_raw JSON messages published, by kind"
        )
        self.mirror_skipped = r.counter(
            "uns_mirror_rate_limited_total", "_raw updates held back by the rate limit"
        )
        self.status_published = r.counter("uns_status_published_total", "_erp events and status messages")


def host_outbox_collector(host: Any, outbox: Any) -> Collector:
    """Figures owned by the Sparkplug host (`stats()`) and the outbox (`stats()`), read at scrape time."""

    def collect() -> Iterable[tuple[str, str, str, Iterable[tuple[Labels, float]]]]:

        s = host.stats()
        none: Labels = ()
        yield (
            "uns_sparkplug_messages_total",
            "counter",
            "Sparkplug messages received",
            [(none, s["messages_in"])],
        )
        yield "uns_sparkplug_metrics_total", "counter", "metric values decoded", [(none, s["metrics_in"])]
        yield "uns_sparkplug_seq_gaps_total", "counter", "seq gaps (lost messages)", [(none, s["seq_gaps"])]
        yield (
            "uns_sparkplug_rebirths_requested_total", "counter", "rebirth requests sent",
            [(none, s["rebirths_requested"])],
        )  # fmt: skip
        yield (
            "uns_sparkplug_decode_errors_total", "counter", "messages rejected by the host, by reason",
            [(labels_of(reason=k), v) for k, v in sorted(s["rejected"].items())],
        )  # fmt: skip
        yield (
            "uns_sparkplug_data_compiled_total", "counter",
            "DATA messages read by the compiled reader (the other DATA took the Python path)",
            [(none, s["data_compiled"])],
        )  # fmt: skip
        yield (
            "uns_sparkplug_data_reader_errors_total", "counter",
            "compiled reader failures (a bug; each such message was read in Python)",
            [(none, s["data_reader_errors"])],
        )  # fmt: skip
        yield "uns_sparkplug_nodes_online", "gauge", "edge nodes online", [(none, s["nodes_online"])]
        yield (
            "uns_sparkplug_connected",
            "gauge",
            "1 when the host is connected",
            [(none, float(s["connected"]))],
        )
        try:
            o = outbox.stats()
        except Exception:
            return
        yield "uns_outbox_depth", "gauge", "events waiting for delivery", [(none, o.depth)]
        yield (
            "uns_outbox_oldest_age_seconds", "gauge", "age of the oldest undelivered event",
            [(none, o.oldest_pending_age_s or 0.0)],
        )  # fmt: skip
        yield "uns_outbox_dead_letters", "gauge", "events parked as dead letters", [(none, o.dead_letters)]
        yield "uns_outbox_backing_off", "gauge", "events waiting after a failed try", [(none, o.backing_off)]
        c = o.counters
        yield (
            "uns_outbox_outcomes_total", "counter", "delivery outcomes since start",
            [
                (labels_of(outcome="delivered"), c.delivered),
                (labels_of(outcome="retry"), c.retries),
                (labels_of(outcome="dead"), c.dead),
                (labels_of(outcome="duplicate"), c.duplicates),
            ],
        )  # fmt: skip
        yield (
            "uns_outbox_pending", "gauge", "undelivered events by contract",
            [(labels_of(contract=k), v) for k, v in sorted(o.pending_by_contract.items())],
        )  # fmt: skip

    return collect
