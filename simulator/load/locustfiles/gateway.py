"""API-gateway clients: the real customers' API keys, major customers sending most traffic.

Keys come from ``simulator.targets.apps.customers`` (or ``.gateway``) ``DEFAULT_CUSTOMERS``
``{api_key: {"name", "tier"}}``, imported lazily; a built-in list of the same shape is the
fallback. Each request picks a tier (``params.major_share``, default 0.6: five major
customers produce ~60 % of requests, like the incident's traffic mix) and then a customer of
that tier. The request context carries the tier, so the stream reports ``by_tier``.

Contract: ``POST /v1/charges``, ``POST /v1/refunds``, ``GET /v1/charges/{charge_id}`` with
``X-API-Key``; 429 with ``Retry-After`` when rate limited; 401 for an unknown key.
"""

from __future__ import annotations

import importlib
import math
from typing import Any

from locust import task

from simulator.load.locustfiles._plugin import GamedayUser, ScenarioShape, json_body  # noqa: F401

MAJOR_SHARE = 0.6


def _fallback_customers() -> dict[str, dict[str, str]]:
    customers = {f"major-{n}": {"name": f"major customer {n}", "tier": "major"} for n in range(1, 6)}
    customers.update({f"regular-{n}": {"name": f"customer {n}", "tier": "regular"} for n in range(1, 41)})
    return customers


def load_customers() -> dict[str, dict[str, str]]:
    for module in ("simulator.targets.apps.customers", "simulator.targets.apps.gateway"):
        try:
            table = getattr(importlib.import_module(module), "DEFAULT_CUSTOMERS", None)
        except ImportError:
            continue
        if isinstance(table, dict) and table:
            return dict(table)
    return _fallback_customers()


def keys_by_tier(customers: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    tiers: dict[str, list[str]] = {}
    for key, entry in sorted(customers.items()):
        tiers.setdefault(str(entry.get("tier", "regular")), []).append(key)
    return tiers


class GatewayClient(GamedayUser):
    def on_start(self) -> None:
        self.tiers = keys_by_tier(load_customers())
        share = float(self.cfg.params.get("major_share", MAJOR_SHARE))
        rest = [t for t in self.tiers if t != "major"]
        self.tier_names = (["major"] if "major" in self.tiers else []) + rest
        self.tier_weights = [share if t == "major" else (1 - share) / max(1, len(rest)) for t in self.tier_names]
        self.charges: list[tuple[str, str, int]] = []

    def customer(self) -> tuple[str, str]:
        tier = self.rng.choices(self.tier_names, weights=self.tier_weights)[0]
        return self.rng.choice(self.tiers[tier]), tier

    @task(10)
    def charge(self) -> None:
        key, tier = self.customer()
        amount = max(50, min(500_000, int(self.rng.lognormvariate(math.log(3500), 0.9))))
        body = {"customer_id": f"cus_{key}_{self.rng.randrange(1000)}", "amount_cents": amount, "currency": "USD"}
        response = self.call("POST", "/v1/charges", name="POST /v1/charges", json=body,
                             headers={"X-API-Key": key}, tier=tier)
        data = json_body(response) if response.status_code in (200, 201) else {}
        charge_id = data.get("id") or data.get("charge_id")
        if not charge_id:
            return
        self.charges = [*self.charges[-19:], (str(charge_id), key, amount)]
        if self.rng.random() < 0.3:
            self.call("GET", f"/v1/charges/{charge_id}", name="GET /v1/charges/{charge_id}",
                      headers={"X-API-Key": key}, tier=tier)

    @task(1)
    def refund(self) -> None:
        if not self.charges:
            return
        charge_id, key, amount = self.charges.pop(self.rng.randrange(len(self.charges)))
        tier = "major" if key in self.tiers.get("major", ()) else "regular"
        self.call("POST", "/v1/refunds", name="POST /v1/refunds", json={"charge_id": charge_id, "amount_cents": amount},
                  headers={"X-API-Key": key}, tier=tier)
