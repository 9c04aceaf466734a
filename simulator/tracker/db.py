"""Opening a tracker database: a SQLite file (default, WAL) or PostgreSQL by URL.

``Database.write()`` is the only way to get a writable session: on SQLite it starts the
transaction with ``BEGIN IMMEDIATE`` (one writer at a time, no upgrade deadlocks) and holds an
in-process lock; on PostgreSQL it takes a transaction-scoped advisory lock, so concurrent
writers (alert grouping, incident numbering) serialise the same way. A commit that returns has
reached the disk (``synchronous=FULL``): an HTTP 2xx after it means the data survives ``kill -9``.

Migrations (Alembic, shipped in ``simulator/tracker/migrations``) run on open.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from simulator.errors import EnvironmentProblem, InputError
from simulator.rundir import TRACKER_DB
from simulator.tracker.migrations import upgrade

DEFAULT_DB_PATH = Path(".gameday") / TRACKER_DB
DB_ENV = "GAMEDAY_TRACKER_DB"
_PG_LOCK_KEY = 0x6761_6D65  # "game"


def default_db() -> str:
    return os.environ.get(DB_ENV) or str(DEFAULT_DB_PATH)


def database_url(path_or_url: str | os.PathLike[str]) -> str:
    """A SQLAlchemy URL for a file path or a database URL."""
    value = os.fspath(path_or_url)
    if "://" not in value:
        path = Path(value).expanduser().resolve()
        return f"sqlite:///{path}"
    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise InputError(f"not a database URL: {value!r} ({exc})") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    elif not (url.drivername.startswith("sqlite") or url.drivername.startswith("postgresql")):
        raise InputError(f"unsupported database {url.drivername!r}: use a SQLite path or a postgresql:// URL")
    return url.render_as_string(hide_password=False)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


class Database:
    """An engine plus the rules for reading and writing it."""

    def __init__(self, path_or_url: str | os.PathLike[str], *, migrate: bool = True, read_only: bool = False):
        """``read_only``: for readers of a database someone else owns (scoring, reports): opened read-only
        (SQLite ``mode=ro``, PostgreSQL read-only transactions), never created, never migrated."""
        self.url = database_url(path_or_url)
        self.closed = False
        self.is_sqlite = self.url.startswith("sqlite")
        self.read_only = read_only
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._watch: sqlite3.Connection | None = None  # ``data_version``'s connection (never writes)
        self._watch_lock = threading.Lock()
        if self.is_sqlite and read_only:
            self.path = Path(make_url(self.url).database or "")
            if not self.path.is_file():  # read-only never creates one: say so, not sqlite's "unable to open"
                raise InputError(f"{self.path}: no tracker database there (it is read, never created)")
            uri = f"file:{quote(str(self.path))}?mode=ro"
            self.engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(
                uri, uri=True, check_same_thread=False, timeout=30), poolclass=NullPool)
            self._install_sqlite_hooks(self.engine)
        elif read_only:
            self.path = None
            self.engine = create_engine(self.url, pool_pre_ping=True,
                                        connect_args={"options": "-c default_transaction_read_only=on"})
        elif self.is_sqlite:
            self.path: Path | None = Path(make_url(self.url).database or "")
            if self.path and str(self.path) != ":memory:":
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise EnvironmentProblem(
                        f"cannot create the tracker database folder {self.path.parent}: {exc.strerror}; "
                        "choose another --db path") from None
            self.engine = create_engine(self.url, connect_args={"check_same_thread": False, "timeout": 30},
                                        pool_size=20, max_overflow=40)
            self._install_sqlite_hooks(self.engine)
        else:
            self.path = None
            try:
                self.engine = create_engine(self.url, pool_size=20, max_overflow=40, pool_pre_ping=True)
            except ModuleNotFoundError as exc:
                raise EnvironmentProblem(
                    f"PostgreSQL support needs {exc.name}: pip install 'gameday[postgres]'") from None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if migrate and not read_only:
            self.migrate()

    # -- connection setup ------------------------------------------------------------------
    def _install_sqlite_hooks(self, engine: Engine) -> None:
        local = self._local

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            # text a damaged row holds that is not UTF-8 is read with U+FFFD, never an error on every read
            dbapi_connection.text_factory = _text
            cursor = dbapi_connection.cursor()
            if self.read_only:
                cursor.execute("PRAGMA query_only=1")
                cursor.execute("PRAGMA busy_timeout=30000")
                cursor.close()
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if getattr(local, "immediate", False) else "BEGIN")

    # -- sessions --------------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in a write transaction; commits on success, rolls back on error."""
        with self._write_lock:
            session = self._sessions()
            try:
                self._local.immediate = True
                try:
                    if self.is_sqlite:
                        session.connection()
                    else:
                        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                finally:
                    self._local.immediate = False
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def data_version(self) -> int | None:
        """A number that changes whenever anyone commits to the database, this process or another (SQLite's
        ``PRAGMA data_version`` on a connection of its own that never writes; microseconds). None where there
        is no such cheap number (PostgreSQL, an in-memory database): callers then must read."""
        if not self.is_sqlite or self.path is None or str(self.path) in ("", ":memory:") or self.closed:
            return None
        with self._watch_lock:
            try:
                if self._watch is None:
                    self._watch = sqlite3.connect(f"file:{quote(str(self.path))}?mode=ro", uri=True,
                                                  check_same_thread=False, isolation_level=None, timeout=30)
                return int(self._watch.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error:  # no version to be had now: the caller reads (and meets the real error, if any)
                if self._watch is not None:
                    self._watch.close()
                    self._watch = None
                return None

    # -- schema ----------------------------------------------------------------------------
    def migrate(self) -> None:
        try:
            with self._write_lock:
                self._local.immediate = True
                try:
                    with self.engine.begin() as conn:
                        upgrade(conn)
                finally:
                    self._local.immediate = False
        except OperationalError as exc:
            raise EnvironmentProblem(
                f"cannot open the tracker database {self.describe()}: {exc.orig}; "
                "check the path or URL and that the server is running") from None

    def describe(self) -> str:
        return str(self.path) if self.is_sqlite else make_url(self.url).render_as_string(hide_password=True)

    def close(self) -> None:
        self.closed = True  # the pager's loop ends when it sees this
        with self._watch_lock:
            if self._watch is not None:
                self._watch.close()
                self._watch = None
        self.engine.dispose()
