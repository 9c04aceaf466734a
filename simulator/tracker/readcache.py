"""The hot reads' answers (the incident board, one incident), kept while they are still true.

An answer is kept with the database's data version it was read at (``Database.data_version``: SQLite's
``PRAGMA data_version`` on a connection that never writes, which changes when any other connection, in this
process or another, commits) and the span of the service's clock it holds for: from when it was read to the
first deadline at which one of its ``*_overdue`` flags turns true (``out.valid_until``). It is served again
only while both hold: the version is read before the answer's own read transaction starts, so an answer is
never labelled with a version newer than what it saw (at worst it is newer than its label, and is read
again once more). Where the database has no cheap version (PostgreSQL) nothing is kept: every read reads.

The service's reads stay the only way to the data; this only skips reading what cannot have changed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: answers kept at most (policy default: a board, its filters and the incidents people have open)
MAX_ENTRIES = 512


@dataclass
class Entry:
    value: Any
    version: int
    read_at: datetime
    until: datetime | None  # None: no deadline flips a flag (only a change of the data does)
    _body: str | None = field(default=None, repr=False)

    def holds(self, version: int | None, now: datetime) -> bool:
        return (version == self.version and self.read_at <= now
                and (self.until is None or now <= self.until))

    def body(self, render: Callable[[Any], str]) -> str:
        """The answer as JSON, rendered once (the value is frozen output models)."""
        if self._body is None:
            self._body = render(self.value)
        return self._body


class ReadCache:
    """``get(key, now, read)``: the kept answer for ``key`` if it still holds, else ``read(now)``'s, kept.
    ``read`` returns ``(value, until)``. ``version`` is the database's data version (None: keep nothing)."""

    def __init__(self, version: Callable[[], int | None], max_entries: int = MAX_ENTRIES):
        self._version = version
        self._max = max_entries
        self._entries: dict[Any, Entry] = {}
        self._at_version = -1
        self._lock = threading.Lock()

    def get(self, key: Any, now: datetime, read: Callable[[datetime], tuple[Any, datetime | None]]) -> Entry:
        version = self._version()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry.holds(version, now):
            return entry
        value, until = read(now)
        entry = Entry(value, version if version is not None else -1, now, until)
        if version is not None:
            with self._lock:
                if version > self._at_version:  # the data changed: nothing kept holds any more
                    self._entries = {}
                    self._at_version = version
                if version == self._at_version:  # (an older one: a slower read, already superseded)
                    if len(self._entries) >= self._max:
                        self._entries.clear()
                    self._entries[key] = entry
        return entry
