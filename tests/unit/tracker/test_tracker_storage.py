"""Storage: migrations match the models, SQLite settings, URL handling."""

from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from simulator.errors import InputError
from simulator.tracker.db import Database, database_url
from simulator.tracker.migrations import HEAD, current_revision, head_revision
from simulator.tracker.models import Base


def test_head_constant_is_the_scripts_head():
    assert head_revision() == HEAD


def test_migrated_schema_matches_the_models(tmp_path):
    db = Database(str(tmp_path / "t.db"))
    with db.engine.connect() as conn:
        assert current_revision(conn) == HEAD
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    db.close()


def test_sqlite_file_uses_wal_and_full_sync(tmp_path):
    path = tmp_path / "t.db"
    db = Database(str(path))
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.close()
    raw = sqlite3.connect(path)
    assert raw.execute("select version_num from alembic_version").fetchone() == (HEAD,)
    raw.close()
    Database(str(path)).close()  # opening again is a no-op upgrade


def test_database_urls(tmp_path):
    assert database_url(str(tmp_path / "x.db")) == f"sqlite:///{tmp_path / 'x.db'}"
    assert database_url("postgresql://u:p@127.0.0.1/db").startswith("postgresql+psycopg://u:p@127.0.0.1/db")
    with pytest.raises(InputError):
        database_url("mysql://u@h/db")


def test_listening_socket_is_tcp_so_responses_are_not_nagled():
    import socket

    from simulator.tracker.server import bind

    sock = bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP  # asyncio sets TCP_NODELAY only on proto=TCP sockets
        assert sock.getsockname()[0] == "127.0.0.1" and sock.getsockname()[1] > 0
    finally:
        sock.close()
