"""The rollback guarantee for real: SIGTERM and Ctrl-C revert in a finally; ``kill -9`` leaves it to cleanup."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from faults_helpers import (
    alive,
    charge_direct,
    gameday,
    hogs_of,
    journal,
    kill_script,
    ledger_rows,
    ops_state,
    proc_status,
    read_json_line,
    reap,
    recorded_processes,
    start_script,
    wait_for,
)

from simulator.faults.engine import FaultEngine
from simulator.proxy.client import ProxyClient
from simulator.targets.view import TargetsView


def _toxics(view: TargetsView, proxy: str) -> list[str]:
    with ProxyClient(view.proxy_url) as proxies:
        return [t.name for t in proxies.toxics(proxy)]


# ---------------------------------------------------------------------------- SIGTERM and Ctrl-C
@pytest.mark.parametrize("how", ["SIGTERM", "ctrl-c"])
def test_signal_reverts_every_fault_in_the_finally(
        how: str, engine: FaultEngine, shared_run: TargetsView, gameday_home: Path, tmp_path: Path) -> None:
    view = shared_run.refresh()
    auth = view.target("auth")
    result = tmp_path / "result.json"
    log = tmp_path / "helper.log"
    # its own session, as a foreground job in a terminal is: Ctrl-C signals the whole process group
    proc = start_script("faulty_until_signal.py", str(view.run_dir), str(result), home=gameday_home, log=log,
                        new_session=True)
    try:
        faults = read_json_line(proc, 60, log)["faults"]
        ids = [f["id"] for f in faults]
        # the faults are really in
        assert ops_state(view, "payments")["release"] == "v2.4.0-leaky"
        assert _toxics(view, "gateway") == [ids[1]]
        assert proc_status(auth.pid or -1, auth.create_time) == psutil.STATUS_STOPPED
        (hog,) = hogs_of(view.run_id)
        assert {r.state for r in ledger_rows(view.run_dir) if r.id in ids} == {"active"}

        if how == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGINT)
        proc.wait(60)
    finally:
        kill_script(proc)
    assert proc.returncode == 128 + (signal.SIGTERM if how == "SIGTERM" else signal.SIGINT), log.read_text()
    assert json.loads(result.read_text()) == {"reverted": ids[::-1], "errors": []}  # newest first
    rows = {r.id: r for r in ledger_rows(view.run_dir)}
    assert all(rows[i].state == "reverted" and rows[i].reverted_by == "end" for i in ids)
    assert ops_state(view, "payments")["release"] == "v2.3.1"
    assert _toxics(view, "gateway") == []
    assert proc_status(auth.pid or -1, auth.create_time) not in (None, psutil.STATUS_STOPPED)
    assert hogs_of(view.run_id) == [] and proc_status(hog.pid, hog.create_time()) is None
    assert charge_direct(view).status_code == 201


def test_a_pending_row_left_by_a_kill_between_ledger_and_apply_is_reverted(
        engine: FaultEngine, shared_run: TargetsView) -> None:
    """Killed after the ledger write but before ``mark_active``: the row is 'pending', the toxic is in."""
    view = shared_run
    engine.ledger.record("pending-1", view.run_id, "proxy.latency", "payments",
                         {"attributes": {"latency": 100}}, {"proxy": "payments", "toxic": "pending-1"})
    with ProxyClient(view.proxy_url) as proxies:
        proxies.add_toxic("payments", "latency", name="pending-1", latency=100)
    assert [e.id for e in engine.ledger.open_entries()] == ["pending-1"]

    other = FaultEngine(TargetsView.load(view.run_dir))  # as another process (cleanup) would see it
    try:
        done, errors = other.revert_all(by="cleanup")
    finally:
        other.close()
    assert [e.id for e in done] == ["pending-1"] and errors == []
    assert _toxics(view, "payments") == []
    assert engine.ledger.get("pending-1").state == "reverted"


# ---------------------------------------------------------------------------------------- kill -9
def _start_owner(tmp_path: Path) -> tuple[Path, Path, str, subprocess.Popen[str], dict[str, Any]]:
    home, run_id = tmp_path / "home", "killed-owner"
    home.mkdir()
    run_dir = tmp_path / "runs" / run_id
    log = tmp_path / "owner.log"
    proc = start_script("faulty_owner.py", str(run_dir), run_id, home=home, log=log)
    try:
        info = read_json_line(proc, 120, log)
    except BaseException:
        kill_script(proc)
        reap(run_dir, run_id)
        raise
    return home, run_dir, run_id, proc, info


@pytest.mark.slow
def test_kill_9_then_gameday_cleanup_reverts_everything_and_stops_the_targets(tmp_path: Path) -> None:
    home, run_dir, run_id, proc, info = _start_owner(tmp_path)
    seen = set(recorded_processes(run_dir))
    try:
        view = TargetsView.load(run_dir)
        ids = [f["id"] for f in info["faults"]]
        payments = view.target("payments")
        assert _toxics(view, "gateway") == [ids[1]]
        assert proc_status(payments.pid or -1, payments.create_time) == psutil.STATUS_STOPPED
        (hog,) = hogs_of(run_id)
        seen.add((hog.pid, hog.create_time()))

        # while its owner lives, a bare cleanup leaves the run alone
        live = gameday(home, "cleanup")
        assert live.returncode == 0 and "nothing to clean up" in live.stdout
        assert {r.state for r in ledger_rows(run_dir)} == {"active"}

        proc.kill()  # kill -9: no finally, no revert
        # not reaped yet (as when its parent has not noticed): a zombie owner counts as gone
        wait_for(lambda: psutil.Process(info["owner"]).status() == psutil.STATUS_ZOMBIE, 10,
                 what="the owner to be a zombie")

        t0 = time.monotonic()
        first = gameday(home, "cleanup")
        took = time.monotonic() - t0
        assert first.returncode == 0, first.stderr
        assert f"run {run_id}: reverted 4 fault(s)" in first.stdout and "targets stopped" in first.stdout
        assert first.stderr == ""

        rows = ledger_rows(run_dir)
        assert [(r.id, r.state, r.reverted_by) for r in rows] == [(i, "reverted", "cleanup") for i in ids]
        reverted = [e.data for e in journal(run_dir, "fault.reverted")]
        assert [d["id"] for d in reverted] == ids[::-1]  # newest first: the hog, the pause, the toxic, the release
        assert all(d["how"] == "cleanup" for d in reverted)
        # the release went back through payments' ops API, which only answers once the pause was undone
        state = json.loads((run_dir / "targets" / "payments" / "state.json").read_text())
        assert state["release_trail"][-1] == "v2.3.1"
        assert journal(run_dir, "cleanup.done")[-1].data["errors"] == []
        assert took < 60

        assert hogs_of(run_id) == [] and proc_status(hog.pid, hog.create_time()) is None
        assert alive(seen | set(recorded_processes(run_dir))) == []
        assert list((home / "active").glob("*.json")) == []

        second = gameday(home, "cleanup")
        assert second.returncode == 0 and "nothing to clean up" in second.stdout and second.stderr == ""
        third = gameday(home, "cleanup", "--run", str(run_dir))  # by folder, after the fact: still harmless
        assert third.returncode == 0, third.stderr
        assert "reverted 0 fault(s)" in third.stdout
    finally:
        kill_script(proc)
        reap(run_dir, run_id, seen)


@pytest.mark.slow
def test_kill_9_of_owner_and_supervisor_cleanup_still_kills_the_hog(tmp_path: Path) -> None:
    home, run_dir, run_id, proc, info = _start_owner(tmp_path)
    seen = set(recorded_processes(run_dir))
    try:
        sup = info["targets"]["supervisor"]
        (hog,) = hogs_of(run_id)
        seen.add((hog.pid, hog.create_time()))
        proc.kill()
        proc.wait(10)
        os.kill(sup["pid"], signal.SIGKILL)
        # the targets die with their supervisor (PR_SET_PDEATHSIG); the hog, in its own session, does not
        wait_for(lambda: alive(recorded_processes(run_dir)) == [], 20, what="targets to die with the supervisor")
        assert proc_status(hog.pid, hog.create_time()) is not None

        result = gameday(home, "cleanup", "--json")
        assert result.returncode == 0, result.stderr
        (summary,) = json.loads(result.stdout)
        assert summary["run_id"] == run_id and summary["hogs_killed"] == 1 and summary["errors"] == []
        assert sorted(summary["reverted"]) == sorted(f["id"] for f in info["faults"])
        assert {(r.state, r.reverted_by) for r in ledger_rows(run_dir)} == {("reverted", "cleanup (targets gone)")}
        assert hogs_of(run_id) == [] and alive(seen) == []
        assert list((home / "active").glob("*.json")) == []
        again = gameday(home, "cleanup")
        assert again.returncode == 0 and "nothing to clean up" in again.stdout
    finally:
        kill_script(proc)
        reap(run_dir, run_id, seen)
