"""Zero-copy relay for one direction of a connection while no toxic touches its bytes (Linux ``splice``).

A ``Relay`` moves bytes socket -> pipe -> socket in the kernel: ``splice(2)`` on duplicates of the two
transports' sockets (the transports stay the sockets' owners; the source transport's reading is paused
while the relay reads). A link starts one on its fast path (``link.py``) and stops it the moment a toxic
applies, at the source's EOF, on an error, or when the connection closes. ``stop()`` hands back the bytes
still in the pipe, which the link writes through the destination transport before anything else, so the
order of the stream is kept.

Flow control: the relay reads while its pipe has room and writes while the pipe holds bytes; a full
destination is waited for (writable), a full pipe stops the reading until the destination takes some.
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
_F_GETPIPE_SZ = 1032
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
            with contextlib.suppress(OSError):  # over the user's pipe allowance: the default size (64 KiB)
                fcntl.fcntl(fds[3], _F_SETPIPE_SZ, PIPE_SIZE)
            self.capacity = fcntl.fcntl(fds[3], _F_GETPIPE_SZ)
            self.src, self.dst, self.pipe_r, self.pipe_w = fds
            self.reading = self.writing = False
            self._want(read=True, write=False)
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise

    def _want(self, read: bool, write: bool) -> None:
        if read != self.reading:
            if read:
                self.loop.add_reader(self.src, self._readable)
            else:
                self.loop.remove_reader(self.src)
            self.reading = read
        if write != self.writing:
            if write:
                self.loop.add_writer(self.dst, self._flush)
            else:
                self.loop.remove_writer(self.dst)
            self.writing = write

    def _readable(self) -> None:
        try:
            n = os.splice(self.src, self.pipe_w, self.capacity - self.held, flags=_FLAGS)
        except (BlockingIOError, InterruptedError):
            if self.held:  # the pipe is full (slots, not bytes): read again once the destination took some
                self._want(read=False, write=True)
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
                break  # the destination is full: wait until it is writable
            except OSError:
                self.owner.relay_failed("dest")
                return
            self.held -= n
            self.owner.bytes[0] += n
        self._want(read=self.held < self.capacity, write=self.held > 0)

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
        self._want(read=False, write=False)
        for fd in (self.src, self.dst, self.pipe_r, self.pipe_w):
            os.close(fd)
        self.src = self.dst = self.pipe_r = self.pipe_w = -1
        self.held = 0
