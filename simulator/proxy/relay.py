"""Zero-copy relay for one direction of a connection while no toxic touches its bytes (Linux ``splice``).

A ``Relay`` moves bytes socket -> pipe -> socket in the kernel: ``splice(2)`` on duplicates of the two
transports' sockets (the transports stay the sockets' owners; the source transport's reading is paused
while the relay reads). A link starts one on its fast path (``link.py``) and stops it the moment a toxic
applies, at the source's EOF, on an error, or when the connection closes. ``stop()`` hands back the bytes
still in the pipe, which the link writes through the destination transport before anything else, so the
order of the stream is kept.

Flow control: the relay reads only while its pipe is empty; when the destination is full it stops
reading and waits for the destination to be writable.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
from typing import Protocol

SPLICE = hasattr(os, "splice")  # Linux, Python >= 3.10
PIPE_SIZE = 256 * 1024  # per relay; within the default /proc/sys/fs/pipe-max-size (1 MiB)
_F_SETPIPE_SZ = 1031
_FLAGS = getattr(os, "SPLICE_F_MOVE", 0) | getattr(os, "SPLICE_F_NONBLOCK", 0)


class RelayOwner(Protocol):
    """What a relay reports to (``link.Link``)."""

    bytes: list[int]

    def relay_eof(self) -> None: ...

    def relay_failed(self, side: str) -> None: ...


class Relay:
    def __init__(self, owner: RelayOwner, source_fd: int, dest_fd: int):
        self.owner = owner
        self.loop = asyncio.get_running_loop()
        self.held = 0  # bytes in the pipe
        fds: list[int] = []
        try:
            fds.append(os.dup(source_fd))
            fds.append(os.dup(dest_fd))
            fds.extend(os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC))
            with contextlib.suppress(OSError):
                fcntl.fcntl(fds[3], _F_SETPIPE_SZ, PIPE_SIZE)
            self.src, self.dst, self.pipe_r, self.pipe_w = fds
            self.reading = True
            self.loop.add_reader(self.src, self._readable)
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise

    def _readable(self) -> None:
        try:
            n = os.splice(self.src, self.pipe_w, PIPE_SIZE, flags=_FLAGS)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.owner.relay_failed("source")
            return
        if n == 0:
            self.owner.relay_eof()
            return
        self.held += n
        self._flush()

    def _flush(self) -> None:
        while self.held:
            try:
                n = os.splice(self.pipe_r, self.dst, self.held, flags=_FLAGS)
            except (BlockingIOError, InterruptedError):
                if self.reading:  # the destination is full: stop reading until it drains
                    self.reading = False
                    self.loop.remove_reader(self.src)
                    self.loop.add_writer(self.dst, self._flush)
                return
            except OSError:
                self.owner.relay_failed("dest")
                return
            self.held -= n
            self.owner.bytes[0] += n
        if not self.reading:
            self.reading = True
            self.loop.remove_writer(self.dst)
            self.loop.add_reader(self.src, self._readable)

    def stop(self) -> bytes:
        """Stop relaying; return what is still in the pipe (read from the source, not yet delivered)."""
        held = []
        while self.held > 0:
            try:
                chunk = os.read(self.pipe_r, self.held)
            except OSError:
                break
            if not chunk:
                break
            held.append(chunk)
            self.held -= len(chunk)
        self.close()
        return b"".join(held)

    def close(self) -> None:
        """Stop relaying and drop what is in the pipe."""
        if self.src < 0:
            return
        if self.reading:
            self.loop.remove_reader(self.src)
        else:
            self.loop.remove_writer(self.dst)
        for fd in (self.src, self.dst, self.pipe_r, self.pipe_w):
            os.close(fd)
        self.src = self.dst = self.pipe_r = self.pipe_w = -1
        self.held = 0
