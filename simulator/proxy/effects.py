"""What each toxic does to a running connection.

A toxic added to a proxy becomes an ``ActiveToxic``; on every connection it is attached to the
link (direction) named by its ``stream`` as a ``Stub``. When the stub is created (connection opened,
or toxic added to a live connection) the toxic's ``toxicity`` is drawn once from the toxic's seeded
RNG: the stub either applies for the connection's life or never does (as Toxiproxy does).

A link passes each chunk of data through its applicable stubs in the order the toxics were added;
each effect may delay, slice, hold, truncate or drop the data and may close or reset the connection.
When a toxic is removed, every wait it caused ends at once and held data flows on (Toxiproxy: "don't
drop any data on the floor"). When it is updated, waits in progress are re-evaluated against the new
attributes (a longer latency extends the wait of data already in flight), timers restart, and a
changed toxicity is redrawn for every existing connection.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from simulator.proxy.toxics import (
    BandwidthAttributes,
    LatencyAttributes,
    LimitDataAttributes,
    SlicerAttributes,
    TimeoutAttributes,
    ToxicSpec,
)

Emit = Callable[[bytes, float], Awaitable[None]]

# The toxics' clock: data is time-stamped with it when read, and deadlines are kept on it. It is what asyncio's
# loop.time() reads; uvloop's loop.time() has 1 ms resolution, which would let a latency end up to 1 ms early.
now = time.monotonic


class ConnectionOps(Protocol):
    closed: bool

    def close(self) -> None: ...

    def reset(self) -> None: ...


class ActiveToxic:
    """A toxic installed on a proxy: its spec (replaced on update), RNG and change signal."""

    def __init__(self, spec: ToxicSpec, rng: random.Random):
        self.spec = spec
        self.rng = rng
        self.removed = False
        self._changed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def draw(self) -> bool:
        """Does the toxic apply to one more connection? (toxicity 0 never, 1 always)"""
        toxicity = self.spec.toxicity
        if toxicity >= 1.0:
            return True
        if toxicity <= 0.0:
            return False
        return self.rng.random() < toxicity

    def changed(self) -> None:
        """Wake every wait this toxic caused, so it is re-evaluated (spec updated or toxic removed)."""
        fired = self._changed
        if not self.removed:
            self._changed = asyncio.get_running_loop().create_future()
        if not fired.done():
            fired.set_result(None)

    def remove(self) -> None:
        self.removed = True
        self.changed()


class Stub:
    """One toxic on one direction of one connection."""

    __slots__ = ("toxic", "conn", "applies", "state", "timer")

    def __init__(self, toxic: ActiveToxic, conn: ConnectionOps, applies: bool):
        self.toxic = toxic
        self.conn = conn
        self.applies = applies
        self.state: dict[str, Any] = {}
        self.timer: asyncio.TimerHandle | None = None

    @property
    def live(self) -> bool:
        """Still applies to this connection (not removed, toxicity not redrawn away)."""
        return self.applies and not self.toxic.removed

    async def sleep(self, delay: float) -> bool:
        """Sleep ``delay`` seconds (``inf``: until woken). False if woken early by a change of the toxic."""
        if not self.live:
            return False
        if delay <= 0:
            return True
        changed = self.toxic._changed
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()

        def wake(_: object = None) -> None:
            if not waiter.done():
                waiter.set_result(None)

        handle = loop.call_later(delay, wake) if delay != float("inf") else None
        changed.add_done_callback(wake)
        try:
            await waiter
        finally:
            if handle is not None:
                handle.cancel()
            changed.remove_done_callback(wake)
        return not changed.done()

    async def sleep_until(self, deadline: Callable[[], float]) -> bool:
        """Sleep until ``deadline()`` (``now()`` time, re-read after every change and after the timer: a
        timer may fire early by its loop's resolution). False if no longer live."""
        while self.live:
            wait = deadline() - now()
            if wait <= 0:
                return True
            await self.sleep(wait)
        return False


class Effect:
    """Default: pass data and close through untouched."""

    def attach(self, stub: Stub) -> None:
        """The stub starts applying to a connection (timers start here)."""

    def detach(self, stub: Stub) -> None:
        if stub.timer is not None:
            stub.timer.cancel()
            stub.timer = None

    async def on_chunk(self, stub: Stub, data: bytes, ts: float, emit: Emit) -> None:
        await emit(data, ts)

    async def on_eof(self, stub: Stub) -> None:
        """The source closed its side; return when the close may be passed on."""


def _attrs(stub: Stub) -> Any:
    return stub.toxic.spec.attributes


class Latency(Effect):
    """Each chunk leaves ``latency`` (+/- ``jitter``) ms after it was read; chunks stay in order."""

    async def on_chunk(self, stub: Stub, data: bytes, ts: float, emit: Emit) -> None:
        spread = stub.toxic.rng.uniform(-1.0, 1.0) if _attrs(stub).jitter else 0.0

        def due() -> float:
            attrs: LatencyAttributes = _attrs(stub)
            return ts + max(0.0, attrs.latency + spread * attrs.jitter) / 1000.0

        await stub.sleep_until(due)
        await emit(data, ts)


class Bandwidth(Effect):
    """Pace the stream to ``rate`` KB/s, sending at most 100 ms worth of data at a time."""

    async def on_chunk(self, stub: Stub, data: bytes, ts: float, emit: Emit) -> None:
        pos = 0
        while pos < len(data):
            attrs: BandwidthAttributes = _attrs(stub)
            rate = attrs.rate * 1000.0  # bytes per second
            part = data[pos : pos + max(1, int(rate / 10))]
            t = now()
            due = max(t, stub.state.get("next", t)) + len(part) / rate
            if not await stub.sleep(due - t):
                if not stub.live:
                    await emit(data[pos:], ts)  # removed: don't drop any data on the floor
                    return
                continue  # rate changed: pace this part at the new rate
            stub.state["next"] = due
            await emit(part, ts)
            pos += len(part)


class Slicer(Effect):
    """Cut each chunk into ``average_size`` +/- ``size_variation`` byte pieces, ``delay`` µs apart."""

    async def on_chunk(self, stub: Stub, data: bytes, ts: float, emit: Emit) -> None:
        rng = stub.toxic.rng
        pos = 0
        while pos < len(data):
            attrs: SlicerAttributes = _attrs(stub)
            if not stub.live:
                await emit(data[pos:], ts)
                return
            size = attrs.average_size
            if attrs.size_variation:
                size += rng.randint(-attrs.size_variation, attrs.size_variation)
            part = data[pos : pos + max(1, size)]
            pos += len(part)
            await emit(part, ts)
            if pos < len(data) and attrs.delay:
                await stub.sleep(attrs.delay / 1e6)


class LimitData(Effect):
    """Pass ``bytes`` bytes in this direction, then close the connection."""

    async def on_chunk(self, stub: Stub, data: bytes, ts: float, emit: Emit) -> None:
        attrs: LimitDataAttributes = _attrs(stub)
        sent = stub.state.get("sent", 0)
        part = data[: max(0, attrs.bytes - sent)]
        if part:
            await emit(part, ts)
            stub.state["sent"] = sent + len(part)
        if stub.state.get("sent", 0) >= attrs.bytes:
            stub.conn.close()


class Timeout(Effect):
    """Hold all data; with ``timeout`` > 0 close the connection that many ms after the toxic applies.

    Toxiproxy drops the data; we hold it (bounded by TCP back-pressure) so that removing a
    ``timeout: 0`` toxic lets the held data flow, as the Toxiproxy README describes.
    """

    def attach(self, stub: Stub) -> None:
        attrs: TimeoutAttributes = _attrs(stub)
        if attrs.timeout > 0:
            stub.timer = asyncio.get_running_loop().call_later(attrs.timeout / 1000.0, stub.conn.close)

    async def on_chunk(self, stub: Stub, data: bytes, ts: float, emit: Emit) -> None:
        while stub.live:
            await stub.sleep(float("inf"))
        await emit(data, ts)


class ResetPeer(Effect):
    """``timeout`` ms after the first data in the stream, reset both sides (SO_LINGER 0: TCP RST)."""

    async def on_chunk(self, stub: Stub, data: bytes, ts: float, emit: Emit) -> None:
        start = stub.state.setdefault("first_data", now())
        if await stub.sleep_until(lambda: start + _attrs(stub).timeout / 1000.0):
            stub.conn.reset()
            return
        await emit(data, ts)


class SlowClose(Effect):
    """Pass the close on ``delay`` ms after the source closed."""

    async def on_eof(self, stub: Stub) -> None:
        start = now()
        await stub.sleep_until(lambda: start + _attrs(stub).delay / 1000.0)


EFFECTS: dict[str, Effect] = {
    "latency": Latency(),
    "bandwidth": Bandwidth(),
    "slicer": Slicer(),
    "limit_data": LimitData(),
    "timeout": Timeout(),
    "reset_peer": ResetPeer(),
    "slow_close": SlowClose(),
}
