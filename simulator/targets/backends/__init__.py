"""How targets run: ``local`` (subprocesses under a supervisor, the embedded default) or ``docker``."""

from __future__ import annotations

from simulator.errors import InputError
from simulator.targets.backends.docker import DockerBackend
from simulator.targets.backends.local import LocalBackend

BACKENDS = {"local": LocalBackend, "docker": DockerBackend}


def get_backend(name: str):
    try:
        return BACKENDS[name]()
    except KeyError:
        raise InputError(f"unknown backend {name!r}; expected one of: {', '.join(BACKENDS)}") from None
