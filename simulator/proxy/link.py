"""One proxied TCP connection: a client side, an upstream side and a link per direction.

Fast path: while no applicable toxic is on a direction and nothing is queued, ``data_received``
writes straight to the other transport (no task switch, no copy) and TCP back-pressure is passed
through by pausing the reading side while the writing side's buffer is full. A bulk read (``SPLICE_AFTER``)
hands the direction to a zero-copy ``relay.Relay`` until a toxic applies, the source ends or fails, or the
connection closes.

Slow path: with toxics, chunks are queued (time-stamped when read) and a pump task passes them
through the toxic chain (``effects.py``). The queue is bounded: past ``QUEUE_HIGH`` bytes the source
stops being read. When the last toxic goes, the pump drains the queue and the fast path resumes.

Closing: an EOF from one side is passed on as a half-close (``write_eof``) after the data before it;
the connection is closed when both directions have ended, or at once by a toxic or the proxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections import deque
from collections.abc import Callable
from typing import Protocol, cast

from simulator.proxy.addresses import Address
from simulator.proxy.effects import EFFECTS, ActiveToxic, Stub, now
from simulator.proxy.relay import Relay
from simulator.proxy.stats import ProxyStats

WRITE_HIGH = 512 * 1024  # transport write buffer before the reading side pauses
QUEUE_HIGH = 256 * 1024  # slow-path queue before the reading side pauses
QUEUE_LOW = 64 * 1024
# A read of at least this many bytes on the fast path starts the zero-copy relay: a bulk stream. Small
# messages stay on the byte path, which costs the same CPU per message (4 system calls either way, measured
# with bench/proxy_overhead.py) and no file descriptors (a relay holds 4).
SPLICE_AFTER = 32 * 1024
CONNECT_TIMEOUT = 10.0  # loopback connects are instant or refused; this only bounds SYN retries


class Endpoint(Protocol):
    """What a connection needs from its proxy (``server.Proxy``): where to connect, what to count in."""

    @property
    def upstream(self) -> Address: ...

    @property
    def stats(self) -> ProxyStats: ...

    @property
    def splice(self) -> bool: ...


class Link:
    """One direction of a connection: reads from ``source``, writes to ``dest`` through its stubs."""

    def __init__(self, conn: Connection, stream: str):
        self.conn = conn
        self.stream = stream
        self.source: asyncio.Transport | None = None
        self.dest: asyncio.Transport | None = None
        self.stubs: list[Stub] = []
        self.slow = 0  # stubs that apply
        self.queue: deque[tuple[bytes | None, float]] = deque()
        self.queued = 0
        self.task: asyncio.Task[None] | None = None
        self.writable = asyncio.Event()
        self.writable.set()
        self.pause_reasons: set[str] = set()
        self.ended = False
        self.bytes = conn.proxy.stats.counter(stream)
        self.relay: Relay | None = None

    # -- data in -------------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        if self.ended:
            return  # nowhere to deliver it any more
        if not self.slow and self.task is None and self.dest is not None:
            self.dest.write(data)
            self.bytes[0] += len(data)
            if len(data) >= SPLICE_AFTER and self.conn.proxy.splice:
                self._start_relay()
            return
        self.queue.append((data, now()))
        self.queued += len(data)
        if self.queued > QUEUE_HIGH:
            self.pause("queue")
        self._ensure_pump()

    def feed_eof(self) -> None:
        if self.ended:
            return
        self._stop_relay()
        if not self.slow and self.task is None and self.dest is not None:
            self._end()
            return
        self.queue.append((None, now()))
        self._ensure_pump()

    def _ensure_pump(self) -> None:
        if self.task is None and self.dest is not None:  # no destination yet: held until it is connected
            self.task = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        try:
            while self.queue and not self.conn.closed and not self.ended:
                data, ts = self.queue.popleft()
                stubs = [s for s in self.stubs if s.applies]
                if data is None:
                    for stub in stubs:
                        if stub.live:
                            await EFFECTS[stub.toxic.spec.type].on_eof(stub)
                    if not self.conn.closed:
                        self._end()
                    continue
                self.queued -= len(data)
                if self.queued <= QUEUE_LOW:
                    self.resume("queue")
                await self._run(data, ts, stubs, 0)
        finally:
            self.task = None

    async def _run(self, data: bytes, ts: float, stubs: list[Stub], index: int) -> None:
        while index < len(stubs) and not stubs[index].live:
            index += 1
        if index == len(stubs):
            await self._write(data)
            return
        stub = stubs[index]

        async def emit(part: bytes, part_ts: float) -> None:
            await self._run(part, part_ts, stubs, index + 1)

        await EFFECTS[stub.toxic.spec.type].on_chunk(stub, data, ts, emit)

    async def _write(self, data: bytes) -> None:
        if not self.writable.is_set():
            await self.writable.wait()
        if self.conn.closed or self.ended or not data or self.dest is None:
            return
        self.dest.write(data)
        self.bytes[0] += len(data)

    def _end(self) -> None:
        """Pass the source's close on (half-close) and tell the connection this direction is done."""
        self.ended = True
        self.queue.clear()
        dest = self.dest
        if dest is not None and not dest.is_closing() and dest.can_write_eof():
            with contextlib.suppress(OSError):
                dest.write_eof()
        self.conn.link_ended()

    def drop(self) -> None:
        """The destination is gone: nothing more can be delivered in this direction."""
        self.ended = True
        self.close_relay()
        self.queue.clear()
        self.resume("queue")
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()

    # -- zero-copy relay (relay.py) ------------------------------------------------------------
    def _start_relay(self) -> None:
        """Relay in the kernel from now on, if nothing is buffered or paused on the way."""
        source, dest = self.source, self.dest
        if (self.relay is not None or self.pause_reasons or source is None or dest is None
                or source.is_closing() or dest.is_closing() or dest.get_write_buffer_size()):
            return
        src_sock, dst_sock = source.get_extra_info("socket"), dest.get_extra_info("socket")
        if src_sock is None or dst_sock is None:
            return
        try:
            self.relay = Relay(self, src_sock.fileno(), dst_sock.fileno())
        except (OSError, RuntimeError, ValueError):  # no descriptors or pipes left, or the loop refused: bytes it is
            return
        self.pause("relay")

    def _stop_relay(self) -> None:
        """Back to the byte path: what the relay read and has not delivered goes out first."""
        if self.relay is None:
            return
        held = self.relay.stop()
        self.relay = None
        if held and self.dest is not None and not self.dest.is_closing():
            self.dest.write(held)
            self.bytes[0] += len(held)
        self.resume("relay")

    def close_relay(self) -> None:
        """Drop the relay and what it holds (the destination is gone, or the connection closes)."""
        if self.relay is not None:
            self.relay.close()
            self.relay = None
            self.resume("relay")

    def relay_eof(self) -> None:
        self.feed_eof()  # stops the relay first

    def relay_failed(self, side: str) -> None:
        """A socket error while relaying: let the transport that owns the socket go the way it would."""
        if side == "source":
            self._stop_relay()
            transport = self.source
        else:
            self.close_relay()
            transport = self.dest
        if transport is not None:
            transport.abort()  # connection_lost -> Connection.side_lost, as for an error on the byte path

    # -- flow control --------------------------------------------------------------------------
    def set_source(self, transport: asyncio.Transport) -> None:
        self.source = transport
        self.repause()

    def set_dest(self, transport: asyncio.Transport) -> None:
        self.dest = transport
        if self.queue:
            self._ensure_pump()  # what was read while the destination was connecting

    def repause(self) -> None:
        """Apply a pause again: uvloop starts reading after ``connection_made`` even if it paused."""
        if self.pause_reasons and self.source is not None and not self.source.is_closing():
            self.source.pause_reading()

    def pause(self, reason: str) -> None:
        if not self.pause_reasons and self.source is not None:
            self.source.pause_reading()
        self.pause_reasons.add(reason)

    def resume(self, reason: str) -> None:
        if reason not in self.pause_reasons:
            return
        self.pause_reasons.discard(reason)
        if not self.pause_reasons and self.source is not None and not self.source.is_closing():
            self.source.resume_reading()

    def dest_paused(self) -> None:
        self.writable.clear()
        self.pause("dest")

    def dest_resumed(self) -> None:
        self.writable.set()
        self.resume("dest")

    # -- toxics --------------------------------------------------------------------------------
    def attach(self, toxic: ActiveToxic) -> None:
        stub = Stub(toxic, self.conn, toxic.draw())
        self.stubs.append(stub)
        if stub.applies:
            self._stop_relay()  # the toxic sees every byte from now on
            self.slow += 1
            EFFECTS[toxic.spec.type].attach(stub)

    def detach(self, toxic: ActiveToxic) -> None:
        for stub in self.stubs:
            if stub.toxic is toxic:
                self.stubs.remove(stub)
                if stub.applies:
                    self.slow -= 1
                    EFFECTS[toxic.spec.type].detach(stub)
                return

    def refresh(self, toxic: ActiveToxic, redraw: bool) -> None:
        """The toxic's spec changed: restart its timers, redraw toxicity if that changed."""
        for stub in self.stubs:
            if stub.toxic is toxic:
                effect = EFFECTS[toxic.spec.type]
                if stub.applies:
                    effect.detach(stub)
                    self.slow -= 1
                if redraw:
                    stub.applies = toxic.draw()
                if stub.applies:
                    self._stop_relay()
                    self.slow += 1
                    effect.attach(stub)
                return

    def detach_all(self) -> None:
        for stub in self.stubs:
            if stub.applies:
                EFFECTS[stub.toxic.spec.type].detach(stub)
        self.stubs.clear()
        self.slow = 0


