"""payments (critical tier): charges and refunds on a pooled SQL database.

Releases: ``v2.3.1`` (good); ``v2.4.0-leaky``, which brings a refund audit hook but holds its
connection across the fraud check and never returns the connection it used for a refund, so under
load the pool exhausts and requests fail with 503 ``db_pool_exhausted`` after the real pool timeout;
``v2.4.1``, the fix: the same refund audit hook, the fraud check before the checkout, every connection
returned. Flag ``fallback_processor`` sends charges to a backup processor with its own store and pool.

Automated failover (config ``auto_fallback: true``, the standard's "automated failover to backup payment
processor"): when ``auto_fallback_timeouts`` main-pool checkouts time out within ``auto_fallback_window``
wall seconds, the service switches ``fallback_processor`` on by itself -- a real ops change (in the ops
history as a flag change, ``app_feature_flag{name="fallback_processor"}`` 1) -- and
counts it in ``payments_auto_fallback_switches_total``. Without it (the world of the incident) the flag
waits for a person.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from pydantic import BaseModel, Field, StrictInt
from sqlalchemy import exc as sa_exc

from simulator.targets.apps.catalog import PAYMENTS
from simulator.targets.apps.common.app import error_body, make_app
from simulator.targets.apps.common.metrics import CallbackGauges
from simulator.targets.apps.common.server import main as serve
from simulator.targets.apps.common.service import Service
from simulator.targets.apps.common.state import OpsChange
from simulator.targets.apps.payments_store import (
    ChargeNotFound,
    PoolExhausted,
    PoolSettings,
    RefundTooLarge,
    Store,
    sqlite_url,
)

LEAKY_RELEASE = "v2.4.0-leaky"
#: the releases with the refund audit hook: the leaky one and its fix
AUDITED_RELEASES = (LEAKY_RELEASE, "v2.4.1")
POOL_KEYS = ("db_url", "pool_size", "max_overflow", "pool_timeout")
FALLBACK_POOL = {"pool_size": 5, "max_overflow": 5, "pool_timeout": 2.0}


class ChargeIn(BaseModel):
    customer_id: str = Field(min_length=1, max_length=64)
    amount_cents: StrictInt = Field(gt=0, le=100_000_000)
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")


class RefundIn(BaseModel):
    charge_id: str = Field(min_length=1, max_length=40)
    amount_cents: StrictInt = Field(gt=0, le=100_000_000)


class PaymentsService(Service):
    def __init__(self, config: Mapping[str, Any] | None, state_file: Path | None, data_dir: Path | None) -> None:
        super().__init__(PAYMENTS, config, state_file, data_dir)
        self.timeouts = Counter(
            "db_pool_checkout_timeouts",
            "Checkouts that gave up after pool_timeout (main pool)",
            registry=self.registry,
        )
        self.charges_total = Counter(
            "payments_charges",
            "Charge attempts by processor and outcome",
            ["processor", "outcome"],
            registry=self.registry,
        )
        self.refunds_total = Counter(
            "payments_refunds", "Refund attempts by outcome", ["outcome"], registry=self.registry
        )
        self.refund_audits = Counter(
            "payments_refund_audits", "Refunds recorded by the refund audit hook (v2.4.x)", registry=self.registry
        )
        self.auto_switches = Counter(
            "payments_auto_fallback_switches",
            "Times the service switched fallback_processor on by itself (auto_fallback)",
            registry=self.registry,
        )
        self._pool_timeouts: deque[float] = deque()
        self._swap_lock = threading.Lock()
        self.main = self._new_main_store()
        self.fallback = Store(
            PoolSettings(url=sqlite_url(self.data_dir / "payments-fallback.db"), **FALLBACK_POOL),
            id_prefix="f",
        )
        self.registry.register(
            CallbackGauges(
                {
                    "db_pool_size": (
                        "Connections the main DB pool keeps",
                        lambda: self.main.pool_status()["size"],
                    ),
                    "db_pool_checked_out": (
                        "Main pool connections in use",
                        lambda: self.main.pool_status()["checked_out"],
                    ),
                    "db_pool_overflow": (
                        "Main pool connections beyond pool_size",
                        lambda: self.main.pool_status()["overflow"],
                    ),
                    "db_pool_waiters": (
                        "Threads waiting for a main pool connection",
                        lambda: self.main.waiters,
                    ),
                }
            )
        )
        for store in (self.main, self.fallback):
            try:
                store.ensure_schema()
            except (sa_exc.SQLAlchemyError, PoolExhausted) as error:
                self.log.warning("schema not ready yet (%s); will retry on first request", error)

    # -- runtime

    def _pool_settings(self) -> PoolSettings:
        config = self.ops.config
        url = config["db_url"] or sqlite_url(self.data_dir / "payments.db")
        return PoolSettings(url, config["pool_size"], config["max_overflow"], config["pool_timeout"])

    def _new_main_store(self) -> Store:
        return Store(self._pool_settings(), id_prefix="", on_timeout=self.timeouts.inc)

    def apply(self, change: OpsChange) -> None:
        pool_changed = change.config_changed and (
            change.old_config is None or any(change.old_config.get(k) != self.ops.config.get(k) for k in POOL_KEYS)
        )
        if change.release_changed or pool_changed:
            with self._swap_lock:
                old, self.main = self.main, self._new_main_store()
            # Requests still in flight may be using the old store's connections (the leaky refund
            # path keeps using the connection it just leaked): closing an SQLite connection that
            # another thread is using crashes the process. Close the old store once they are done.
            grace = float(old.settings.pool_timeout) + 10.0
            timer = threading.Timer(grace, old.close)
            timer.daemon = True
            timer.start()

    @property
    def leaky(self) -> bool:
        return self.ops.release == LEAKY_RELEASE

    def health(self) -> dict[str, str]:
        try:
            self.main.ping()
        except sa_exc.SQLAlchemyError as error:
            return {"database": f"unreachable: {type(error.orig or error).__name__}"}
        return {"database": "ok"}

    def close(self) -> None:
        self.main.close()
        self.fallback.close()

    def fraud_check(self) -> None:
        # the call to the (remote) fraud scoring service
        time.sleep(self.ops.config["fraud_check_ms"] / 1000.0)

    def store_for(self, charge_id: str) -> Store:
        return self.fallback if charge_id.startswith("chf_") else self.main

    # -- operations

    def charge(self, body: ChargeIn) -> dict[str, Any]:
        use_fallback = self.ops.flag("fallback_processor")
        store, processor = (self.fallback, "fallback") if use_fallback else (self.main, "primary")
        store.ensure_schema()
        currency = body.currency.upper()
        if self.leaky and not use_fallback:
            conn = store.checkout(write=True)  # v2.4.0: checks out before the slow fraud check
            try:
                self.fraud_check()
                row = store.insert_charge(conn, body.customer_id, body.amount_cents, currency, processor)
            finally:
                conn.close()
        else:
            self.fraud_check()
            with store.connection(write=True) as conn:
                row = store.insert_charge(conn, body.customer_id, body.amount_cents, currency, processor)
        return row

    def refund(self, body: RefundIn) -> dict[str, Any]:
        store = self.store_for(body.charge_id)
        store.ensure_schema()
        if self.leaky and store is self.main:
            conn = store.checkout(write=True)
            store.leaked.append(conn)  # v2.4.0: the refund audit hook keeps the connection, forever
            row = store.refund(conn, body.charge_id, body.amount_cents)
        else:
            with store.connection(write=True) as conn:
                row = store.refund(conn, body.charge_id, body.amount_cents)
        if self.ops.release in AUDITED_RELEASES:
            self.refund_audits.inc()
        return row

    def get_charge(self, charge_id: str) -> dict[str, Any] | None:
        store = self.store_for(charge_id)
        store.ensure_schema()
        with store.connection() as conn:
            return store.get_charge(conn, charge_id)

    def pool_timed_out(self) -> None:
        """Count a main-pool timeout; with ``auto_fallback``, fail over once they pile up."""
        config = self.ops.config
        if not config["auto_fallback"] or self.ops.flag("fallback_processor"):
            return
        now = time.monotonic()
        with self._swap_lock:
            self._pool_timeouts.append(now)
            while self._pool_timeouts and self._pool_timeouts[0] < now - config["auto_fallback_window"]:
                self._pool_timeouts.popleft()
            if len(self._pool_timeouts) < config["auto_fallback_timeouts"]:
                return
            self._pool_timeouts.clear()
        self.ops.set_flag("fallback_processor", True)
        self.auto_switches.inc()
        self.log.warning("auto_fallback: %d pool timeouts within %gs: fallback_processor switched on",
                         config["auto_fallback_timeouts"], config["auto_fallback_window"])

    # -- HTTP

    def guarded(
        self, what: str, call: Callable[[], JSONResponse], failed: Callable[[str], None] | None = None
    ) -> JSONResponse:
        """Run ``call``; database trouble becomes a 503 (``failed`` hears the outcome)."""
        try:
            return call()
        except PoolExhausted as error:
            self.log.warning("%s failed: db pool exhausted: %s", what, error)
            self.pool_timed_out()
            if failed is not None:
                failed("pool_exhausted")
            return JSONResponse(error_body("db_pool_exhausted", str(error)), status_code=503)
        except sa_exc.SQLAlchemyError as error:
            self.log.warning("%s failed: database error: %s", what, error)
            if failed is not None:
                failed("db_error")
            return JSONResponse(error_body("db_unavailable", type(error).__name__), status_code=503)

    def router(self) -> APIRouter:
        router = APIRouter(tags=["payments"])

        @router.post("/charges", status_code=201)
        def create_charge(body: ChargeIn) -> JSONResponse:
            processor = "fallback" if self.ops.flag("fallback_processor") else "primary"

            def call() -> JSONResponse:
                row = self.charge(body)
                self.charges_total.labels(row["processor"], "captured").inc()
                return JSONResponse(_charge_view(row), status_code=201)

            return self.guarded("charge", call, lambda outcome: self.charges_total.labels(processor, outcome).inc())

        @router.post("/refunds", status_code=201)
        def create_refund(body: RefundIn) -> JSONResponse:
            def call() -> JSONResponse:
                try:
                    row = self.refund(body)
                except ChargeNotFound:
                    self.refunds_total.labels("not_found").inc()
                    return JSONResponse(
                        error_body("charge_not_found", f"no charge {body.charge_id!r}"), status_code=404
                    )
                except RefundTooLarge as error:
                    self.refunds_total.labels("rejected").inc()
                    return JSONResponse(
                        error_body("refund_exceeds_charge", str(error), remaining_cents=error.remaining),
                        status_code=409,
                    )
                self.refunds_total.labels("refunded").inc()
                return JSONResponse(row, status_code=201)

            return self.guarded("refund", call, lambda outcome: self.refunds_total.labels(outcome).inc())

        @router.get("/charges/{charge_id}")
        def read_charge(charge_id: str) -> JSONResponse:
            def call() -> JSONResponse:
                row = self.get_charge(charge_id)
                if row is None:
                    return JSONResponse(error_body("charge_not_found", f"no charge {charge_id!r}"), status_code=404)
                return JSONResponse(_charge_view(row))

            return self.guarded("read charge", call)

        return router


def _charge_view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "status": row["status"],
        "processor": row["processor"],
        "customer_id": row["customer_id"],
        "amount_cents": row["amount_cents"],
        "currency": row["currency"],
        "refunded_cents": row["refunded_cents"],
        "created_at": row["created_at"],
    }


def create_app(
    config: dict[str, Any] | None = None, state_file: Path | None = None, data_dir: Path | None = None
) -> FastAPI:
    return make_app(PaymentsService(config, state_file, data_dir))


if __name__ == "__main__":
    raise SystemExit(serve(PAYMENTS.name, create_app))
