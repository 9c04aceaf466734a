"""The embedded incident tracker: alerts in, incidents worked, post-mortems out.

Public surface (everything else is internal):

* ``TrackerService(db)``: the service layer, the only writer (``service.py``).
* ``start_tracker(db_path, host="127.0.0.1", port=0, ...)``: a tracker for a run, in a
  background thread or a subprocess; returns a handle with ``.url``, ``.client()``, ``.stop()``.
* ``TrackerPort`` (``port.py``): the one interface to a tracker, with typed results;
  ``TrackerClient(url, token=None)`` implements it over the HTTP API, ``LocalTracker(db)`` straight
  over a database; ``connect(url_or_db)`` picks one.
* ``create_app(service, token=None, host=...)``: the ASGI app (REST API + web UI).
* ``Database(path_or_url)``, ``default_db()``. The incident-response standard it encodes is data in
  ``simulator.domain.standard``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Database", "LocalTracker", "TrackerClient", "TrackerHandle", "TrackerPort", "TrackerService",
           "connect", "create_app", "default_db", "start_tracker"]

_LAZY = {
    "Database": "simulator.tracker.db",
    "default_db": "simulator.tracker.db",
    "TrackerService": "simulator.tracker.service",
    "TrackerClient": "simulator.tracker.client",
    "LocalTracker": "simulator.tracker.local",
    "TrackerPort": "simulator.tracker.port",
    "connect": "simulator.tracker.connect",
    "TrackerHandle": "simulator.tracker.embedded",
    "start_tracker": "simulator.tracker.embedded",
    "create_app": "simulator.tracker.api",
}

if TYPE_CHECKING:  # pragma: no cover
    from simulator.tracker.api import create_app
    from simulator.tracker.client import TrackerClient
    from simulator.tracker.connect import connect
    from simulator.tracker.db import Database, default_db
    from simulator.tracker.embedded import TrackerHandle, start_tracker
    from simulator.tracker.local import LocalTracker
    from simulator.tracker.port import TrackerPort
    from simulator.tracker.service import TrackerService


def __getattr__(name: str) -> Any:
    """Lazy imports: ``import simulator.tracker`` stays cheap for the CLI."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
