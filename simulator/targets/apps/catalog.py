"""What the bundled apps are: tiers, releases, flags, config keys, dependencies -- as plain data.

Import-light: no FastAPI, no SQLAlchemy. Scenario validation, backends and the fault library
read this; the apps themselves read it for their defaults and their config schema.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from simulator.targets.apps.customers import DEFAULT_CUSTOMERS, DEFAULT_TIERS

#: The leaky auth release's default leak rate (a policy default, not the standard's: the standard says only
#: "a memory leak degraded it over several days"): 6 MiB per game hour (about 6.5 MiB of resident memory,
#: with Python's overhead) fills the bundled 320 MiB limit from a ~55 MiB start in about 41 game hours.
LEAK_BYTES_PER_GAME_HOUR = 6 * 2**20

Tier = Literal["critical", "important", "standard"]
#: Value types a config key or a map-entry field may have.
#: ``url``: an http(s) URL on the loopback interface; ``db_url``: an SQLAlchemy URL, "" (SQLite file
#: in the data dir), sqlite, or a database on the loopback interface; ``map``: str -> entry with ``fields``.
ValueType = Literal["int", "float", "str", "bool", "url", "db_url", "map"]


@dataclass(frozen=True)
class FieldSpec:
    """One field of a ``map`` entry (e.g. ``rate`` in ``tiers.major``)."""

    type: ValueType
    description: str = ""
    minimum: float | None = None
    exclusive_minimum: float | None = None


@dataclass(frozen=True)
class ConfigKey:
    name: str
    type: ValueType
    default: Any
    description: str
    minimum: float | None = None
    exclusive_minimum: float | None = None
    #: for ``map`` keys: the fields every entry has (all required)
    fields: Mapping[str, FieldSpec] | None = None


@dataclass(frozen=True)
class FlagInfo:
    name: str
    default: bool
    description: str


@dataclass(frozen=True)
class ReleaseInfo:
    version: str
    good: bool
    notes: str
    #: the bad release this one fixes (the permanent fix a team deploys after rolling back)
    fixes: str | None = None


@dataclass(frozen=True)
class Dependency:
    """``app`` needs ``upstream`` reachable at the URL in its config key ``config_key``."""

    upstream: str
    config_key: str
    description: str = ""


@dataclass(frozen=True)
class AppInfo:
    name: str
    tier: Tier
    module: str
    description: str
    releases: tuple[ReleaseInfo, ...]
    good_release: str
    flags: Mapping[str, FlagInfo]
    config: Mapping[str, ConfigKey]
    dependencies: tuple[Dependency, ...] = ()
    #: the business routes, as (method, route template)
    routes: tuple[tuple[str, str], ...] = ()
    health_path: str = "/healthz"
    metrics_path: str = "/metrics"
    _release_index: Mapping[str, ReleaseInfo] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_release_index", {r.version: r for r in self.releases})
        if self.good_release not in self._release_index:
            raise ValueError(f"{self.name}: good release {self.good_release!r} is not a known release")

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(r.version for r in self.releases)

    @property
    def default_release(self) -> str:
        return self.good_release

    def release(self, version: str) -> ReleaseInfo | None:
        return self._release_index.get(version)

    def default_config(self) -> dict[str, Any]:
        """A fresh (deep-copied) dict of every config key's default."""
        return {name: copy.deepcopy(key.default) for name, key in self.config.items()}

    def default_flags(self) -> dict[str, bool]:
        return {name: flag.default for name, flag in self.flags.items()}


def _keys(*keys: ConfigKey) -> dict[str, ConfigKey]:
    return {key.name: key for key in keys}


def _flags(*flags: FlagInfo) -> dict[str, FlagInfo]:
    return {flag.name: flag for flag in flags}


PAYMENTS = AppInfo(
    name="payments",
    tier="critical",
    module="simulator.targets.apps.payments",
    description="Payment processing: charges and refunds on a pooled SQL database.",
    releases=(
        ReleaseInfo("v2.3.1", True, "Stable."),
        ReleaseInfo(
            "v2.4.0-leaky",
            False,
            "Holds its DB connection across the fraud check and leaks a connection on every refund: "
            "the pool exhausts under load (503 db_pool_exhausted after pool_timeout).",
        ),
        ReleaseInfo(
            "v2.4.1",
            True,
            "v2.4.0's refund audit hook, fixed: the fraud check runs before a connection is checked out and "
            "every connection goes back to the pool.",
            fixes="v2.4.0-leaky",
        ),
    ),
    good_release="v2.3.1",
    flags=_flags(
        FlagInfo(
            "fallback_processor",
            False,
            "Send charges to the backup processor, which has its own store and connection pool.",
        ),
    ),
    config=_keys(
        ConfigKey("pool_size", "int", 10, "Connections kept in the DB pool.", minimum=1),
        ConfigKey("max_overflow", "int", 0, "Extra connections allowed beyond pool_size.", minimum=0),
        ConfigKey("pool_timeout", "float", 2.0, "Seconds to wait for a pooled connection.", exclusive_minimum=0),
        ConfigKey("fraud_check_ms", "int", 20, "Duration of the fraud check per charge, ms.", minimum=0),
        ConfigKey(
            "db_url",
            "db_url",
            "",
            'SQLAlchemy URL of the main database; "" = SQLite file in the data dir.',
        ),
        ConfigKey(
            "auto_fallback",
            "bool",
            False,
            "Switch flag fallback_processor on by itself when the main pool keeps timing out (automated failover).",
        ),
        ConfigKey(
            "auto_fallback_timeouts",
            "int",
            10,
            "auto_fallback: pool checkout timeouts within auto_fallback_window that trigger the switch.",
            minimum=1,
        ),
        ConfigKey(
            "auto_fallback_window",
            "float",
            10.0,
            "auto_fallback: the window, wall seconds, the timeouts are counted over.",
            exclusive_minimum=0,
        ),
    ),
    routes=(("POST", "/charges"), ("POST", "/refunds"), ("GET", "/charges/{charge_id}")),
)

