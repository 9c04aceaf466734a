"""Bundled locustfiles (one per target app) and the plugin they share.

Only Locust processes import the modules in this package (they import locust, hence gevent);
the simulator refers to them by file path. Importing the package itself imports nothing.
"""

from __future__ import annotations

from pathlib import Path

LOCUSTFILES_DIR = Path(__file__).resolve().parent


def locustfile_path(app: str) -> Path:
    """The bundled locustfile for ``app`` (payments, gateway, auth, ping)."""
    return LOCUSTFILES_DIR / f"{app}.py"
