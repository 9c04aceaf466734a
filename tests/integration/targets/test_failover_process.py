"""Standby instances and failover on real processes: the link-latency example's targets (gateway over payments,
payments with a standby) under the local supervisor, a real latency toxic on the ``gateway->payments`` link,
``ops failover`` and failing back through the ops console and the CLI, the standby supervised like the primary,
and ``kill -9`` of a run then ``gameday cleanup`` leaving no standby behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from simulator.errors import InputError
from simulator.faults.engine import FaultEngine
from simulator.journal import Journal, read_events
from simulator.procs import same_process
from simulator.rundir import RunDir
from simulator.scenario import load_scenario
from simulator.targets.backends.local import LocalBackend
from simulator.targets.ops import OpsConsole
from simulator.targets.spec import specs_from_scenario
from simulator.targets.view import TargetsView
from tests.helpers.runhelpers import ROOT, cleanup_cli
from tests.helpers.waits import wait_for

pytestmark = pytest.mark.slow

EXAMPLE = ROOT / "examples" / "link-latency" / "link-latency.yaml"
GAMEDAY = [sys.executable, "-m", "simulator"]
KEY = "gk_major_acme"  # one of the gateway's bundled customers
LATENCY_MS = 4000  # the link's toxic in these tests: far beyond the client's timeout below
TIMEOUT_S = 2.5


def charge(view: TargetsView) -> int | None:
    """A checkout through the gateway's public address: its status, or None when it did not answer in time."""
    body = {"customer_id": "cus_failover", "amount_cents": 1200, "currency": "USD"}
    try:
        with httpx.Client(trust_env=False, timeout=TIMEOUT_S) as client:
            return client.post(f"{view.target('gateway').url}/v1/charges", json=body,
                               headers={"X-API-Key": KEY}).status_code
    except httpx.TimeoutException:
        return None


def charges_on(url: str) -> float:
    """Charges an instance of payments has taken (its own /metrics, straight to the process)."""
    with httpx.Client(trust_env=False, timeout=10) as client:
        text = client.get(f"{url}/metrics").text
    return sum(s.value for f in text_string_to_metric_families(text) if f.name == "payments_charges"
               for s in f.samples if s.name == "payments_charges_total")



def test_failover_routes_round_a_slow_link_and_fails_back(gameday_home: Path, tmp_path: Path) -> None:
    s = load_scenario(EXAMPLE)
    run_dir = tmp_path / "runs" / "failover-1"
    backend = LocalBackend()
    view = backend.up(specs_from_scenario(s), run_dir, "failover-1", scenario=s.metadata.name, owner_pid=os.getpid())
    journal = Journal(RunDir(run_dir).journal)
    engine = FaultEngine(view, journal)
    ops = OpsConsole(view, journal, actor="test")
    try:
        payments = view.target("payments")
        standby = payments.standby
        assert standby is not None and standby["status"] == "running" and payments.serving == "primary"
        assert standby["pid"] != payments.pid and standby["url"] not in (payments.url, payments.internal_url)
        assert standby["url"].startswith("http://127.0.0.1:")
        assert view.target("gateway").standby is None
        link = view.links["gateway->payments"]
        assert link["proxy"] == "gateway--payments" and link["route"] == "gateway--payments.route"
        primary_url, standby_url = payments.internal_url or "", standby["url"]
        assert charge(view) == 201 and charges_on(primary_url) >= 1 and charges_on(standby_url) == 0

        # the network fault on the path to the primary: checkout does not answer within the client's timeout
        engine.inject("proxy.latency", "gateway->payments", {"latency": LATENCY_MS}, fault_id="slow-link")
        assert charge(view) is None

        done = ops.run("failover:payments")
        assert done["action"] == "failover:payments" and "now served by its standby" in done["summary"]
        assert view.refresh().target("payments").serving == "standby"
        before = charges_on(standby_url), charges_on(primary_url)
        assert [charge(view) for _ in range(5)] == [201] * 5  # round the slow path, on the standby
        assert charges_on(standby_url) >= before[0] + 5 and charges_on(primary_url) == before[1]
        with httpx.Client(trust_env=False, timeout=10) as client:  # the target's address moved with it
            assert client.get(view.target("payments").health_url or "").status_code == 200

        # the standby is supervised like the primary: killed, it comes back, and the route follows it
        old = view.target("payments").standby or {}
        os.kill(old["pid"], signal.SIGKILL)
        wait_for(lambda: (view.refresh().target("payments").standby or {}).get("pid") not in (None, old["pid"])
             and (view.target("payments").standby or {}).get("status") == "running", 30, "the standby restarted")
        assert charge(view) == 201
        crashed = [e.data["name"] for e in read_events(RunDir(run_dir).journal, "target.crashed")]
        assert crashed == ["payments.standby"]

        # the fault's ledger row reverts cleanly (its toxic was never moved), and failing back works
        entry = engine.revert("slow-link")
        assert entry.state == "reverted"
        ops.run("failover:payments=primary")
        assert view.refresh().target("payments").serving == "primary"
        before = charges_on(standby_url_now := (view.target("payments").standby or {})["url"]), charges_on(primary_url)
        assert charge(view) == 201
        assert charges_on(primary_url) >= before[1] + 1 and charges_on(standby_url_now) == before[0]

        with pytest.raises(InputError, match="gateway has no standby to fail over to"):
            ops.run("failover:gateway")
        actions = [e.data["action"] for e in read_events(RunDir(run_dir).journal, "ops.failover")]
        assert actions == ["failover:payments", "failover:payments=primary"]
    finally:
        engine.close()
        journal.close()
        backend.down(run_dir)
    state = RunDir(run_dir).targets_state()
    for instance in (state["targets"]["payments"], state["targets"]["payments"]["standby"]):
        assert same_process(instance["pid"], instance["create_time"]) is None


