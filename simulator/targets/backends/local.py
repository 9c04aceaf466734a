"""The local backend: the run's targets as subprocesses on 127.0.0.1, under a detached supervisor.

``up()`` writes the spec, starts ``python -m simulator.targets.supervisor RUN_DIR`` in its own
session (so it outlives the command that started it: ``gameday targets up`` returns and the
targets keep running), registers the run, and waits until every target is healthy.
``down()`` asks the supervisor to stop everything; if it is gone, it stops what the files name.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from typing import Any

from simulator.errors import EnvironmentProblem
from simulator.http import HTTPError, shared_client
from simulator.procs import log_tail, same_process, spawn, stop_process, wait_until
from simulator.rundir import RunDir
from simulator.runs import RunRecord, read_json, register, unregister, write_json_atomic
from simulator.targets import command, cpulimit
from simulator.targets.view import TargetsView


class LocalBackend:
    name = "local"

    def up(self, targets: list[dict[str, Any]], run_dir: Path, run_id: str, seed: int = 0,
           scenario: str = "", timeout: float = 60.0, owner_pid: int | None = None,
           time_scale: float = 1.0) -> TargetsView:
        """Start the targets; ``owner_pid`` is the process whose death makes the run a leftover
        (the runner; by default the supervisor itself, for manual play); ``time_scale``: the run's game
        seconds per wall second, handed to every app (``GAMEDAY_TIME_SCALE``)."""
        command.refuse_on(self.name, targets)
        limited = [t["name"] for t in targets if t.get("cpus")]
        if limited and (why := cpulimit.problem()) is not None:
            raise EnvironmentProblem(f"target {limited[0]}: targets[].cpus (a CPU limit) on the local backend: {why}")
        run_dir = Path(run_dir).resolve()
        run_dir.mkdir(parents=True, exist_ok=True)
        spec = {"run_id": run_id, "seed": seed, "targets": targets, "time_scale": time_scale}
        state = launch_supervisor("simulator.targets.supervisor", spec, run_dir, self.name, scenario, owner_pid,
                                  timeout)
        if state.get("status") != "ready":
            error = state.get("error") or log_tail(RunDir(run_dir).supervisor_log) or "did not become ready"
            self.down(run_dir)
            raise EnvironmentProblem(f"targets did not start: {error}")
        view = TargetsView(run_dir, state)
        try:
            for t in view.targets():
                for url in (t.health_url, t.standby_health_url):
                    if url:
                        wait_healthy(url, timeout=30)
        except BaseException:  # never leave a half-started run running (nor registered) behind
            self.down(run_dir)
            raise
        return view

    def down(self, run_dir: Path, timeout: float = 30.0) -> bool:
        """Stop the run's targets. True if anything was running."""
        run_dir = Path(run_dir)
        path = RunDir(run_dir).targets_json
        if not path.exists():
            unregister(run_id_of(run_dir))
            return False
        state = RunDir(run_dir).targets_state()
        sup = state.get("supervisor") or {}
        alive = same_process(sup.get("pid", -1), sup.get("create_time")) is not None
        was_running = alive
        if alive and sup.get("url"):
            with contextlib.suppress(HTTPError):
                shared_client().post(f"{sup['url']}/shutdown", json={}, timeout=5)
            wait_until(lambda: same_process(sup["pid"], sup.get("create_time")) is None, timeout, 0.1)
        if same_process(sup.get("pid", -1), sup.get("create_time")) is not None:
            stop_process(sup["pid"], sup.get("create_time"))
        # whatever the files still name (a supervisor killed with -9 takes its children with it,
        # but be certain): stop it
        state = RunDir(run_dir).targets_state()
        instances = [i for t in state.get("targets", {}).values() for i in (t, t.get("standby")) if i]  # standbys too
        leftovers = [(t.get("pid"), t.get("create_time")) for t in instances]
        leftovers.append(((state.get("proxy") or {}).get("pid"), (state.get("proxy") or {}).get("create_time")))
        for pid, created in leftovers:
            if pid and stop_process(pid, created, grace=3.0):
                was_running = True
        for t in instances:  # what your own service's command started, too
            if t.get("pgid") and command.stop_leftovers(t["pgid"], t.get("create_time")):
                was_running = True
        command.remove_data(run_dir, [i.get("name") for i in instances
                                      if i.get("app") == command.KIND])  # their {data} folders
        cpulimit.remove_run(str(state.get("run_id") or run_id_of(run_dir)))  # CPU-limit groups a kill -9 left
        unregister(state.get("run_id") or run_id_of(run_dir))
        return was_running


def launch_supervisor(module: str, spec: dict[str, Any], run_dir: Path, backend: str, scenario: str,
                      owner_pid: int | None, timeout: float) -> dict[str, Any]:
    """Write the spec, start ``python -m <module> RUN_DIR`` detached (its own session, so it outlives
    the command that started it), register the run, and wait until the supervisor reports ready,
    failed or stopped in ``targets.json``. Returns that state ({} if it never wrote one)."""
    folder = RunDir(run_dir)
    write_json_atomic(folder.targets_spec, spec)
    folder.targets_json.unlink(missing_ok=True)
    proc = spawn([sys.executable, "-m", module, str(run_dir)], folder.supervisor_log, detached=True)
    register(RunRecord(spec["run_id"], str(run_dir), backend, time.time(), owner_pid or proc.pid, scenario))
    state: dict[str, Any] = {}

    def settled() -> bool:
        nonlocal state
        path = folder.targets_json
        if path.exists():
            try:
                state = read_json(path)
            except ValueError:
                return False
            if state.get("status") in ("ready", "failed", "stopped"):
                return True
        return False

    wait_until(settled, timeout, 0.05, unless=lambda: proc.poll() is not None)
    return state


def run_id_of(run_dir: Path) -> str:
    """The run id a targets folder was started with (its folder name before the spec exists)."""
    spec = RunDir(run_dir).targets_spec
    return read_json(spec)["run_id"] if spec.exists() else run_dir.name


def wait_healthy(url: str, timeout: float = 30.0) -> None:
    """Wait until a GET of the health URL (``.../healthz`` of an app, your service's health path) answers 2xx."""
    if not wait_until(lambda: command.healthy(url)[0], timeout, 0.1):
        raise EnvironmentProblem(f"{url} did not answer 2xx within {timeout:g}s")
