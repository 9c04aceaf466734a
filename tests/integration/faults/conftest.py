"""Real targets for the fault-library tests, always torn down.

* ``gameday_home``: a temporary ``GAMEDAY_HOME`` (the run registry) for this package.
* ``shared_run``: payments + gateway + auth under the local backend, started once for the package
  (starting targets costs seconds); tests that use it must leave it as they found it -- the
  ``engine`` fixture reverts every fault a test injected and checks the targets answer again.
* ``private_run``: a factory for tests that break the targets for good (crash, OOM, kill -9).
Every finalizer runs ``simulator.cleanup`` and then stops whatever process is still alive.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from faults_helpers import PrivateRun, healthy, reap, wait_for

from simulator.faults.engine import FaultEngine
from simulator.journal import Journal
from simulator.rundir import RunDir
from simulator.targets.backends.local import LocalBackend
from simulator.targets.spec import specs_from_scenario
from simulator.targets.view import TargetsView


@pytest.fixture(scope="package")
def gameday_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as mp:  # the package-wide twin of the monkeypatch fixture
        home = tmp_path_factory.mktemp("gameday-home")
        mp.setenv("GAMEDAY_HOME", str(home))
        yield home


def _up(run_dir: Path, run_id: str, specs: list[dict[str, Any]], **kwargs: Any) -> TargetsView:
    try:
        return LocalBackend().up(specs, run_dir, run_id, owner_pid=os.getpid(), **kwargs)
    except BaseException:
        reap(run_dir, run_id)
        raise


@pytest.fixture(scope="package")
def shared_run(gameday_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TargetsView]:
    run_id = f"faults-shared-{secrets.token_hex(3)}"
    run_dir = tmp_path_factory.mktemp("runs") / run_id
    view = _up(run_dir, run_id, specs_from_scenario(None))
    try:
        yield view
    finally:
        reap(run_dir, run_id)


@pytest.fixture
def engine(shared_run: TargetsView) -> Iterator[FaultEngine]:
    """A FaultEngine on the shared run; reverts what the test left and checks the targets answer."""
    shared_run.refresh()
    journal = Journal(RunDir(shared_run.run_dir).journal)
    eng = FaultEngine(shared_run, journal)
    try:
        yield eng
    finally:
        try:
            _, errors = eng.revert_all(by="test-teardown")
        finally:
            eng.close()
            journal.close()
        assert not errors, f"teardown could not revert: {errors}"
        view = shared_run.refresh()
        for t in view.targets():
            wait_for(lambda t=t: view.refresh().target(t.name).status == "running" and healthy(
                view.target(t.name).url or ""), 30, what=f"{t.name} healthy again after the test")


@pytest.fixture
def private_run(gameday_home: Path, tmp_path: Path) -> Iterator[PrivateRun]:
    """``private_run(specs=None, name="x")`` -> a run of its own, cleaned up and reaped at teardown."""
    started: list[tuple[Path, str]] = []

    def start(specs: list[dict[str, Any]] | None = None, name: str = "private") -> TargetsView:
        run_id = f"faults-{name}-{secrets.token_hex(3)}"
        run_dir = tmp_path / run_id
        started.append((run_dir, run_id))
        return _up(run_dir, run_id, specs if specs is not None else specs_from_scenario(None))

    try:
        yield start
    finally:
        for run_dir, run_id in started:
            reap(run_dir, run_id)
