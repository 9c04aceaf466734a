"""Load: Locust in its own process(es), driven from here, streaming stats back as JSON lines.

Public surface (none of it imports locust or gevent):

* ``LoadDriver``: start/stop Locust for one target, ``on_stats`` callback, ``latest``, ``check()``.
* ``LoadConfig``: what the Locust side is told (JSON, wall time).
* ``RetryPolicy``: ``none`` / ``immediate`` / ``exponential`` client retries.
* ``to_wall_stages``, ``shape_tick``: scenario stages as a load shape.
* ``Tally``, ``interval_stats``: cumulative counters and per-interval figures.
* ``check_loopback_url``: the loopback-only rule for load.

The locustfiles live in ``simulator/load/locustfiles/`` and run only inside Locust.
"""

from __future__ import annotations

from simulator.load.config import LoadConfig
from simulator.load.driver import LoadDriver
from simulator.load.retry import RetryPolicy
from simulator.load.safety import check_loopback_url, is_loopback_host
from simulator.load.shapes import WallStage, shape_tick, to_wall_stages
from simulator.load.tally import Tally, interval_stats

__all__ = [
    "LoadConfig",
    "LoadDriver",
    "RetryPolicy",
    "Tally",
    "WallStage",
    "check_loopback_url",
    "interval_stats",
    "is_loopback_host",
    "shape_tick",
    "to_wall_stages",
]
