"""The three bundled target services teams break and fix during a game day.

``APPS`` is the catalog (import-light: no FastAPI here). Each app is its own module with
``create_app(config, state_file, data_dir) -> FastAPI`` and runs as
``python -m simulator.targets.apps.<name> --port PORT [--state-file PATH] [--data-dir DIR] [--config JSON]``;
once listening it prints one JSON line ``{"event": "listening", "port": N, "pid": P}`` on stdout.
"""

from simulator.targets.apps.catalog import (
    APPS,
    AppInfo,
    ConfigKey,
    Dependency,
    FieldSpec,
    FlagInfo,
    ReleaseInfo,
    Tier,
)
from simulator.targets.apps.customers import DEFAULT_CUSTOMERS, DEFAULT_TIERS

__all__ = [
    "APPS",
    "DEFAULT_CUSTOMERS",
    "DEFAULT_TIERS",
    "AppInfo",
    "ConfigKey",
    "Dependency",
    "FieldSpec",
    "FlagInfo",
    "ReleaseInfo",
    "Tier",
]
