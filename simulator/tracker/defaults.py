"""The tracker's defaults that light code needs without importing its web server (uvicorn, FastAPI): the CLI
declares ``--port`` and ``--tracker-port`` with them at every start of ``gameday``."""

from __future__ import annotations

#: the port ``gameday tracker serve`` (and a kept run tracker) listens on by default
DEFAULT_PORT = 8700
