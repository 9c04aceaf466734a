"""``connect(where)``: a ``TrackerPort`` for a tracker URL or a tracker database.

``http://`` and ``https://`` addresses are a running tracker's API (``TrackerClient``); anything else
is a database path or URL that ``Database`` opens (``LocalTracker``, in-process). Close what you get
(it is a context manager).
"""

from __future__ import annotations

import os

from simulator.tracker.client import TrackerClient
from simulator.tracker.local import LocalTracker
from simulator.tracker.port import TrackerPort

WEB_SCHEMES = ("http://", "https://")


def connect(where: str | os.PathLike[str], *, token: str | None = None, actor: str | None = None,
            timeout: float = 15.0) -> TrackerPort:
    """The tracker at ``where``; ``token`` and ``timeout`` apply to a tracker URL only."""
    target = os.fspath(where)
    if target.startswith(WEB_SCHEMES):
        return TrackerClient(target, token=token, actor=actor, timeout=timeout)
    return LocalTracker(target, actor=actor)
