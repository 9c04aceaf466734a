"""Real containers on a real Docker engine (the ``docker_engine`` fixture skips, or fails in CI).

* ``gameday_home``: a temporary run registry for this package (the label ``gameday.home`` keys
  ``gameday cleanup``'s sweep to it, so concurrent test sessions never touch each other's runs).
* ``shared_run``: payments + gateway + auth as containers, started once for the package; tests
  that fault it leave it as they found it (the ``engine`` fixture reverts every open fault).
* ``private_run``: a factory for runs a test breaks for good (OOM, remove, kill -9).
Every finalizer tears down through the backend, then removes whatever still carries the label.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.faults.engine import FaultEngine
from simulator.journal import Journal
from simulator.rundir import RunDir
from simulator.targets.backends.docker import DockerBackend, remove_run_resources
from simulator.targets.spec import specs_from_scenario
from simulator.targets.view import TargetsView

pytestmark = pytest.mark.docker


@pytest.fixture(scope="package")
def gameday_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as mp:  # the package-wide twin of the monkeypatch fixture
        home = tmp_path_factory.mktemp("gameday-home")
        mp.setenv("GAMEDAY_HOME", str(home))
        yield home


def reap(run_dir: Path, run_id: str) -> None:
    try:
        DockerBackend().down(run_dir)
    finally:
        remove_run_resources(run_id, None)


def up(run_dir: Path, run_id: str, specs: list[dict[str, Any]]) -> TargetsView:
    try:
        return DockerBackend().up(specs, run_dir, run_id, owner_pid=os.getpid())
    except BaseException:
        reap(run_dir, run_id)
        raise


@pytest.fixture(scope="package")
def shared_run(docker_engine, gameday_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TargetsView]:
    run_id = f"docker-shared-{secrets.token_hex(3)}"
    run_dir = tmp_path_factory.mktemp("runs") / run_id
    view = up(run_dir, run_id, specs_from_scenario(None))
    try:
        yield view
    finally:
        reap(run_dir, run_id)


@pytest.fixture
def private_run(docker_engine, gameday_home: Path, tmp_path: Path) -> Iterator:
    started: list[tuple[Path, str]] = []

    def start(specs: list[dict[str, Any]] | None = None, name: str = "private") -> TargetsView:
        run_id = f"docker-{name}-{secrets.token_hex(3)}"
        run_dir = tmp_path / run_id
        started.append((run_dir, run_id))
        return up(run_dir, run_id, specs if specs is not None else specs_from_scenario(None))

    yield start
    for run_dir, run_id in started:
        reap(run_dir, run_id)


@pytest.fixture
def engine(shared_run: TargetsView) -> Iterator[FaultEngine]:
    journal = Journal(RunDir(shared_run.run_dir).journal)
    eng = FaultEngine(shared_run, journal)
    try:
        yield eng
    finally:
        eng.revert_all(by="test-teardown")
        eng.close()
        journal.close()
