"""Your own service on a real Docker engine: the example shop built from its Dockerfile (FROM gameday/base, no
registry), each release its own image tag, a release switch that recreates the container from the other image (same
name, port and network), its levers, container and proxy faults on it, what cannot start (a missing image, a base
image the engine lacks, a failing build, a health path that never answers: one line, exit 3, nothing left), a game
day end to end with ``--responder auto``, and ``kill -9`` of the runner then ``gameday cleanup``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulator.errors import GamedayError
from simulator.faults.engine import FaultEngine
from simulator.journal import Journal, read_events
from simulator.rundir import RunDir
from simulator.scenario import load_scenario
from simulator.scenario.model import Target
from simulator.targets.backends.docker import LABEL_HOME, LABEL_RUN, LABEL_TARGET, DockerBackend
from simulator.targets.ops import OpsConsole
from simulator.targets.spec import specs_from_scenario, target_spec
from simulator.targets.view import TargetsView
from tests.helpers import web
from tests.helpers.own_service import EXAMPLE, ROOT, admin, orders, version
from tests.helpers.runhelpers import alerts_fired, cleanup_cli, run_with_fault
from tests.helpers.scenario_edits import copy_example
from tests.helpers.waits import wait_for

pytestmark = [pytest.mark.docker, pytest.mark.slow]
GAMEDAY = [sys.executable, "-m", "simulator"]


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return copy_example(EXAMPLE, tmp_path / "shop") / "shop-docker.yaml"


def labelled(client: Any, key: str, value: str) -> tuple[list[Any], list[Any]]:
    """The containers and networks carrying label ``key=value``."""
    flt = {"label": f"{key}={value}"}
    return client.containers.list(all=True, filters=flt), client.networks.list(filters=flt)


def test_build_releases_levers_and_faults_on_your_own_container(shop: Path, private_run, docker_engine) -> None:
    s = load_scenario(shop)
    view: TargetsView = private_run(specs_from_scenario(s), name="own")
    journal = Journal(RunDir(view.run_dir).journal)
    engine = FaultEngine(view, journal)
    ops = OpsConsole(view, journal, actor="test")
    try:
        t = view.target("shop")
        assert t.app == "image" and t.status == "running" and t.container == f"gameday-{view.run_id}-shop"
        assert version(view) == "v1.0.0" and set(orders(t.url or "")) == {201}
        with httpx.Client(trust_env=False, timeout=10) as client:
            assert "shop_orders_total" in client.get(t.metrics_url or "").text
        c = docker_engine.containers.get(t.container)
        repo = t.raw["image"].rsplit(":", 1)[0]
        assert c.image.tags == [f"{repo}:v1.0.0"] and repo.startswith("gameday-own/shop-")
        assert c.labels[LABEL_RUN] == view.run_id and c.labels[LABEL_TARGET] == "shop"
        bindings = c.attrs["HostConfig"]["PortBindings"]["8080/tcp"]
        assert [b["HostIp"] for b in bindings] == ["127.0.0.1"]  # published on loopback only
        assert c.attrs["HostConfig"]["Memory"] == 256 * 2**20 and c.attrs["HostConfig"]["NanoCpus"] == 10**9
        for release in ("v1.1.0", "v1.1.1"):  # every release built up front, each its own tag
            assert docker_engine.images.get(f"{repo}:{release}").labels["gameday.build"] == str(shop.parent)

        # the release fault: a new container from the bad release's image, same name, address and network
        engine.inject("app.release", "shop", {"version": "v1.1.0"}, fault_id="bad-release")
        bad = docker_engine.containers.get(t.container)
        assert bad.id != c.id and bad.image.tags == [f"{repo}:v1.1.0"] and version(view) == "v1.1.0"
        assert view.target("shop").url == t.url  # its front proxy: what the load and the monitor reach
        assert bad.attrs["HostConfig"]["PortBindings"]["8080/tcp"][0]["HostIp"] == "127.0.0.1"
        assert list(bad.attrs["NetworkSettings"]["Networks"]) == [view.data["network"]]
        assert [x.id for x in labelled(docker_engine, LABEL_RUN, view.run_id)[0]] == [bad.id]  # the old one went
        assert 500 in orders(view.target("shop").url or "", 40)

        # the service's own degrade switch, through its lever, then the rollback: the good image, the flag again
        ops.run("flag:shop.recommendations_off=on")
        assert admin(view)["flags"] == {"recommendations_off": True}
        assert set(orders(view.target("shop").url or "", 40)) == {201}
        ops.run("rollback:shop")
        assert docker_engine.containers.get(t.container).image.tags == [f"{repo}:v1.0.0"]
        assert version(view) == "v1.0.0" and admin(view)["flags"] == {"recommendations_off": True}
        ops.run("config:shop.latency_ms=12")
        assert admin(view)["config"] == {"latency_ms": 12}
        # a switch between good releases drops no order: the new container answers before the proxy moves to it
        placed: list[int] = []
        stop = threading.Event()
        worker = threading.Thread(target=keep_ordering, args=(t.url or "", placed, stop), daemon=True)
        worker.start()
        wait_for(lambda: len(placed) >= 20, 30, "20 orders placed")
        ops.run("deploy:shop=v1.1.1")
        count = len(placed)
        wait_for(lambda: len(placed) >= count + 20, 30, "20 more orders after the switch")
        stop.set()
        worker.join(10)
        assert len(placed) >= 40 and placed.count(201) >= len(placed) - 1, placed  # a stop-then-start loses dozens
        assert version(view) == "v1.1.1" and admin(view)["config"] == {"latency_ms": 12}

        # container faults: a restart inside the same container (its flags and settings set again), a pause
        engine.inject("container.restart", "shop", {}, fault_id="restart")
        assert wait_for(lambda: admin_or_none(view) == {"version": "v1.1.1", "flags": {"recommendations_off": True},
                                                        "config": {"latency_ms": 12}}, 30,
                        "the flags and settings set again after the restart")
        engine.inject("container.pause", "shop", {}, fault_id="pause")
        with pytest.raises(httpx.TimeoutException), httpx.Client(trust_env=False, timeout=1) as client:
            client.get(view.target("shop").health_url or "")
        engine.revert("pause")
        assert version(view) == "v1.1.1"
        # a network fault on its front proxy
        engine.inject("proxy.down", "shop", {}, fault_id="down")
        with pytest.raises(httpx.TransportError), httpx.Client(trust_env=False, timeout=5) as client:
            client.get(view.target("shop").health_url or "")
        engine.revert("down")
        assert version(view) == "v1.1.1"

        _, errors = engine.revert_all()
        assert errors == []
        assert {e.state for e in engine.entries()} == {"reverted"}
        events = read_events(RunDir(view.run_dir).journal)
        kinds = {e.kind for e in events}
        assert {"ops.flag", "ops.rollback", "ops.config", "ops.deploy", "fault.injected"} <= kinds
        switches = [e.data for e in events if e.kind == "target.restarted" and e.data.get("recreated")]
        assert [d["reason"] for d in switches] == ["release v1.1.0", "release v1.0.0", "release v1.1.1"]
        assert [d["image"] for d in switches] == [f"{repo}:v1.1.0", f"{repo}:v1.0.0", f"{repo}:v1.1.1"]
        assert not [e for e in events if e.kind == "target.crashed"]  # a switch is not a crash
    finally:
        engine.close()
        journal.close()


def test_your_container_reaches_a_dependency_through_its_link_proxy(shop: Path, private_run, docker_engine) -> None:
    spec = specs_from_scenario(load_scenario(shop))[0]
    spec.update(depends_on=["payments"], build={**spec["build"], "env": {"UPSTREAM": "{url:payments}"}})
    view: TargetsView = private_run([target_spec(Target(name="payments", app="payments")), spec], name="own-link")
    container = docker_engine.containers.get(view.target("shop").container)
    probe = ["python3", "-c", "import os, urllib.request; "
             "print(urllib.request.urlopen(os.environ['UPSTREAM'] + '/healthz', timeout=5).status)"]
    journal = Journal(RunDir(view.run_dir).journal)
    engine = FaultEngine(view, journal)
    try:
        code, output = container.exec_run(probe)
        assert (code, output.strip()) == (0, b"200"), output  # {url:payments}: the relay, then the link proxy
        engine.inject("proxy.down", "shop->payments", {}, fault_id="link-down")
        code, output = container.exec_run(probe)
        assert code != 0 and b"200" not in output, output  # the fault lives in the link proxy
        engine.revert("link-down")
        assert container.exec_run(probe)[0] == 0
    finally:
        engine.close()
        journal.close()


#: a service that is not HTTP: it notes each start in its {data} folder, then answers TCP on port 7000
KEEPER = ("import os, signal, socket\n"
          "signal.signal(signal.SIGTERM, lambda *_: os._exit(0))\n"
          "open(os.path.join(os.environ['DATA'], 'starts'), 'a').write(os.environ['RELEASE'] + '\\n')\n"
          "server = socket.create_server(('0.0.0.0', 7000))\n"
          "while True:\n"
          "    conn, _ = server.accept()\n"
          "    conn.sendall(b'keeper\\n')\n"
          "    conn.close()\n")


def test_data_address_and_tcp_health_in_your_container(private_run, docker_engine) -> None:
    keeper = Target.model_validate({
        "name": "keeper", "depends_on": ["payments"],
        "image": {"name": "gameday/base:bookworm", "argv": ["python3", "-c", KEEPER], "port": 7000, "health": "tcp",
                  "startup_timeout": "5s", "env": {"DATA": "{data}", "PAYMENTS": "{addr:payments}", "RELEASE": "v1"}},
        "releases": {"v1": {}, "v2": {"env": {"RELEASE": "v2"}},
                     "mute": {"argv": ["sleep", "600"], "good": False, "notes": "never listens"}}})
    view: TargetsView = private_run([target_spec(Target(name="payments", app="payments")), target_spec(keeper)],
                                    name="own-data")
    journal = Journal(RunDir(view.run_dir).journal)
    ops = OpsConsole(view, journal, actor="test")

    def starts() -> str:
        c = docker_engine.containers.get(view.refresh().target("keeper").container)
        return c.exec_run(["cat", "/data/starts"])[1].decode()

    try:
        first = docker_engine.containers.get(view.target("keeper").container)
        assert starts() == "v1\n"  # {data}: /data, the run's volume for it
        [volume] = docker_engine.volumes.list(filters={"label": f"{LABEL_RUN}={view.run_id}"})
        assert volume.name == f"gameday-{view.run_id}-keeper-data"
        assert [(m["Name"], m["Destination"]) for m in first.attrs["Mounts"]] == [(volume.name, "/data")]
        probe = ["python3", "-c", "import os, urllib.request; print(urllib.request.urlopen('http://' + "
                 "os.environ['PAYMENTS'] + '/healthz', timeout=5).status)"]
        assert first.exec_run(probe)[1].strip() == b"200"  # {addr:payments}: IP:PORT of the relay to the link proxy
        # a release that never listens: the published port would accept (the engine's proxy); the check does not
        with pytest.raises(GamedayError) as info:
            ops.run("deploy:keeper=mute")
        assert "did not come up" in str(info.value) and "accepted no TCP connection within 5s" in str(info.value)
        assert wait_for(lambda: starts() == "v1\nv1\n", 30, "the old container started again")  # one at a time
        assert docker_engine.containers.get(view.target("keeper").container).id == first.id
        ops.run("deploy:keeper=v2")
        after = docker_engine.containers.get(view.refresh().target("keeper").container)
        assert after.id != first.id and after.name == first.name
        assert starts() == "v1\nv1\nv2\n"  # the data outlives the container it was written in
        assert [c.id for c in labelled(docker_engine, LABEL_TARGET, "keeper")[0]
                if c.labels[LABEL_RUN] == view.run_id] == [after.id]
    finally:
        journal.close()
    DockerBackend().down(view.run_dir)
    assert docker_engine.volumes.list(filters={"label": f"{LABEL_RUN}={view.run_id}"}) == []


def keep_ordering(url: str, placed: list[int], stop: threading.Event) -> None:
    """Orders one after another, each on a fresh connection, until ``stop``; each one's status (0: no answer)."""
    while not stop.is_set():
        try:
            placed.append(web.post(f"{url}/orders", json={"product": "tea"}, timeout=10).status_code)
        except httpx.HTTPError:
            placed.append(0)


