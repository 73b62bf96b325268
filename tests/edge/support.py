"""Test support: an asyncio loop in a thread (servers and gateway live there), Sparkplug message views."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine
from typing import Any

from edge.gateway import Gateway, find_edge_node
from sparkplug.codec import metric_value
from tests.conformance.wire import WAIT, Seen
from uns_model import PlantResolver, parse_plant


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LoopThread:
    """One asyncio loop on a daemon thread; run() executes a coroutine there and waits for its result."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = WAIT) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        async def cancel_rest() -> None:
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in rest:
                t.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        self.run(cancel_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


class RunningGateway:
    """A Gateway for one edge node of a plant (YAML text), running on a LoopThread until stop()."""

    def __init__(
        self, lt: LoopThread, plant_yaml: str, edge_node_id: str, broker_url: str, **kw: Any
    ) -> None:
        self.lt = lt
        resolver = PlantResolver(parse_plant(plant_yaml))
        self.gateway = Gateway(resolver, find_edge_node(resolver, edge_node_id), broker_url, **kw)

        async def start() -> tuple[asyncio.Event, asyncio.Task[None]]:
            stop = asyncio.Event()
            return stop, asyncio.create_task(self.gateway.run(stop))

        self._stop, self._task = lt.run(start())

    def stop(self) -> None:
        async def stop() -> None:
            self._stop.set()
            await self._task

        self.lt.run(stop(), timeout=15)


class Births:
    """Metric names by alias from the births seen, to read DATA messages by name."""

    def __init__(self) -> None:
        self.names: dict[tuple[str, int], tuple[str, int]] = {}

    def birth(self, msg: Seen) -> dict[str, Any]:
        """{name: (value, timestamp)} of a DBIRTH; remembers its aliases."""
        out = {}
        device = msg.topic.rsplit("/", 1)[1]
        for m in msg.pb().metrics:
            self.names[(device, m.alias)] = (m.name, m.datatype)
            out[m.name] = (None if m.is_null else metric_value(m), m.timestamp)
        return out

    def data(self, msg: Seen) -> dict[str, Any]:
        """{name: (value, timestamp)} of a DDATA."""
        device = msg.topic.rsplit("/", 1)[1]
        out = {}
        for m in msg.pb().metrics:
            name, datatype = self.names[(device, m.alias)]
            out[name] = (None if m.is_null else metric_value(m, datatype), m.timestamp)
        return out
