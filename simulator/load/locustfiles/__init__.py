"""Bundled locustfiles (one per target app) and the plugin they share.

Only Locust processes import the modules in this package (they import locust, hence gevent);
the simulator refers to them by file path. Importing the package itself imports nothing.
"""

from __future__ import annotations

import ast
from pathlib import Path

from simulator.bounded import read_text

LOCUSTFILES_DIR = Path(__file__).resolve().parent
#: loaded beside a user's own locustfile (``load.locustfile``): gameday's hooks, shape and retries around it
ADOPT = LOCUSTFILES_DIR / "_adopt.py"
#: policy default: a user's locustfile is read (to list its classes) up to this size
MAX_LOCUSTFILE_BYTES = 1_000_000


def locustfile_path(app: str) -> Path:
    """The bundled locustfile for ``app`` (payments, gateway, auth, ping)."""
    return LOCUSTFILES_DIR / f"{app}.py"


def defined_classes(path: Path) -> list[str]:
    """The classes a locustfile defines at its top level, read without running it (``ast``).
    Raises ``ValueError`` (with the line) when it is not Python, ``OSError`` when it cannot be read."""
    text = read_text(path, MAX_LOCUSTFILE_BYTES)
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        raise ValueError(f"not valid Python at line {exc.lineno}: {exc.msg}") from None
    return [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
