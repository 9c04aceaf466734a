"""The payments database: a real SQLAlchemy ``QueuePool`` over SQLite (WAL) or PostgreSQL.

``Store`` counts the threads waiting for a pooled connection (``waiters``) and turns SQLAlchemy's
pool ``TimeoutError`` into ``PoolExhausted``. A store is replaced (not reconfigured) when the
release or the pool config changes, as a new process would start with a fresh pool.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    select,
    update,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import NullPool, QueuePool

SQLITE_BUSY_TIMEOUT_S = 15.0

metadata = MetaData()

charges = Table(
    "charges",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("amount_cents", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(24), nullable=False),
    Column("processor", String(16), nullable=False),
    Column("refunded_cents", Integer, nullable=False, default=0),
    Column("created_at", String(32), nullable=False),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("charge_id", String(40), nullable=False, index=True),
    Column("amount_cents", Integer, nullable=False),
    Column("created_at", String(32), nullable=False),
)


class PoolExhausted(Exception):
    """No pooled connection within ``pool_timeout`` (SQLAlchemy's pool ``TimeoutError``)."""


class ChargeNotFound(Exception):
    pass


class RefundTooLarge(Exception):
    def __init__(self, remaining: int) -> None:
        super().__init__(f"refund exceeds the refundable amount ({remaining} cents left)")
        self.remaining = remaining


@dataclass(frozen=True)
class PoolSettings:
    url: str
    pool_size: int
    max_overflow: int
    pool_timeout: float


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def make_engine(settings: PoolSettings) -> Engine:
    if settings.url.startswith("sqlite"):
        engine = create_engine(
            settings.url,
            poolclass=QueuePool,
            pool_size=settings.pool_size,
            max_overflow=settings.max_overflow,
            pool_timeout=settings.pool_timeout,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        )
        _sqlite_events(engine)
        return engine
    return create_engine(
        settings.url,
        poolclass=QueuePool,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout,
        connect_args={"connect_timeout": 3},
    )


def _sqlite_events(engine: Engine) -> None:
    """WAL + busy timeout, and SQLAlchemy-controlled BEGIN (IMMEDIATE for writes), so concurrent
    writers wait for the lock instead of failing with "database is locked".

    ``synchronous=OFF``: the simulated store must survive its process being killed (kill -9, the
    OOM killer), which OFF keeps (the kernel holds the writes), not a power cut. With NORMAL, the
    WAL checkpoint's fsync ran inside a charge while every other writer waited: on a busy disk
    (a CI machine writing images and test files) that alone pushed the healthy p95 past the
    critical tier's 200 ms before any fault."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA synchronous=OFF")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("gameday_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Store:
    """One database with its own pool. Thread-safe."""

    def __init__(
        self,
        settings: PoolSettings,
        id_prefix: str,
        on_timeout: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.id_prefix = id_prefix
        self.engine = make_engine(settings)
        self._on_timeout = on_timeout
        self._lock = threading.Lock()
        self._waiters = 0
        self._schema_ready = False
        #: connections checked out and never returned (the leaky release's bug)
        self.leaked: list[Connection] = []
        self._health_engine: Engine | None = None

    # -- pool

    @property
    def waiters(self) -> int:
        return self._waiters

    def pool_status(self) -> dict[str, int]:
        pool: Any = self.engine.pool
        return {
            "size": int(pool.size()),
            "checked_out": int(pool.checkedout()),
            "overflow": max(0, int(pool.overflow())),
            "waiters": self._waiters,
        }

    def checkout(self, write: bool = False) -> Connection:
        """A pooled connection (the caller closes it), or ``PoolExhausted`` after ``pool_timeout``."""
        with self._lock:
            self._waiters += 1
        try:
            conn = self.engine.connect()
        except sa_exc.TimeoutError as error:
            if self._on_timeout is not None:
                self._on_timeout()
            raise PoolExhausted(str(error)) from error
        finally:
            with self._lock:
                self._waiters -= 1
        if write:
            conn.execution_options(gameday_write=True)
        return conn

    @contextmanager
    def connection(self, write: bool = False) -> Iterator[Connection]:
        conn = self.checkout(write=write)
        try:
            yield conn
        finally:
            conn.close()

    def ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._lock:
            if self._schema_ready:
                return
            metadata.create_all(self.engine, checkfirst=True)
            self._schema_ready = True

    def ping(self) -> None:
        """Connect outside the pool (so an exhausted pool does not hide a reachable database)."""
        if self._health_engine is None:
            args: dict[str, Any] = {"timeout": 2} if self.settings.url.startswith("sqlite") else {"connect_timeout": 2}
            self._health_engine = create_engine(self.settings.url, poolclass=NullPool, connect_args=args)
        with self._health_engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    def close(self) -> None:
        leaked, self.leaked = self.leaked, []
        for conn in leaked:
            with suppress(sa_exc.SQLAlchemyError):
                conn.close()
        self.engine.dispose()
        if self._health_engine is not None:
            self._health_engine.dispose()

    # -- data

    def new_id(self, kind: str) -> str:
        return f"{kind}{self.id_prefix}_{uuid.uuid4().hex[:24]}"

    def insert_charge(
        self, conn: Connection, customer_id: str, amount_cents: int, currency: str, processor: str
    ) -> dict[str, Any]:
        row = {
            "id": self.new_id("ch"),
            "customer_id": customer_id,
            "amount_cents": amount_cents,
            "currency": currency,
            "status": "captured",
            "processor": processor,
            "refunded_cents": 0,
            "created_at": now_iso(),
        }
        with conn.begin():
            conn.execute(charges.insert().values(**row))
        return row

    def get_charge(self, conn: Connection, charge_id: str) -> dict[str, Any] | None:
        with conn.begin():
            found = conn.execute(select(charges).where(charges.c.id == charge_id)).mappings().first()
        return dict(found) if found is not None else None

    def refund(self, conn: Connection, charge_id: str, amount_cents: int) -> dict[str, Any]:
        with conn.begin():
            query = select(charges).where(charges.c.id == charge_id)
            if conn.dialect.name != "sqlite":
                query = query.with_for_update()
            charge = conn.execute(query).mappings().first()
            if charge is None:
                raise ChargeNotFound(charge_id)
            remaining = int(charge["amount_cents"]) - int(charge["refunded_cents"])
            if amount_cents > remaining:
                raise RefundTooLarge(remaining)
            row = {
                "id": self.new_id("re"),
                "charge_id": charge_id,
                "amount_cents": amount_cents,
                "created_at": now_iso(),
            }
            conn.execute(refunds.insert().values(**row))
            refunded = int(charge["refunded_cents"]) + amount_cents
            status = "refunded" if refunded == int(charge["amount_cents"]) else "partially_refunded"
            conn.execute(
                update(charges).where(charges.c.id == charge_id).values(refunded_cents=refunded, status=status)
            )
        return {**row, "status": "refunded", "charge_status": status}
