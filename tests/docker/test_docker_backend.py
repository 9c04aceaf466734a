"""The docker backend on a real engine: services in containers, limits, labels, teardown, errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers import charge_via_gateway, get, healthy

from simulator.errors import EnvironmentProblem
from simulator.targets.backends.docker import LABEL_RUN, DockerBackend, check_image, docker_client
from simulator.targets.view import TargetsView

pytestmark = pytest.mark.docker


def test_each_service_runs_in_its_own_labelled_container_published_on_loopback_only(
        shared_run: TargetsView, docker_engine) -> None:
    view = shared_run
    assert view.backend == "docker"
    assert sorted(view.names) == ["auth", "gateway", "payments"]
    for t in view.targets():
        assert t.status == "running"
        assert healthy(t.url) and healthy(t.internal_url), t.name
        c = docker_engine.containers.get(t.container)
        assert c.labels[LABEL_RUN] == view.run_id and c.labels["gameday.target"] == t.name
        bindings = c.attrs["NetworkSettings"]["Ports"]["8000/tcp"]
        assert bindings and all(b["HostIp"] == "127.0.0.1" for b in bindings), bindings
        assert t.url.startswith("http://127.0.0.1:") and t.internal_url.startswith("http://127.0.0.1:")
        assert list(c.attrs["NetworkSettings"]["Networks"]) == [view.data["network"]]
    net = docker_engine.networks.get(view.data["network"])
    assert net.attrs["Labels"][LABEL_RUN] == view.run_id


def test_a_request_through_each_service(shared_run: TargetsView) -> None:
    took, r = charge_via_gateway(shared_run)  # gateway container -> link proxy -> payments container
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "captured"
    assert get(f"{shared_run.target('payments').url}/charges/{r.json()['id']}").status_code == 200
    assert get(f"{shared_run.target('auth').url}/verify").status_code == 401  # no token: answered, refused


@pytest.mark.slow
def test_limits_from_the_spec_and_teardown_removes_everything_and_keeps_logs(private_run, docker_engine) -> None:
    spec = [{"name": "auth", "app": "auth", "tier": "critical", "memory_limit": 256 * 2**20, "cpus": 0.5,
             "restart": {"policy": "always", "max_restarts": 3, "backoff": "1s"}, "depends_on": []}]
    view = private_run(spec, name="limits")
    c = docker_engine.containers.get(view.target("auth").container)
    host = c.attrs["HostConfig"]
    assert host["Memory"] == 256 * 2**20 and host["MemorySwap"] == 256 * 2**20
    assert host["NanoCpus"] == 500_000_000
    assert host["RestartPolicy"]["Name"] == "always"
    assert DockerBackend().down(view.run_dir) is True
    label = {"label": f"{LABEL_RUN}={view.run_id}"}
    assert docker_engine.containers.list(all=True, filters=label) == []
    assert docker_engine.networks.list(filters=label) == []
    log = view.run_dir / "logs" / "auth.log"
    assert log.exists() and '"listening"' in log.read_text()
    assert TargetsView.load(view.run_dir).status == "stopped"
    assert DockerBackend().down(view.run_dir) is False  # twice is harmless


def test_a_missing_image_is_an_environment_problem_naming_the_fix(docker_engine) -> None:
    with pytest.raises(EnvironmentProblem, match="make images") as info:
        check_image(docker_engine, "gameday/no-such-image:never")
    assert info.value.exit_code == 3


def test_no_engine_is_an_environment_problem_saying_how_to_start_one(monkeypatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(EnvironmentProblem, match="dockerd") as info:
        docker_client()
    assert info.value.exit_code == 3


def test_cli_targets_up_without_engine_exits_3(tmp_path) -> None:
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock", "GAMEDAY_HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-m", "simulator", "targets", "up", "--backend", "docker",
                        "--out", str(tmp_path / "runs")], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 3, r.stderr
    assert "Docker engine" in r.stderr and "dockerd" in r.stderr


def test_container_stats_sample_each_target(shared_run: TargetsView) -> None:
    from simulator.targets.backends.docker import container_stats

    stats = container_stats(shared_run)
    assert sorted(stats) == ["auth", "gateway", "payments"]
    for name, s in stats.items():
        assert s["status"] == "running", (name, s)
        assert s["memory_bytes"] > 10 * 2**20 and s["cpu_percent"] >= 0.0
        assert s["oom_killed"] is False and s["restarts"] >= 0