class Side(asyncio.Protocol):
    """The protocol on one socket; ``inbound`` reads from it, ``outbound`` writes to it."""

    def __init__(self, conn: Connection, role: str):
        self.conn = conn
        self.role = role
        self.inbound = conn.up if role == "client" else conn.down
        self.outbound = conn.down if role == "client" else conn.up

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio.Transport subclasses
        transport.set_write_buffer_limits(high=WRITE_HIGH)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.conn.side_made(self.role, transport)

    def data_received(self, data: bytes) -> None:
        self.inbound.feed(data)

    def eof_received(self) -> bool:
        self.inbound.feed_eof()
        return True  # keep our writing half open: TCP half-close

    def connection_lost(self, exc: Exception | None) -> None:
        self.conn.side_lost(self.role)

    def pause_writing(self) -> None:
        self.outbound.dest_paused()

    def resume_writing(self) -> None:
        self.outbound.dest_resumed()


class Connection:
    """A client connection and its upstream connection, with one link per direction."""

    def __init__(self, proxy: Endpoint, cid: int, on_closed: Callable[[Connection], None]):
        self.proxy = proxy
        self.id = cid
        self.closed = False
        self.client: asyncio.Transport | None = None
        self.upstream: asyncio.Transport | None = None
        self.up = Link(self, "upstream")
        self.down = Link(self, "downstream")
        self._on_closed = on_closed
        self._connecting: asyncio.Task[None] | None = None

    def link_for(self, stream: str) -> Link:
        return self.up if stream == "upstream" else self.down

    # -- lifecycle -----------------------------------------------------------------------------
    def client_side(self) -> Side:
        return Side(self, "client")

    def side_made(self, role: str, transport: asyncio.Transport) -> None:
        if role == "client":
            self.client = transport
            self.up.set_source(transport)
            self.down.set_dest(transport)
            self.up.pause("connecting")
            asyncio.get_running_loop().call_soon(self.up.repause)
            self._connecting = asyncio.get_running_loop().create_task(self._connect())
        elif self.closed:  # the client went away while we were connecting
            transport.abort()
        else:
            self.upstream = transport
            self.down.set_source(transport)
            asyncio.get_running_loop().call_soon(self.down.repause)
            self.up.set_dest(transport)

    async def _connect(self) -> None:
        target = self.proxy.upstream
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: Side(self, "upstream"), target.host, target.port),
                CONNECT_TIMEOUT,
            )
        except (TimeoutError, OSError):
            self.proxy.stats.upstream_errors += 1
            self.close()
            return
        finally:
            self._connecting = None
        if self.closed:
            if self.upstream is not None:
                self.upstream.abort()
            return
        self.up.resume("connecting")

    def side_lost(self, role: str) -> None:
        if self.closed:
            return
        inbound, outbound = (self.up, self.down) if role == "client" else (self.down, self.up)
        outbound.drop()
        if not inbound.ended:
            inbound.feed_eof()  # deliver what was read, then the close
        self.link_ended()

    def link_ended(self) -> None:
        if self.up.ended and self.down.ended:
            self.close()

    def close(self) -> None:
        """Close both sides, flushing what was already written."""
        self._shutdown(lambda t: t.close())

    def abort(self) -> None:
        """Drop both sides at once (proxy disabled or deleted)."""
        self._shutdown(lambda t: t.abort())

    def reset(self) -> None:
        """Reset both sides: SO_LINGER 0 then close, so each peer gets a TCP RST."""

        def rst(transport: asyncio.Transport) -> None:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()

        self._shutdown(rst)

    def _shutdown(self, how: Callable[[asyncio.Transport], None]) -> None:
        if self.closed:
            return
        self.closed = True
        current = asyncio.current_task()
        for task in (self._connecting, self.up.task, self.down.task):
            if task is not None and task is not current:
                task.cancel()
        for link in (self.up, self.down):
            link.close_relay()
            link.detach_all()
            link.queue.clear()
        for transport in (self.client, self.upstream):
            if transport is not None:
                how(transport)  # close() on a closing transport is a no-op; abort() still aborts
        self._on_closed(self)
