"""A real OOM kill under a real memory limit, and a kill -9'd run cleaned up by label."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from helpers import healthy, journal, wait_for

from simulator.faults.ledger import Ledger
from simulator.procs import same_process
from simulator.targets.backends.docker import LABEL_RUN
from simulator.targets.view import TargetsView

pytestmark = [pytest.mark.docker, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


def _leaky_auth(policy: str) -> list[dict]:
    return [{"name": "auth", "app": "auth", "tier": "critical", "release": "v3.1.0-leaky",
             "config": {"leak_bytes_per_request": 2 * 2**20}, "memory_limit": 128 * 2**20,
             "restart": {"policy": policy, "max_restarts": 3, "backoff": "1s"}, "depends_on": []}]


def _leak_until_dead(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(trust_env=False, timeout=5) as client:
        while time.monotonic() < deadline:
            try:
                client.get(f"{url}/verify")
            except httpx.HTTPError:
                return  # the connection died with the process
    raise AssertionError("auth did not die of its leak")


def test_memory_leak_ends_in_a_real_oom_kill_then_a_policy_restart(private_run, docker_engine) -> None:
    view = private_run(_leaky_auth("on-failure"), name="oom")
    auth = view.target("auth")
    _leak_until_dead(auth.internal_url)
    crashes = wait_for(lambda: journal(view, "target.crashed"), 20)
    assert crashes and crashes[0]["oom_killed"] is True and crashes[0]["exit_code"] == 137
    assert crashes[0]["memory_limit"] == 128 * 2**20
    restarted = wait_for(lambda: journal(view, "target.restarted"), 20)
    assert restarted and restarted[0]["reason"] == "policy"
    assert wait_for(lambda: healthy(auth.url), 20)  # back, behind the same front proxy
    state = wait_for(lambda: (t := view.refresh().target("auth")).oom_kills >= 1 and t, 10)
    assert state.oom_kills >= 1 and state.restarts >= 1 and state.raw["last_exit"]["oom_killed"] is True
    assert docker_engine.api.inspect_container(auth.container)["RestartCount"] >= 1


def test_without_a_restart_policy_the_oom_kill_stays_visible_in_the_container_state(private_run,
                                                                                     docker_engine) -> None:
    view = private_run(_leaky_auth("never"), name="oom-stays")
    auth = view.target("auth")
    _leak_until_dead(auth.internal_url)
    state = wait_for(lambda: (s := docker_engine.api.inspect_container(auth.container)["State"])["Status"]
                     == "exited" and s, 20)
    assert state["OOMKilled"] is True and state["ExitCode"] == 137
    assert wait_for(lambda: view.refresh().target("auth").status == "failed", 10)


SCRIPT = """
import json, os, sys
from pathlib import Path
from simulator.faults.engine import FaultEngine
from simulator.journal import Journal
from simulator.targets.backends.docker import DockerBackend
from simulator.targets.spec import specs_from_scenario
run_dir = Path(sys.argv[1])
view = DockerBackend().up(specs_from_scenario(None), run_dir, sys.argv[2], owner_pid=os.getpid())
engine = FaultEngine(view, Journal(run_dir / "journal.jsonl"))
engine.inject("container.pause", "auth")
engine.inject("proxy.latency", "gateway->payments", {"latency": 1000})
engine.inject("container.stop", "payments")
print(json.dumps({"ready": True}), flush=True)
import time; time.sleep(600)
"""


def test_kill_9_of_a_docker_run_then_cleanup_leaves_nothing_behind(docker_engine, gameday_home, tmp_path) -> None:
    run_id = f"docker-kill9-{os.getpid()}"
    run_dir = tmp_path / run_id
    env = {**os.environ, "GAMEDAY_HOME": str(gameday_home)}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(run_dir), run_id], stdout=subprocess.PIPE,
                            env=env, cwd=REPO, text=True)
    try:
        line = proc.stdout.readline()
        assert json.loads(line)["ready"], line
        view = TargetsView.load(run_dir)
        label = {"label": f"{LABEL_RUN}={run_id}"}
        assert len(docker_engine.containers.list(all=True, filters=label)) == 3
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        r = subprocess.run([sys.executable, "-m", "simulator", "cleanup"], env=env, cwd=REPO,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert docker_engine.containers.list(all=True, filters=label) == []
        assert docker_engine.networks.list(filters=label) == []
        with Ledger.of_run(run_dir) as ledger:
            assert ledger.open_entries() == []
            assert len(ledger.entries()) == 3
        sup = view.data["supervisor"]
        assert same_process(sup["pid"], sup["create_time"]) is None
        assert (run_dir / "logs" / "auth.log").exists()
        assert not list((gameday_home / "active").glob(f"{run_id}*"))
        again = subprocess.run([sys.executable, "-m", "simulator", "cleanup"], env=env, cwd=REPO,
                               capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
    finally:
        if proc.poll() is None:
            proc.kill()
        from simulator.targets.backends.docker import remove_run_resources

        remove_run_resources(run_id, None)


def test_cleanup_sweeps_labelled_leftovers_the_registry_forgot(docker_engine, gameday_home, private_run) -> None:
    view = private_run(_leaky_auth("never"), name="forgotten")
    sup = view.data["supervisor"]
    os.kill(sup["pid"], signal.SIGKILL)  # the supervisor dies; its containers do not
    (gameday_home / "active" / f"{view.run_id}.json").unlink()  # and the registry lost the run
    label = {"label": f"{LABEL_RUN}={view.run_id}"}
    assert docker_engine.containers.list(all=True, filters=label)
    r = subprocess.run([sys.executable, "-m", "simulator", "cleanup"], cwd=REPO, capture_output=True, text=True,
                       env={**os.environ, "GAMEDAY_HOME": str(gameday_home)}, timeout=120)
    assert r.returncode == 0, r.stderr
    assert docker_engine.containers.list(all=True, filters=label) == []
    assert docker_engine.networks.list(filters=label) == []
