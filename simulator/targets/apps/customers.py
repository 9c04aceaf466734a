"""The gateway's default customers and rate-limit tiers.

Import-light on purpose: load generators (Locust processes) import ``DEFAULT_CUSTOMERS`` to send
traffic with real API keys, without importing FastAPI.
"""

from __future__ import annotations

from typing import Any

MAJOR_CUSTOMER_NAMES: tuple[str, ...] = ("acme", "globex", "initech", "umbrella", "stark")
REGULAR_CUSTOMER_COUNT = 40

DEFAULT_TIERS: dict[str, dict[str, float]] = {
    "major": {"rate": 200.0, "burst": 400.0},
    "regular": {"rate": 20.0, "burst": 40.0},
}


def _default_customers() -> dict[str, dict[str, str]]:
    customers: dict[str, dict[str, str]] = {}
    for name in MAJOR_CUSTOMER_NAMES:
        customers[f"gk_major_{name}"] = {"name": name, "tier": "major"}
    for i in range(1, REGULAR_CUSTOMER_COUNT + 1):
        customers[f"gk_regular_{i:03d}"] = {"name": f"customer-{i:03d}", "tier": "regular"}
    return customers


#: api_key -> {"name": customer name, "tier": "major" | "regular"}
DEFAULT_CUSTOMERS: dict[str, dict[str, str]] = _default_customers()


def keys_for_tier(tier: str, customers: dict[str, Any] | None = None) -> list[str]:
    """The API keys of every customer in ``tier`` (default customer list unless given)."""
    table = DEFAULT_CUSTOMERS if customers is None else customers
    return sorted(key for key, entry in table.items() if entry.get("tier") == tier)
