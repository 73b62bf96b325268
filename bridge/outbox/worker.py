"""The outbox as the bridge uses it: durable enqueue, and a worker thread that delivers to a sink."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from bridge.outbox import admin
from bridge.outbox.backoff import Backoff
from bridge.outbox.hooks import DeliveryUpdate, StateHook, UpdateHook
from bridge.outbox.schema import Synchronous
from bridge.outbox.stats import OutboxCounters, OutboxStats, read_stats
from bridge.outbox.store import ClaimedEvent, OutboxStore
from uns_model.delivery import (
    DeliveryReceipt,
    EventSink,
    OutboundEvent,
    PermanentDeliveryError,
    PublishedDeliveryState,
    TransientDeliveryError,
)

log = logging.getLogger(__name__)

DAY_MS = 86_400_000


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class OutboxBusyError(RuntimeError):
    """Another worker (another bridge process) already delivers from this outbox file."""


class Outbox:
    """A durable outbox on a SQLite file, delivering to one sink in order per ordering key.

    - `enqueue()` commits events (fsynced with synchronous=FULL) before it returns: acknowledge the
      source window only after it. An event_id already held is a no-op.
    - The worker delivers each key's oldest undelivered event first; a key whose event failed
      transiently waits (backoff with full jitter) while other keys go on. A permanent failure parks
      the event as a dead letter and the key's later events go on: one bad event must not stop a
      work center's stream, and the operator can retry it (`uns outbox retry ID`).
    - A confirmed event is never picked again. An event in flight when the process died is
      delivered again at the next start: at least once towards the sink, exactly once at the
      target because sinks are idempotent by event id.
    """

    def __init__(
        self,
        path: Path | str,
        sink: EventSink,
        *,
        backoff: Backoff | None = None,
        on_state: StateHook | None = None,
        on_update: UpdateHook | None = None,
        batch_size: int = 64,
        idle_poll_s: float = 1.0,
        retention_days: float | None = 30.0,
        prune_every_s: float = 3600.0,
        max_attempts: int | None = None,
        synchronous: Synchronous = "FULL",
        busy_timeout_ms: int = 10_000,
        clock_ms: Callable[[], int] = wall_clock_ms,
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.store = OutboxStore(path, synchronous=synchronous, busy_timeout_ms=busy_timeout_ms)
        self.sink = sink
        self.backoff = backoff or Backoff()
        self._on_state = on_state
        self._on_update = on_update
        self._emit_lock = threading.RLock()
        self._batch_size = batch_size
        self._idle_poll_s = idle_poll_s
        self._retention_days = retention_days
        self._prune_every_s = prune_every_s
        # None: retry transient failures for ever (Odoo down for a weekend must not dead-letter
        # the weekend's production); a number: park as dead after that many tries.
        self._max_attempts = max_attempts
        self._clock = clock_ms
        self._counters = OutboxCounters()
        self._counters_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock_file: IO[str] | None = None

    @property
    def path(self) -> Path:
        return self.store.path

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- producer ----------------------------------------------------------------------------------

    def enqueue(self, events: Iterable[OutboundEvent]) -> int:
        """Commit events durably in one transaction; returns how many were new."""
        # Held from before the commit until the "queued" states are out: the worker, which may
        # deliver these events the moment they are committed, publishes under the same lock, so
        # a "delivered" can never go out before its "queued".
        with self._emit_lock:
            return self._enqueue(events)

    def _enqueue(self, events: Iterable[OutboundEvent]) -> int:
        result = self.store.enqueue(events, self._clock())
        with self._counters_lock:
            c = self._counters
            c.enqueued += len(result.inserted)
            c.duplicates += result.duplicates
            c.conflicts += len(result.conflicts)
            c.rejected += len(result.rejected)
        for event_id in result.conflicts:
            log.warning(
                "outbox: event %s enqueued again with a different body; the first one is kept"
                " (an event id should follow from the facts alone)",
                event_id,
            )
        for ev, reason in result.rejected:
            log.error(
                "outbox: event %s (%s) parked as dead letter at enqueue: %s", ev.event_id, ev.contract, reason
            )
            self._emit(ev, "dead", 0, reason=reason)
        for ev in result.inserted:
            self._emit(ev, "queued", 0)
        if result.inserted:
            self._wake.set()
        return len(result.inserted)

    # -- worker ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the delivery worker (one per outbox file: a second one raises OutboxBusyError)."""
        if self._thread is not None:
            raise RuntimeError("outbox worker already started")
        self._take_worker_lock()
        recovered = self.store.recover_in_flight(self._clock())
        if recovered:
            log.warning(
                "outbox %s: %d event(s) were in flight at the last stop; delivering again",
                self.path,
                recovered,
            )
            with self._counters_lock:
                self._counters.recovered += recovered
        self._thread = threading.Thread(target=self._run, name=f"outbox-{self.sink.name}", daemon=True)
        self._thread.start()

    def _take_worker_lock(self) -> None:
        # An advisory lock next to the file: two workers would break the order per key. The kernel
        # drops it when the process dies, however it dies.
        lock_path = self.path.with_name(self.path.name + ".worker-lock")
        f = open(lock_path, "a+")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "?"
            f.close()
            raise OutboxBusyError(
                f"outbox {self.path} is already delivered by another process (pid {holder})"
            ) from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        self._lock_file = f

    def wake(self) -> None:
        """Look at the queue now (after a retry or replay made by another handle on the file)."""
        self._wake.set()

    def _run(self) -> None:
        last_prune: float | None = None  # prune once at start, then every prune_every_s
        unsettled = False
        while not self._stop.is_set():
            self._wake.clear()
            try:
                if unsettled:
                    # Events claimed before the error are still marked in flight (held): hand
                    # them back, or their keys would wait for the next restart. The sink may
                    # have taken some; it is idempotent by event id, so sending again is safe.
                    n = self.store.recover_in_flight(self._clock())
                    unsettled = False
                    if n:
                        log.warning("outbox %s: %d claimed event(s) handed back after an error", self.path, n)
                if self._retention_days is not None and (
                    last_prune is None or time.monotonic() - last_prune >= self._prune_every_s
                ):
                    last_prune = time.monotonic()
                    self.prune()
                batch = self.store.claim(self._clock(), self._batch_size)
                if batch:
                    self._deliver_batch(batch)
                    continue
                due = self.store.next_due_ms(self._clock())
            except Exception:
                # The file itself failed (disk full, locked by a long operator transaction): the
                # events are safe where they are; pause and try again.
                unsettled = True
                log.exception("outbox %s: worker error; retrying in %.1f s", self.path, self._idle_poll_s)
                with self._counters_lock:
                    self._counters.worker_errors += 1
                self._stop.wait(self._idle_poll_s)
                continue
            timeout = self._idle_poll_s
            if due is not None:
                timeout = max(0.0, min(timeout, (due - self._clock()) / 1000))
            self._wake.wait(timeout)

    def _deliver_batch(self, batch: list[ClaimedEvent]) -> None:
        stopped_keys: set[str] = set()
        for i, claimed in enumerate(batch):
            if self._stop.is_set():
                self.store.release((c.seq for c in batch[i:]), self._clock())
                return
            if claimed.event.ordering_key in stopped_keys:
                # An earlier event of this key failed in this batch: this one waits behind it.
                self.store.release([claimed.seq], self._clock())
                continue
            if not self._deliver_one(claimed):
                stopped_keys.add(claimed.event.ordering_key)

    def _deliver_one(self, claimed: ClaimedEvent) -> bool:
        """Deliver one event and record the outcome; False when its key must wait (retrying)."""
        ev, attempts = claimed.event, claimed.attempts + 1
        try:
            receipt = self.sink.deliver(ev)
            if receipt.event_id != ev.event_id:
                raise TransientDeliveryError(f"sink returned a receipt for {receipt.event_id!r}")
        except PermanentDeliveryError as exc:
            self._park(claimed, attempts, exc.reason, exc.remote_error)
            return True
        except Exception as exc:  # TransientDeliveryError, and any failure the sink did not classify
            error = f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, TransientDeliveryError):
                log.warning(
                    "outbox: sink %s raised an unclassified error, retried", self.sink.name, exc_info=True
                )
            if self._max_attempts is not None and attempts >= self._max_attempts:
                self._park(claimed, attempts, f"gave up after {attempts} tries: {error}", None)
                return True
            delay_ms = int(self.backoff.delay_s(attempts) * 1000)
            next_at = self._clock() + delay_ms
            self.store.mark_retry(claimed.seq, attempts, next_at, error)
            log.warning(
                "outbox: %s (%s, key %s) try %d failed, next in %.1f s: %s",
                ev.event_id,
                ev.contract,
                ev.ordering_key,
                attempts,
                delay_ms / 1000,
                error,
            )
            with self._counters_lock:
                self._counters.retries += 1
            self._emit(ev, "retrying", attempts, reason=error, next_attempt_unix_ms=next_at)
            return False
        self.store.mark_delivered(claimed.seq, receipt, self._clock())
        with self._counters_lock:
            self._counters.delivered += 1
        self._emit(ev, "delivered", attempts, receipt=receipt)
        return True

    def _park(self, claimed: ClaimedEvent, attempts: int, reason: str, remote_error: str | None) -> None:
        ev = claimed.event
        self.store.park(claimed.seq, attempts, reason, remote_error, self._clock())
        log.error(
            "outbox: %s (%s, key %s) parked as dead letter: %s%s",
            ev.event_id,
            ev.contract,
            ev.ordering_key,
            reason,
            f" (remote: {remote_error})" if remote_error else "",
        )
        with self._counters_lock:
            self._counters.dead += 1
        self._emit(ev, "dead", attempts, reason=reason, remote_error=remote_error)

    def _emit(
        self,
        ev: OutboundEvent,
        state: PublishedDeliveryState,
        attempts: int,
        *,
        receipt: DeliveryReceipt | None = None,
        reason: str | None = None,
        remote_error: str | None = None,
        next_attempt_unix_ms: int | None = None,
    ) -> None:
        with self._emit_lock:
            if self._on_state is not None:
                detail = receipt if state == "delivered" else reason
                self._safely(ev, state, self._on_state, ev.event_id, ev.contract, state, detail)
            if self._on_update is not None:
                update = DeliveryUpdate(
                    event=ev,
                    state=state,
                    attempts=attempts,
                    updated_unix_ms=self._clock(),
                    receipt=receipt,
                    reason=reason,
                    remote_error=remote_error,
                    next_attempt_unix_ms=next_attempt_unix_ms,
                )
                self._safely(ev, state, self._on_update, update)

    def _safely(self, ev: OutboundEvent, state: str, hook: Callable[..., None], *args: Any) -> None:
        try:
            hook(*args)
        except Exception:
            # The hooks publish for people to watch; their failure must not touch delivery.
            log.exception("outbox: state hook failed for %s (%s)", ev.event_id, state)
            with self._counters_lock:
                self._counters.hook_errors += 1

    # -- operators and housekeeping ----------------------------------------------------------------

    def retry(self, event_id: str) -> None:
        """Put a dead event back in the queue (raises admin.OutboxError if it is not dead)."""
        admin.retry(self.store, event_id, self._clock())
        ev = self.store.get(event_id)
        if ev is not None:
            self._emit(ev, "queued", 0)
        self._wake.set()

    def replay(self, since_unix_ms: int) -> int:
        """Queue again the delivered and dead events created since the time; returns how many.
        (No "queued" state is published per replayed event: a replay may cover thousands.)"""
        n = admin.replay(self.store, since_unix_ms, self._clock())
        self._wake.set()
        return n

    def prune(self) -> int:
        """Delete delivered events older than the retention; returns how many."""
        if self._retention_days is None:
            return 0
        n = self.store.prune_delivered(self._clock() - int(self._retention_days * DAY_MS))
        if n:
            log.info(
                "outbox %s: pruned %d delivered event(s) older than %g days",
                self.path,
                n,
                self._retention_days,
            )
            with self._counters_lock:
                self._counters.pruned += n
        return n

    def status(self) -> admin.OutboxStatus:
        """Full figures from the file (reads every row: for operators, not for a tight loop)."""
        return admin.status(self.store, self._clock())

    def stats(self) -> OutboxStats:
        """Depth, age, dead letters and this process's counters: cheap enough to publish often."""
        with self._counters_lock:
            counters = OutboxCounters(**asdict(self._counters))
        return read_stats(self.store, self._clock(), counters)

    def close(self, timeout_s: float = 30.0) -> None:
        """Stop the worker once its current delivery is settled, then fold the WAL into the file."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                # The sink hangs. Its event stays in flight in the file and is delivered again at
                # the next start; closing the file under the worker would only add errors.
                log.error(
                    "outbox %s: worker still in sink.deliver after %.0f s; leaving it", self.path, timeout_s
                )
                return
        self.store.close()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None
