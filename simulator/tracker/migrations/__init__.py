"""Alembic migrations for the tracker schema, run programmatically by ``Database.migrate``.

To add a migration: change ``models.py``, write ``versions/NNNN_<what>.py`` (``render_as_batch``
is on, so SQLite ALTERs work) and move ``HEAD`` to its revision; tests check that ``HEAD`` is the
scripts' head and that the migrated schema matches the models. ``HEAD`` lets an up-to-date
database open without importing Alembic at all (the CLI starts faster).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

HERE = Path(__file__).resolve().parent
HEAD = "0003"
#: Alembic's ``context``/``op`` are module-global proxies: two threads migrating at once (the
#: embedded trackers of a full-scale drill's concurrent runs) would clobber each other's.
_LOCK = threading.Lock()


def alembic_config(connection: Connection | None = None) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _quick_revision(connection: Connection) -> str | None:
    try:
        with connection.begin_nested():
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None


def upgrade(connection: Connection, revision: str = "head") -> None:
    if revision == "head" and _quick_revision(connection) == HEAD:
        return
    from alembic import command

    with _LOCK:
        command.upgrade(alembic_config(connection), revision)
