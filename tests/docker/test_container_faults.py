"""Each container fault's observable effect on a real container, and its (idempotent) revert."""

from __future__ import annotations

import secrets

import pytest
from helpers import charge_via_gateway, get, healthy, journal, wait_for

from simulator.errors import InputError, SafetyViolation
from simulator.faults.engine import FaultEngine
from simulator.journal import Journal
from simulator.runs import write_json_atomic
from simulator.targets.backends.docker import LABEL_RUN
from simulator.targets.ops import OpsConsole
from simulator.targets.view import TargetsView

pytestmark = pytest.mark.docker


def _state(docker_engine, view: TargetsView, target: str) -> dict:
    return docker_engine.api.inspect_container(view.target(target).container)["State"]


def test_paused_container_stops_answering_and_revert_unpauses(engine: FaultEngine, shared_run, docker_engine) -> None:
    url = shared_run.target("auth").internal_url
    entry = engine.inject("container.pause", "auth")
    assert _state(docker_engine, shared_run, "auth")["Paused"] is True
    assert not healthy(url, timeout=1.0)
    engine.revert(entry.id)
    assert _state(docker_engine, shared_run, "auth")["Paused"] is False
    assert healthy(url)
    assert engine.revert(entry.id).state == "reverted"  # twice is harmless


def test_stopped_container_refuses_and_revert_starts_it(engine: FaultEngine, shared_run, docker_engine) -> None:
    url = shared_run.target("auth").internal_url
    entry = engine.inject("container.stop", "auth")
    assert _state(docker_engine, shared_run, "auth")["Running"] is False
    assert not healthy(url, timeout=1.0)
    assert shared_run.refresh().target("auth").status == "stopped"
    engine.revert(entry.id)
    assert wait_for(lambda: healthy(url), 20)
    assert shared_run.refresh().target("auth").status == "running"


def test_killed_container_is_journalled_and_revert_starts_it(engine: FaultEngine, shared_run, docker_engine) -> None:
    url = shared_run.target("auth").internal_url
    entry = engine.inject("container.kill", "auth", {"signal": "SIGKILL"})
    assert wait_for(lambda: _state(docker_engine, shared_run, "auth")["Status"] == "exited", 10)
    assert _state(docker_engine, shared_run, "auth")["ExitCode"] == 137
    crash = wait_for(lambda: [e for e in journal(shared_run, "target.crashed") if e["name"] == "auth"], 10)
    assert crash[-1]["signal"] == "SIGKILL" and crash[-1]["oom_killed"] is False
    engine.revert(entry.id)
    assert wait_for(lambda: healthy(url), 20)
    engine.revert(entry.id)


def test_restart_bumps_the_restart_count(engine: FaultEngine, shared_run, docker_engine) -> None:
    before = shared_run.refresh().target("auth").restarts
    started = _state(docker_engine, shared_run, "auth")["StartedAt"]
    entry = engine.inject("container.restart", "auth")
    assert _state(docker_engine, shared_run, "auth")["StartedAt"] != started
    assert shared_run.refresh().target("auth").restarts == before + 1
    engine.revert(entry.id)
    assert wait_for(lambda: healthy(shared_run.target("auth").internal_url), 20)


def test_removed_container_is_recreated_on_revert_at_the_same_url(engine: FaultEngine, shared_run,
                                                                  docker_engine) -> None:
    from docker.errors import NotFound

    url = shared_run.target("auth").url
    old_id = shared_run.refresh().target("auth").raw["container_id"]
    entry = engine.inject("container.remove", "auth")
    with pytest.raises(NotFound):
        docker_engine.containers.get(old_id)
    assert not healthy(url, timeout=1.0)
    engine.revert(entry.id)
    assert healthy(url)  # same front proxy, same published port
    c = docker_engine.containers.get(shared_run.refresh().target("auth").container)
    assert c.id != old_id and c.labels[LABEL_RUN] == shared_run.run_id
    assert shared_run.refresh().target("auth").status == "running"  # what `targets status` says
    engine.revert(entry.id)