GATEWAY = AppInfo(
    name="gateway",
    tier="important",
    module="simulator.targets.apps.gateway",
    description="Public API gateway: API keys, per-customer rate limits, proxy to payments.",
    releases=(ReleaseInfo("v1.8.0", True, "Stable."),),
    good_release="v1.8.0",
    flags=_flags(
        FlagInfo("enforce_rate_limits", True, "Apply the per-customer token buckets (off = let all through)."),
    ),
    config=_keys(
        ConfigKey("upstream_url", "url", "http://127.0.0.1:8001", "Base URL of the payments service."),
        ConfigKey(
            "upstream_timeout",
            "float",
            5.0,
            "Seconds before an upstream call times out.",
            exclusive_minimum=0,
        ),
        ConfigKey("upstream_max_connections", "int", 64, "Size of the upstream HTTP connection pool.", minimum=1),
        ConfigKey(
            "customers",
            "map",
            DEFAULT_CUSTOMERS,
            "API key -> customer name and rate-limit tier.",
            fields={"name": FieldSpec("str", "customer name"), "tier": FieldSpec("str", "a key of tiers")},
        ),
        ConfigKey(
            "tiers",
            "map",
            DEFAULT_TIERS,
            "Rate-limit tier -> token bucket (rate per second, burst).",
            fields={
                "rate": FieldSpec("float", "tokens added per second", exclusive_minimum=0),
                "burst": FieldSpec("float", "bucket capacity", minimum=1),
            },
        ),
        ConfigKey(
            "config_rollback",
            "str",
            "one-click",
            "one-click: rollback goes back to the last good config version; manual: no known-good version is "
            "kept, so a rollback is refused and the limits must be pushed by hand (config:gateway.tiers...).",
        ),
    ),
    dependencies=(Dependency("payments", "upstream_url", "charges and refunds are proxied to payments"),),
    routes=(("POST", "/v1/charges"), ("POST", "/v1/refunds"), ("GET", "/v1/charges/{charge_id}")),
)

AUTH = AppInfo(
    name="auth",
    tier="critical",
    module="simulator.targets.apps.auth",
    description="Authentication: login, token verification and refresh.",
    releases=(
        ReleaseInfo("v3.0.4", True, "Stable."),
        ReleaseInfo(
            "v3.1.0-leaky",
            False,
            "The audit trail retains leak_bytes_per_game_hour of objects per game hour under load (plus "
            "leak_bytes_per_request per request), never freed; memory and latency grow slowly.",
        ),
        ReleaseInfo(
            "v3.1.1",
            True,
            "v3.1.0's audit duplicate check, fixed: it keeps only the last records in a bounded ring (older "
            "ones are evicted), so memory stays flat.",
            fixes="v3.1.0-leaky",
        ),
    ),
    good_release="v3.0.4",
    flags=_flags(
        FlagInfo("audit_trail", True, "Record an audit entry for every authentication request."),
    ),
    config=_keys(
        ConfigKey(
            "leak_bytes_per_request",
            "int",
            65536,
            "Bytes retained per request by the leaky release.",
            minimum=0,
        ),
        ConfigKey(
            "leak_bytes_per_game_hour",
            "int",
            LEAK_BYTES_PER_GAME_HOUR,
            "Bytes retained per hour of game time under load by the leaky release (policy default: 6 MiB, "
            "so a 320 MiB process is OOM-killed about 41 game hours after the release).",
            minimum=0,
        ),
        ConfigKey("token_ttl_seconds", "int", 3600, "Lifetime of issued tokens.", minimum=1),
        ConfigKey("hash_iterations", "int", 1000, "PBKDF2 iterations of the password hash.", minimum=1),
    ),
    routes=(("POST", "/login"), ("GET", "/verify"), ("POST", "/refresh")),
)

#: Every bundled app by name.
APPS: dict[str, AppInfo] = {info.name: info for info in (PAYMENTS, GATEWAY, AUTH)}
