"""``connect(where)``: a ``TrackerPort`` for a tracker URL or a tracker database.

``http://`` and ``https://`` addresses are a running tracker's API (``TrackerClient``); anything else
is a database path or URL that ``Database`` opens (``LocalTracker``, in-process). Close what you get
(it is a context manager). ``read_only=True`` is for readers of a tracker someone else owns (scoring,
reports): the database is opened read-only and never created or migrated.
"""

from __future__ import annotations

import os

from simulator.tracker.client import TrackerClient
from simulator.tracker.db import Database
from simulator.tracker.local import LocalTracker
from simulator.tracker.port import TrackerPort
from simulator.tracker.service import TrackerService

WEB_SCHEMES = ("http://", "https://")


def connect(where: str | os.PathLike[str], *, token: str | None = None, actor: str | None = None,
            timeout: float = 15.0, read_only: bool = False) -> TrackerPort:
    """The tracker at ``where``; ``token`` and ``timeout`` apply to a tracker URL only."""
    target = os.fspath(where)
    if target.startswith(WEB_SCHEMES):
        return TrackerClient(target, token=token, actor=actor, timeout=timeout)
    if read_only:
        return LocalTracker(TrackerService(Database(target, read_only=True)), actor=actor)
    return LocalTracker(target, actor=actor)
