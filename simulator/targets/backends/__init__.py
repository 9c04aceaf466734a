"""How targets run: ``local`` (subprocesses under a supervisor, the embedded default) or ``docker``."""

from __future__ import annotations

from typing import Any

from simulator.errors import InputError
from simulator.targets.backends.docker import DockerBackend
from simulator.targets.backends.local import LocalBackend

BACKENDS = {"local": LocalBackend, "docker": DockerBackend}
#: target fields only the local backend carries out, and what they are
LOCAL_ONLY = {"standby": "a standby instance for 'gameday ops failover'"}


def get_backend(name: str):
    try:
        return BACKENDS[name]()
    except KeyError:
        raise InputError(f"unknown backend {name!r}; expected one of: {', '.join(BACKENDS)}") from None


def refuse_local_only(name: str, specs: list[dict[str, Any]]) -> None:
    """``InputError`` (exit 2) naming the first target field the backend ``name`` cannot carry out."""
    if name == LocalBackend.name:
        return
    for spec in specs:
        for key, what in LOCAL_ONLY.items():
            if spec.get(key):
                raise InputError(f"target {spec.get('name')}: targets[].{key} ({what}) runs on the local backend "
                                 f"only; run with --backend local, or drop '{key}' for --backend {name}")
