"""An example gameday did not write, on real processes: Kinto (the open-source JSON storage server, from PyPI)
on a real PostgreSQL server (``examples/kinto``). PostgreSQL is a target with ``health: tcp`` whose data folder
(``{data}``) lives in the run folder; Kinto reaches it through the ``kinto->postgres`` link proxy, so a network
fault on the link is felt; the game day ends recovered with the lever that restored service credited.

PostgreSQL and Kinto must be on this machine: when they are not, these tests FAIL saying what is missing (CI
installs Kinto with ``make install``; the PostgreSQL binaries are on its PATH), never skip."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import pwd
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from simulator.faults.engine import FaultEngine
from simulator.journal import Journal, read_events
from simulator.rundir import RunDir
from simulator.scenario import load_scenario
from simulator.scoring.card import ScoreCard
from simulator.targets.backends.local import LocalBackend
from simulator.targets.command import healthy
from simulator.targets.spec import specs_from_scenario
from simulator.targets.view import TargetsView
from tests.helpers.runhelpers import ROOT, alerts_fired, cleanup_cli, run_with_fault

pytestmark = pytest.mark.slow

EXAMPLE = ROOT / "examples" / "kinto"
GAMEDAY = [sys.executable, "-m", "simulator"]
ORDERS = "/v1/buckets/default/collections/orders/records"
AUTH = ("tester", "not-a-secret")


def require_postgres_and_kinto() -> None:
    """Fail (never skip) naming what is missing."""
    missing = [b for b in ("initdb", "postgres") if shutil.which(b) is None]
    if missing:
        pytest.fail(f"the PostgreSQL binaries {missing} are not on PATH: these tests need a real PostgreSQL server "
                    f"(these machines have them in /usr/local/bin; on Debian: apt-get install postgresql and put "
                    f"/usr/lib/postgresql/<version>/bin on PATH)")
    if importlib.util.find_spec("kinto") is None:
        pytest.fail("Kinto is not installed: `make install` installs it (pyproject's 'examples' extra)")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("running as root, PostgreSQL needs a user to run as and there is no 'postgres' user "
                        "(.ci/run creates it: useradd --system postgres)")


@pytest.fixture
def example() -> Iterator[Path]:
    """A copy of the example in a folder PostgreSQL's own user can reach (pytest's tmp_path is root's only):
    its scenario file. Removed afterwards."""
    require_postgres_and_kinto()
    base = Path(tempfile.mkdtemp(prefix="gameday-kinto-"))
    base.chmod(0o755)
    folder = base / "kinto"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    try:
        yield folder / "kinto.yaml"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def target_processes(pgid: int) -> list[psutil.Process]:
    """Live processes of a command target: its process group and what they started (PostgreSQL's own processes
    each call setsid(), so they are in groups of their own)."""
    out: list[psutil.Process] = []
    for p in psutil.process_iter(["status"]):
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(p.pid) == pgid and p.info["status"] != psutil.STATUS_ZOMBIE:
                out += [p, *p.children(recursive=True)]
    return out


def alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    """Those of ``procs`` still running (the same processes: pid and start time)."""
    out = []
    for p in procs:
        with contextlib.suppress(psutil.Error):
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
    return out


def query(url: str, sql: str) -> Any:
    """One SQL statement through the target's front proxy (psycopg, the tracker's PostgreSQL driver)."""
    import psycopg

    address = url.split("://", 1)[1]
    host, port = address.rsplit(":", 1)
    with psycopg.connect(host=host, port=int(port), user="kinto", dbname="postgres", connect_timeout=10) as conn:
        return conn.execute(sql).fetchone()


def kinto_calls(url: str, n: int) -> tuple[list[int], list[float]]:
    """``n`` order listings: their status codes and wall seconds."""
    codes, seconds = [], []
    with httpx.Client(trust_env=False, timeout=30, auth=AUTH) as client:
        for _ in range(n):
            start = time.perf_counter()
            codes.append(client.get(url + ORDERS).status_code)
            seconds.append(time.perf_counter() - start)
    return codes, seconds


def test_postgres_target_tcp_health_data_in_the_run_folder_and_cleanup_after_kill_9(example: Path,
                                                                                      gameday_home: Path) -> None:
    s = load_scenario(example)
    specs = [spec for spec in specs_from_scenario(s) if spec["name"] == "postgres"]
    run_dir = example.parent.parent / "runs" / "pg-1"
    view = LocalBackend().up(specs, run_dir, "pg-1", scenario=s.metadata.name, owner_pid=os.getpid())
    pg = view.target("postgres")
    data = RunDir(run_dir).command_data("postgres")
    assert pg.status == "running" and pg.health_url == "tcp://" + (pg.url or "").split("://")[1]
    assert healthy(pg.health_url or "") == (True, "TCP connection accepted")
    assert query(pg.url or "", "select 40 + 2") == (42,)  # a real server, through its front proxy
    assert (data / "cluster" / "PG_VERSION").is_file()  # its files in the run folder
    pgid = json.loads(RunDir(run_dir).targets_json.read_text())["targets"]["postgres"]["pgid"]
    procs = target_processes(pgid)
    assert len(procs) >= 3, procs  # the postmaster and its own processes (checkpointer, writer...)

    # kill -9 of the supervisor: nothing stops PostgreSQL gracefully; `gameday cleanup` must
    state = json.loads(RunDir(run_dir).targets_json.read_text())
    os.kill(state["supervisor"]["pid"], signal.SIGKILL)
    r = subprocess.run([*GAMEDAY, "cleanup", "--run", str(run_dir)], cwd=ROOT, capture_output=True, text=True,
                       timeout=120, env={**os.environ, "GAMEDAY_HOME": str(gameday_home)})
    assert r.returncode == 0, r.stdout + r.stderr
    deadline = time.monotonic() + 30
    while alive(procs) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert alive(procs) == [], "PostgreSQL outlived gameday cleanup"
    assert not data.exists(), "the database's files should be gone with the run's targets"
    assert healthy(pg.health_url or "")[0] is False


def test_a_fault_on_the_link_from_kinto_to_postgres_is_felt(example: Path, gameday_home: Path) -> None:
    s = load_scenario(example)
    run_dir = example.parent.parent / "runs" / "link-1"
    backend = LocalBackend()
    view = backend.up(specs_from_scenario(s), run_dir, "link-1", scenario=s.metadata.name, owner_pid=os.getpid())
    journal = Journal(RunDir(run_dir).journal)
    engine = FaultEngine(view, journal)
    try:
        kinto = view.target("kinto")
        assert list(kinto.depends_on) == ["postgres"]
        with httpx.Client(trust_env=False, timeout=30, auth=AUTH) as client:
            created = client.post(kinto.url + ORDERS, json={"data": {"item": "mug"}})
            assert created.status_code == 201, created.text
            assert client.get(kinto.url + "/v1/__heartbeat__").json()["storage"] is True
        # the order is in PostgreSQL: Kinto's own table, read with SQL through postgres' front proxy
        assert query(view.target("postgres").url or "", "select count(*) from objects "
                     "where resource_name = 'record'")[0] >= 1
        codes, _ = kinto_calls(kinto.url or "", 5)
        assert set(codes) == {200}

        # 150 ms each way on the link: every request, each of whose queries crosses it, takes longer than that
        engine.inject("proxy.latency", "kinto->postgres", {"latency": 150}, fault_id="slow-link")
        codes, seconds = kinto_calls(kinto.url or "", 5)
        assert set(codes) == {200} and statistics.median(seconds) >= 0.15, seconds
        engine.revert("slow-link")

        # the link down: Kinto cannot reach its database and says so (503; its heartbeat names the storage)
        engine.inject("proxy.down", "kinto->postgres", {}, fault_id="link-down")
        codes, _ = kinto_calls(kinto.url or "", 5)
        assert set(codes) == {503}, codes
        with httpx.Client(trust_env=False, timeout=30) as client:
            beat = client.get(kinto.url + "/v1/__heartbeat__")
        assert beat.status_code == 503 and beat.json()["storage"] is False, beat.text
        engine.revert("link-down")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and set(kinto_calls(kinto.url or "", 3)[0]) != {200}:
            time.sleep(0.5)
        assert set(kinto_calls(kinto.url or "", 5)[0]) == {200}  # back once the link is
        assert {e.state for e in engine.entries()} == {"reverted"}
    finally:
        engine.close()
        journal.close()
        backend.down(run_dir)
    assert not RunDir(run_dir).command_data("postgres").exists()


def start_run(scenario: Path, out: Path, home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*GAMEDAY, "run", str(scenario), "--out", str(out), *args], cwd=ROOT,
                            env={**os.environ, "GAMEDAY_HOME": str(home)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def test_the_kinto_game_day_with_the_auto_responder(example: Path, gameday_home: Path) -> None:
    out = example.parent.parent / "runs"
    proc = start_run(example, out, gameday_home, "--responder", "auto")
    stdout, err = proc.communicate(timeout=900)
    assert "Traceback" not in err, err[-3000:]
    run_dir = next(out.glob("*/journal.jsonl")).parent
    fired = alerts_fired(run_dir)
    assert "KintoOrdersFailing" in fired, (fired, err[-2000:])  # the rule on Kinto's own counter
    fault = read_events(RunDir(run_dir).journal, "fault.injected")[0]
    assert all(at >= fault.game for at in fired.values()), fired  # nothing fired in the steady baseline
    summary = json.loads(RunDir(run_dir).summary_json.read_text())
    assert summary["outcome"] == "recovered", (summary, stdout[-2000:], err[-2000:])
    card = ScoreCard.from_json(RunDir(run_dir).scorecard)
    text = card.dumps()
    assert card.overall >= 90, text[:6000]
    assert "rollback:kinto restored the steady state" in text, text[:4000]  # the lever that did it is credited
    assert "the permanent fix is planned" in text  # config-43, as a fix action item (a deploy restarts Kinto)
    reasons = [e.data.get("reason") for e in read_events(RunDir(run_dir).journal, "target.restarted")]
    assert reasons == ["release config-42", "release config-41"], reasons  # the fault, then the rollback
    assert proc.returncode == 0, (stdout[-2000:], err[-2000:])
    assert not RunDir(run_dir).command_data("postgres").exists()


def test_kill_9_of_the_runner_then_cleanup_stops_postgres_and_removes_its_data(example: Path,
                                                                               gameday_home: Path) -> None:
    out = example.parent.parent / "runs"
    proc = start_run(example, out, gameday_home)
    run_dir = run_with_fault(out, proc, 300)
    targets = json.loads(RunDir(run_dir).targets_json.read_text())["targets"]
    procs = {name: target_processes(t["pgid"]) for name, t in targets.items()}
    assert all(procs.values()), procs
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert alive(procs["postgres"]), "PostgreSQL should outlive a kill -9 of the runner"
    assert RunDir(run_dir).command_data("postgres").is_dir()
    r = cleanup_cli(gameday_home)
    assert r.returncode == 0, r.stderr
    assert "reverted 1 fault(s)" in r.stdout
    for name, started in procs.items():
        assert alive(started) == [], f"{name} outlived gameday cleanup"
    assert not RunDir(run_dir).command_data("postgres").exists()
    assert TargetsView.load(run_dir).target("postgres").status == "stopped"


def test_a_tcp_health_check_that_never_passes_is_one_line_exit_3_and_nothing_left(tmp_path: Path,
                                                                                   gameday_home: Path) -> None:
    """No PostgreSQL needed: a 'database' that never listens."""
    folder = tmp_path / "kinto"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__"))
    scenario = folder / "kinto.yaml"
    text = scenario.read_text()
    old = 'argv: ["sh", "postgres.sh", "{data}", "{port}"]'
    assert old in text
    scenario.write_text(text.replace(old, 'argv: ["{python}", "-c", "import time; time.sleep(60)", "{data}", '
                                          '"{port}"]', 1).replace("startup_timeout: 60s", "startup_timeout: 3s", 1))
    r = subprocess.run([*GAMEDAY, "targets", "up", str(scenario), "--out", str(tmp_path / "runs")], cwd=ROOT,
                       capture_output=True, text=True, timeout=120,
                       env={**os.environ, "GAMEDAY_HOME": str(gameday_home)})
    assert r.returncode == 3, r.stdout + r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "target postgres: tcp://127.0.0.1:" in lines[0], r.stderr
    assert "accepted no connection within 3s" in lines[0] and "fix command.health" in lines[0], r.stderr
    leftovers = [p for p in psutil.process_iter(["cmdline"]) if any(str(tmp_path) in a for a in
                                                                    p.info["cmdline"] or [])]
    assert leftovers == []
    assert list((tmp_path / "runs").glob("*/targets/postgres/data")) == []  # its {data} folder went with it
