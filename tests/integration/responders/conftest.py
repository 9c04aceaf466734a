"""A real payments service for the responder's tests, started once for the package and always torn down.

* ``gameday_home``: a temporary ``GAMEDAY_HOME`` (the run registry) for this package.
* ``payments``: the bundled payments app under the local backend; the ops console's levers (the
  responder's rollback) and the fault engine (the leaky release) act on it for real.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.cleanup import cleanup_run
from simulator.scenario.model import Target
from simulator.targets.backends.local import LocalBackend
from simulator.targets.spec import target_spec
from simulator.targets.view import TargetsView


@pytest.fixture(scope="package")
def gameday_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path_factory.mktemp("gameday-home")
        mp.setenv("GAMEDAY_HOME", str(home))
        yield home


@pytest.fixture(scope="package")
def payments(gameday_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TargetsView]:
    run_id = f"responders-{secrets.token_hex(3)}"
    run_dir = tmp_path_factory.mktemp("runs") / run_id
    spec = target_spec(Target(name="payments", app="payments", tier="critical", release="v2.3.1"))
    try:
        view = LocalBackend().up([spec], run_dir, run_id, owner_pid=os.getpid())
        yield view
    finally:
        cleanup_run(run_dir, run_id)
