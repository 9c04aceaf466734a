"""The game clock: game time runs ``time_scale`` times faster than wall time.

A memory leak that takes days in production plays out in minutes with ``time_scale: 720``.
Game time is seconds since ``start()``; ``pause()``/``resume()`` freeze it (facilitator pause).
"""

from __future__ import annotations

import threading
import time


class GameClock:
    def __init__(self, time_scale: float = 1.0, monotonic=time.monotonic):
        if time_scale <= 0:
            raise ValueError("time_scale must be > 0")
        self.time_scale = float(time_scale)
        self._monotonic = monotonic
        self._started_at: float | None = None
        self._paused_at: float | None = None
        self._paused_total = 0.0
        self._resumed = threading.Event()
        self._resumed.set()

    def start(self) -> GameClock:
        self._started_at = self._monotonic()
        return self

    @property
    def started(self) -> bool:
        return self._started_at is not None

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def _wall_elapsed(self) -> float:
        if self._started_at is None:
            return 0.0
        end = self._paused_at if self._paused_at is not None else self._monotonic()
        return end - self._started_at - self._paused_total

    def now(self) -> float:
        """Game seconds since start (frozen while paused)."""
        return self._wall_elapsed() * self.time_scale

    def wall_elapsed(self) -> float:
        return self._wall_elapsed()

    def to_wall(self, game_seconds: float) -> float:
        """Wall seconds that ``game_seconds`` of game time take."""
        return game_seconds / self.time_scale

    def to_game(self, wall_seconds: float) -> float:
        return wall_seconds * self.time_scale

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = self._monotonic()
            self._resumed.clear()

    def resume(self) -> None:
        if self._paused_at is not None:
            self._paused_total += self._monotonic() - self._paused_at
            self._paused_at = None
            self._resumed.set()

    def sleep_until(self, game_seconds: float, stop: threading.Event | None = None) -> bool:
        """Sleep until the game clock reaches ``game_seconds``; False if ``stop`` was set."""
        while True:
            if stop is not None and stop.is_set():
                return False
            if self.paused:
                self._resumed.wait(0.1)
                continue
            remaining = self.to_wall(game_seconds - self.now())
            if remaining <= 0:
                return True
            wait = min(remaining, 0.05)
            if stop is not None:
                if stop.wait(wait):
                    return False
            else:
                time.sleep(wait)
