"""Optional real parts a test needs (Chromium, a Docker engine, Prometheus): skipped with a reason locally, a
failure where CI demands them (``GAMEDAY_REQUIRE_<PART>=1``), so they can never silently skip there."""

from __future__ import annotations

import os

import pytest


def need(what: str, env: str, reason: str) -> None:
    if os.environ.get(env) == "1":
        pytest.fail(f"{what} required in this environment ({env}=1) but unavailable: {reason}")
    pytest.skip(f"{what} unavailable: {reason}")