def admin_or_none(view: TargetsView) -> dict[str, Any] | None:
    try:
        return admin(view)
    except (httpx.HTTPError, ValueError):
        return None


BROKEN = {
    "missing image": (lambda text: text.replace(
        "    build:\n      context: .                                  # this folder: the Dockerfile beside shop.py\n",
        "    image:\n      name: gameday-test/absent-shop:v1\n").replace(
        "{args: {SHOP_VERSION: v1.0.0}", "{env: {}").replace(
        "{args: {SHOP_VERSION: v1.1.0, SHOP_RECO_FAIL_RATE: \"0.5\"}", "{env: {}").replace(
        "{args: {SHOP_VERSION: v1.1.1}", "{env: {}"),
        "target shop: its image gameday-test/absent-shop:v1 is not in the Docker engine, and gameday pulls nothing",
        "docker build -t gameday-test/absent-shop:v1"),
    "missing base": (lambda text: text, "builds FROM gameday-test/absent-base:1, which is not in the Docker engine",
                     "build FROM an image 'docker images' lists"),
    "failing build": (lambda text: text, "building release v1.0.0 from", "fix Dockerfile (build log:"),
    "health never answers": (lambda text: text.replace("health: /health ", "startup_timeout: 5s\n      health: /nope "),
                             "target shop: GET /nope did not answer 2xx within 5s (last: HTTP 404)",
                             "fix build.health"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_what_cannot_start_is_one_line_exit_3_and_nothing_left(case: str, shop: Path, tmp_path: Path,
                                                               docker_engine) -> None:
    edit, says, fix = BROKEN[case]
    shop.write_text(edit(shop.read_text()))
    dockerfile = shop.parent / "Dockerfile"
    if case == "missing base":
        dockerfile.write_text(dockerfile.read_text().replace("FROM gameday/base:bookworm",
                                                             "FROM gameday-test/absent-base:1"))
    if case == "failing build":
        dockerfile.write_text(dockerfile.read_text().replace("EXPOSE 8080", "RUN exit 7\nEXPOSE 8080"))
    home = tmp_path / "home"
    r = subprocess.run([*GAMEDAY, "targets", "up", str(shop), "--backend", "docker", "--out", str(tmp_path / "runs")],
                       cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "GAMEDAY_HOME": str(home)})
    assert r.returncode == 3, r.stdout + r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and says in lines[0] and fix in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert labelled(docker_engine, LABEL_HOME, str(home)) == ([], [])  # no container, no network left
    assert not list((home / "active").glob("*.json")) if (home / "active").exists() else True
    assert all(str(tmp_path / "runs") not in " ".join(p) for p in _cmdlines())  # no supervisor, no proxy


def _cmdlines() -> list[list[str]]:
    import psutil

    out = []
    for p in psutil.process_iter(["cmdline", "status"]):
        if p.info["status"] != psutil.STATUS_ZOMBIE:
            out.append(p.info["cmdline"] or [])
    return out


def start_run(shop: Path, out: Path, home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*GAMEDAY, "run", str(shop), "--backend", "docker", "--out", str(out), *args], cwd=ROOT,
                            env={**os.environ, "GAMEDAY_HOME": str(home)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def test_a_game_day_on_your_own_image(shop: Path, tmp_path: Path, docker_engine) -> None:
    home = tmp_path / "home"
    proc = start_run(shop, tmp_path / "runs", home, "--responder", "auto", "--time-scale", "4", "--json")
    out, err = proc.communicate(timeout=900)
    assert "Traceback" not in err, err[-3000:]
    run_dir = next((tmp_path / "runs").glob("*/journal.jsonl")).parent
    summary = json.loads(RunDir(run_dir).summary_json.read_text())
    assert summary["outcome"] == "recovered", (summary, err[-2000:])
    assert proc.returncode == 0, err[-2000:]
    result = json.loads(out)
    assert result["score"] >= 90, result
    fired = alerts_fired(run_dir)
    assert "ShopOrdersFailing" in fired  # the scenario's rule on the shop's own counter, scraped in the container
    rollback = [e for e in read_events(RunDir(run_dir).journal, "ops.rollback") if e.data["target"] == "shop"]
    assert rollback and rollback[0].data["actor"] == "responder"
    assert [e.data["action"] for e in read_events(RunDir(run_dir).journal, "ops.deploy")] == ["deploy:shop=v1.1.1"]
    assert labelled(docker_engine, LABEL_HOME, str(home)) == ([], [])


def test_kill_9_of_the_runner_then_cleanup_leaves_no_container(shop: Path, tmp_path: Path, docker_engine) -> None:
    home = tmp_path / "home"
    proc = start_run(shop, tmp_path / "runs", home, "--time-scale", "4")
    try:
        run_dir = run_with_fault(tmp_path / "runs", proc, 300)
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
        containers, networks = labelled(docker_engine, LABEL_HOME, str(home))
        assert [c.labels[LABEL_TARGET] for c in containers] == ["shop"] and networks  # it outlives the runner
        r = cleanup_cli(home)
        assert r.returncode == 0, r.stderr
        assert "reverted 1 fault(s)" in r.stdout
        assert labelled(docker_engine, LABEL_HOME, str(home)) == ([], [])
        assert (run_dir / "logs" / "shop.log").exists()  # its log saved before the container went
    finally:
        if proc.poll() is None:
            proc.kill()
        for c in labelled(docker_engine, LABEL_HOME, str(home))[0]:
            c.remove(force=True)