def test_the_cli_fails_over_and_back_and_refuses_what_it_cannot_do(gameday_home: Path, tmp_path: Path) -> None:
    env = {**os.environ, "GAMEDAY_HOME": str(gameday_home), "COLUMNS": "200"}

    def gameday(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*GAMEDAY, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)

    up = gameday("targets", "up", str(EXAMPLE), "--out", str(tmp_path / "runs"))
    assert up.returncode == 0, up.stderr
    run_dir = next((tmp_path / "runs").iterdir())
    try:
        r = gameday("ops", "failover", "-t", "payments")
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("failover:payments: payments now served by its standby")
        assert TargetsView.load(run_dir).target("payments").serving == "standby"
        status = gameday("targets", "status")
        assert status.returncode == 0 and "payments.standby" in status.stdout and "standby (serving)" in status.stdout
        r = gameday("ops", "failover", "-t", "payments", "--to", "secondary")
        assert (r.returncode, r.stderr.strip()) == (2, "error: expected failover:TARGET (to its standby) or "
                                                       "failover:TARGET=primary (back), got "
                                                       "'failover:payments=secondary'")
        r = gameday("ops", "failover", "-t", "gateway")
        assert r.returncode == 2 and r.stderr.strip().startswith("error: gateway has no standby to fail over to")
        r = gameday("ops", "failover", "-t", "payments", "--to", "primary")
        assert r.returncode == 0 and r.stdout.startswith("failover:payments=primary: payments now served by its "
                                                         "primary"), r.stderr
        assert TargetsView.load(run_dir).target("payments").serving == "primary"
    finally:
        down = gameday("targets", "down", "--run", run_dir.name)
        assert down.returncode == 0, down.stderr


def standby_of(run_dir: Path) -> psutil.Process | None:
    entry = RunDir(run_dir).targets_state()["targets"]["payments"].get("standby") or {}
    return same_process(entry.get("pid") or -1, entry.get("create_time"))


def test_kill_9_of_the_run_then_cleanup_leaves_no_standby(gameday_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs"
    proc = subprocess.Popen([*GAMEDAY, "run", str(EXAMPLE), "--out", str(out), "--time-scale", "4"], cwd=ROOT,
                            env={**os.environ, "GAMEDAY_HOME": str(gameday_home)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    run_dir = None
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and run_dir is None:
        found = list(out.glob("*/journal.jsonl"))
        if found and any(e.kind == "fault.injected" for e in read_events(found[0])):
            run_dir = found[0].parent
        assert proc.poll() is None, proc.stderr.read()[-2000:] if proc.stderr else ""
        time.sleep(0.2)
    assert run_dir is not None, "the fault was never injected"
    standby = standby_of(run_dir)
    assert standby is not None, "the run's payments should have a live standby"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    assert standby.is_running(), "the standby should outlive a kill -9 of the runner, like the primary"
    r = cleanup_cli(gameday_home)
    assert r.returncode == 0, r.stderr
    assert "reverted 1 fault(s)" in r.stdout
    assert standby_of(run_dir) is None
    state = RunDir(run_dir).targets_state()
    assert all(same_process(t["pid"], t["create_time"]) is None for t in state["targets"].values() if t.get("pid"))
