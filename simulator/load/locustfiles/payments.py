"""Payments customers: charge, then sometimes read the charge back, sometimes refund one.

Customers are made by Faker (a per-process pool seeded from the run's seed); amounts follow a
skewed, realistic distribution (median about $35, a long tail of large baskets) in USD, EUR
or GBP. Dynamic URLs are grouped by ``name=`` so the stats stay bounded.

Contract: ``POST /charges {"customer_id","amount_cents","currency"}`` -> 201 (503
``db_pool_exhausted`` when the pool is exhausted); ``GET /charges/{charge_id}``;
``POST /refunds {"charge_id","amount_cents"}`` -> 201.
"""

from __future__ import annotations

import math
from typing import Any

from locust import task

from simulator.load.locustfiles._plugin import GamedayUser, ScenarioShape, json_body  # noqa: F401

CURRENCIES = (("USD", 0.7), ("EUR", 0.2), ("GBP", 0.1))
READ_BACK = 0.3
POOL_SIZE = 200
_pools: dict[int, list[str]] = {}


def customer_pool(seed: int) -> list[str]:
    """``POOL_SIZE`` Faker-made customer ids, the same for the same seed."""
    pool = _pools.get(seed)
    if pool is None:
        from faker import Faker

        fake = Faker("en_US")
        fake.seed_instance(seed)
        pool = [f"cus_{fake.user_name()}_{fake.hexify('^^^^^^')}" for _ in range(POOL_SIZE)]
        _pools[seed] = pool
    return pool


def charge_id_of(body: dict[str, Any]) -> str | None:
    value = body.get("id") or body.get("charge_id")
    return str(value) if value else None


class PaymentsCustomer(GamedayUser):
    def on_start(self) -> None:
        self.customers = customer_pool(self.cfg.seed)
        self.charges: list[tuple[str, int]] = []

    def amount_cents(self) -> int:
        return max(50, min(500_000, int(self.rng.lognormvariate(math.log(3500), 0.9))))

    def currency(self) -> str:
        return self.rng.choices([c for c, _ in CURRENCIES], weights=[w for _, w in CURRENCIES])[0]

    @task(10)
    def charge(self) -> None:
        amount = self.amount_cents()
        body = {"customer_id": self.rng.choice(self.customers), "amount_cents": amount,
                "currency": self.currency()}
        response = self.call("POST", "/charges", name="POST /charges", json=body)
        charge_id = charge_id_of(json_body(response)) if response.status_code in (200, 201) else None
        if charge_id is None:
            return
        self.charges = [*self.charges[-19:], (charge_id, amount)]
        if self.rng.random() < READ_BACK:
            self.call("GET", f"/charges/{charge_id}", name="GET /charges/{charge_id}")

    @task(1)
    def refund(self) -> None:
        if not self.charges:
            return
        charge_id, amount = self.charges.pop(self.rng.randrange(len(self.charges)))
        refund = amount if self.rng.random() < 0.7 else max(1, amount // 2)
        self.call("POST", "/refunds", name="POST /refunds", json={"charge_id": charge_id, "amount_cents": refund})