def test_update_changes_limits_and_revert_restores(engine: FaultEngine, shared_run, docker_engine) -> None:
    name = shared_run.target("payments").container
    before = docker_engine.api.inspect_container(name)["HostConfig"]
    entry = engine.inject("container.update", "payments", {"memory": "300MiB", "cpus": 0.5})
    host = docker_engine.api.inspect_container(name)["HostConfig"]
    assert host["Memory"] == 300 * 2**20 and host["NanoCpus"] == 500_000_000
    assert healthy(shared_run.target("payments").url)
    engine.revert(entry.id)
    host = docker_engine.api.inspect_container(name)["HostConfig"]
    info = docker_engine.info()  # the engine cannot lift a limit: "none" comes back as all of the engine
    assert host["Memory"] in (before["Memory"], info["MemTotal"])
    assert host["NanoCpus"] in (before["NanoCpus"], info["NCPU"] * 10**9)
    assert shared_run.refresh().target("payments").memory_limit == (before["Memory"] or None)
    engine.revert(entry.id)
    with pytest.raises(InputError):
        engine.inject("container.update", "payments", {})


def test_latency_on_the_link_between_two_containers(engine: FaultEngine, shared_run) -> None:
    fast, r = charge_via_gateway(shared_run)
    assert r.status_code == 201
    entry = engine.inject("proxy.latency", "gateway->payments", {"latency": 400})
    slow, r = charge_via_gateway(shared_run)
    assert r.status_code == 201 and slow >= 0.4, slow
    direct = get(f"{shared_run.target('payments').url}/healthz")  # payments' own front proxy: untouched
    assert direct.status_code == 200 and direct.elapsed.total_seconds() < 0.3
    engine.revert(entry.id)
    again, r = charge_via_gateway(shared_run)
    assert r.status_code == 201 and again < 0.4


def test_a_container_without_the_run_label_is_refused(shared_run, docker_engine, tmp_path) -> None:
    image = shared_run.data["image"]
    stranger = docker_engine.containers.run(image, ["sleep", "300"], detach=True,
                                            name=f"not-gameday-{secrets.token_hex(3)}", labels={"app": "theirs"})
    try:
        # a run folder whose targets.json names a container this run did not start
        data = dict(shared_run.data)
        data["targets"] = {"auth": {**shared_run.data["targets"]["auth"], "container": stranger.name,
                                    "container_id": stranger.id}}
        run_dir = tmp_path / "forged"
        run_dir.mkdir()
        write_json_atomic(run_dir / "targets.json", data)
        journal_ = Journal(run_dir / "journal.jsonl")
        eng = FaultEngine(TargetsView.load(run_dir), journal_)
        try:
            for kind in ("container.pause", "container.kill", "container.remove"):
                with pytest.raises(SafetyViolation, match="does not carry label gameday.run"):
                    eng.inject(kind, "auth")
            with pytest.raises(SafetyViolation):
                eng.inject("container.pause", "not-a-target")
        finally:
            eng.close()
            journal_.close()
        stranger.reload()
        assert stranger.status == "running"
    finally:
        stranger.remove(force=True)


def test_container_faults_need_the_docker_backend(tmp_path) -> None:
    run_dir = tmp_path / "local"
    run_dir.mkdir()
    write_json_atomic(run_dir / "targets.json", {"run_id": "r", "backend": "local", "targets": {
        "auth": {"app": "auth", "tier": "critical", "status": "running"}}})
    eng = FaultEngine(TargetsView.load(run_dir))
    try:
        with pytest.raises(InputError, match="docker backend"):
            eng.inject("container.pause", "auth")
    finally:
        eng.close()


def test_the_scale_lever_sets_the_containers_cpu_limit_live(shared_run, docker_engine, tmp_path) -> None:
    name = shared_run.target("auth").container
    with Journal(tmp_path / "ops.jsonl") as j:
        console = OpsConsole(shared_run, j, actor="alice")
        result = console.run("scale:auth.cpus=0.5")
        assert result["summary"] == "CPU limit 0.5 CPUs"
        assert docker_engine.api.inspect_container(name)["HostConfig"]["NanoCpus"] == 500_000_000
        assert healthy(shared_run.target("auth").url)
        console.run("scale:auth.cpus=none")  # no limit: every CPU of the engine
        every = docker_engine.info()["NCPU"] * 10**9
        assert docker_engine.api.inspect_container(name)["HostConfig"]["NanoCpus"] == every
