"""The kill lever on a real run: the team sees the run's processes (``gameday ops ps``), kills the runaway hog
(``gameday ops kill``), and the fault's ledger row still reverts cleanly; anything the run did not start is
refused with one line; auth's own process killed comes back through its supervisor."""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import pytest
from faults_helpers import gameday, journal, ledger_rows, wait_for

from simulator.faults.engine import FaultEngine
from simulator.journal import Journal
from simulator.procs import same_process
from simulator.rundir import RunDir
from simulator.scenario.model import Target
from simulator.targets.ops import OpsConsole
from simulator.targets.spec import target_spec

AUTH = [target_spec(Target(name="auth", app="auth"))]
#: ``alone``: two runaway hogs keep both cores busy while the CLI looks at them, which slowed every test beside
#: them in the fast set; ``make test`` runs these one at a time after the rest
pytestmark = pytest.mark.alone


def ps(home: Path, run_id: str) -> list[dict]:
    out = gameday(home, "ops", "ps", "--run", run_id, "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_the_team_kills_the_cpu_hog_it_sees_and_the_fault_still_reverts(private_run, gameday_home: Path) -> None:
    view = private_run(AUTH, name="kill-cpu")
    j = Journal(RunDir(view.run_dir).journal)
    engine = FaultEngine(view, j)
    try:
        entry = engine.inject("process.cpu_hog", "auth", {"workers": 2})
        hogs = {h["pid"] for h in engine.ledger.get(entry.id).revert["hogs"]}
        rows = ps(gameday_home, view.run_id)
        strangers = [r for r in rows if r["target"] is None]
        assert {r["pid"] for r in strangers} == hogs
        assert rows[0]["target"] is None and rows[0]["cpu_percent"] > 30  # busiest first: a hog
        assert [r["target"] for r in rows if r["target"]] == ["auth"]
        text = gameday(gameday_home, "ops", "ps", "--run", view.run_id)
        assert text.returncode == 0 and "hog" not in text.stdout and "f-" not in text.stdout  # what top shows
        first, second = sorted(hogs)
        out = gameday(gameday_home, "ops", "kill", "-t", "auth", str(first), "--run", view.run_id, "--as", "alice")
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith(f"kill:auth.runaway: killed pid {first} (python")
        OpsConsole(view, j, actor="bob").run(f"kill:auth.pid={second}")
        assert not psutil.pid_exists(first) or psutil.Process(first).status() == psutil.STATUS_ZOMBIE
        reverted = engine.revert(entry.id, by="end")  # the hogs are gone already: nothing left, reverted
        assert reverted.state == "reverted"
    finally:
        engine.close()
        j.close()
    kills = journal(view.run_dir, "ops.kill")
    assert [(e.data["action"], e.data["actor"]) for e in kills] == [("kill:auth.runaway", "alice"),
                                                                  ("kill:auth.runaway", "bob")]
    assert {e.data["pid"] for e in kills} == hogs


def test_a_memory_hog_shows_its_memory_and_is_killed_likewise(private_run, gameday_home: Path) -> None:
    view = private_run(AUTH, name="kill-mem")
    engine = FaultEngine(view)
    try:
        entry = engine.inject("process.memory_hog", "auth", {"size": "96MiB"})
        [hog] = [r for r in ps(gameday_home, view.run_id) if r["target"] is None]
        assert hog["rss"] >= 96 * 2**20
        out = gameday(gameday_home, "ops", "kill", "-t", "auth", f"pid={hog['pid']}", "--run", view.run_id)
        assert out.returncode == 0 and "kill:auth.runaway" in out.stdout, out.stderr
        assert engine.revert(entry.id).state == "reverted"
    finally:
        engine.close()
    assert [r.state for r in ledger_rows(view.run_dir)] == ["reverted"]


def test_a_process_the_run_did_not_start_is_refused_in_one_line(private_run, gameday_home: Path) -> None:
    view = private_run(AUTH, name="kill-refuse")
    sup, proxy = view.data["supervisor"], view.data["proxy"]
    for pid in (sup["pid"], proxy["pid"], 1):
        out = gameday(gameday_home, "ops", "kill", "-t", "auth", str(pid), "--run", view.run_id)
        assert out.returncode == 2 and out.stdout == "", (out.stdout, out.stderr)
        [line] = out.stderr.strip().splitlines()
        assert "kill names a process by its pid" in line if pid == 1 else \
            f"pid {pid} was not started by run {view.run_id}: only its targets' processes" in line, line
    assert same_process(sup["pid"], sup["create_time"]) is not None
    assert same_process(proxy["pid"], proxy["create_time"]) is not None
    out = gameday(gameday_home, "ops", "kill", "-t", "payments", str(sup["pid"]), "--run", view.run_id)
    assert out.returncode == 2 and "target 'payments' was not started by run" in out.stderr
    assert journal(view.run_dir, "ops.kill") == []


def test_killing_auth_itself_is_recorded_as_the_service_and_it_comes_back(private_run, gameday_home: Path) -> None:
    view = private_run(AUTH, name="kill-service")
    before = view.target("auth")
    out = gameday(gameday_home, "ops", "kill", "-t", "auth", str(before.pid), "--run", view.run_id)
    assert out.returncode == 0 and out.stdout.startswith(f"kill:auth.service: killed pid {before.pid}"), out.stderr
    wait_for(lambda: (t := view.refresh().target("auth")).status == "running" and t.pid != before.pid, 30,
             what="auth restarted by its supervisor")
    assert [e.data["action"] for e in journal(view.run_dir, "ops.kill")] == ["kill:auth.service"]
