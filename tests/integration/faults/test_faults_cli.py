"""The fault, targets, ops and cleanup commands through the real CLI (``python -m simulator`` subprocesses)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from faults_helpers import PYTHON, REPO, alive, cli_env, gameday, journal, ops_state, reap, recorded_processes

from simulator.proxy.client import ProxyClient
from simulator.targets.view import TargetsView

BAD_INPUT = {
    "unknown kind": (["fault", "inject", "proxy.latencyy", "-t", "gateway", "-p", "latency=100"],
                     "unknown fault kind 'proxy.latencyy' (did you mean 'proxy.latency'?)"),
    "bad attribute value": (["fault", "inject", "proxy.latency", "-t", "gateway", "-p", "latency=abc"],
                            "params.attributes.latency: expected a whole number"),
    "param without =": (["fault", "inject", "proxy.latency", "-t", "gateway", "-p", "latency"],
                        "--param: expected key=value"),
    "unknown signal": (["fault", "inject", "process.kill", "-t", "payments", "-p", "signal=SIGFOO"],
                       "expected a signal name"),
    "no run to revert in": (["fault", "revert", "f-123"], "no active run"),
    "unknown ops action": (["ops", "explode", "-t", "payments"], "unknown ops action 'explode'"),
    "unknown run to clean": (["cleanup", "--run", "no-such-run"], "no active run 'no-such-run'"),
}


def _one_error_line(result: subprocess.CompletedProcess, expected: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def _run_all(home: Path, cases: list[str]) -> dict[str, subprocess.CompletedProcess]:
    """One CLI process per case, all at once: each CLI start costs about a second."""
    procs = {name: subprocess.Popen([PYTHON, "-m", "simulator", *BAD_INPUT[name][0]], cwd=REPO, env=cli_env(home),
                                    text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for name in cases}
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        results[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    return results


FAST = ["unknown kind"]


def test_bad_input_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    for name, result in _run_all(tmp_path, FAST).items():
        _one_error_line(result, BAD_INPUT[name][1])


@pytest.mark.slow
def test_more_bad_input_exits_2_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    for name, result in _run_all(tmp_path, [n for n in BAD_INPUT if n not in FAST]).items():
        _one_error_line(result, BAD_INPUT[name][1])


@pytest.mark.slow
def test_fault_and_ops_commands_on_a_live_run(shared_run: TargetsView, gameday_home: Path) -> None:
    view, run = shared_run.refresh(), shared_run.run_id
    try:
        r = gameday(gameday_home, "fault", "inject", "proxy.latency", "-t", "gateway", "-p", "latency=150",
                    "-p", "jitter=0", "--id", "cli-lat", "--run", run, "--json")
        assert r.returncode == 0, r.stderr
        entry = json.loads(r.stdout)
        assert (entry["id"], entry["state"], entry["params"]["attributes"]) == (
            "cli-lat", "active", {"latency": 150, "jitter": 0})
        with ProxyClient(view.proxy_url) as proxies:
            assert [t.name for t in proxies.toxics("gateway")] == ["cli-lat"]

        listed = gameday(gameday_home, "fault", "list", "--run", run, "--json")
        assert listed.returncode == 0, listed.stderr
        assert {e["id"]: e["state"] for e in json.loads(listed.stdout)}["cli-lat"] == "active"

        # a target of no run, and a release the service does not know: exit 2, one line, nothing applied
        _one_error_line(gameday(gameday_home, "fault", "inject", "process.pause", "-t", "billing", "--run", run),
                        "target 'billing' was not started by run")
        _one_error_line(gameday(gameday_home, "fault", "inject", "app.release", "-t", "payments", "-p",
                                "version=v9", "--run", run), "unknown release 'v9'")
        assert ops_state(view, "payments")["release"] == "v2.3.1"

        reverted = gameday(gameday_home, "fault", "revert", "cli-lat", "--run", run)
        assert reverted.returncode == 0 and "reverted cli-lat" in reverted.stdout, reverted.stderr
        with ProxyClient(view.proxy_url) as proxies:
            assert proxies.toxics("gateway") == []

        flag = gameday(gameday_home, "ops", "flag", "-t", "payments", "fallback_processor=on", "--run", run)
        assert flag.returncode == 0, flag.stderr
        assert ops_state(view, "payments")["flags"]["fallback_processor"] is True
        off = gameday(gameday_home, "ops", "flag", "-t", "payments", "fallback_processor=off", "--run", run)
        assert off.returncode == 0 and ops_state(view, "payments")["flags"]["fallback_processor"] is False

        bad = gameday(gameday_home, "fault", "inject", "app.release", "-t", "payments", "-p",
                      "version=v2.4.0-leaky", "--id", "cli-rel", "--run", run)
        assert bad.returncode == 0, bad.stderr
        assert ops_state(view, "payments")["release"] == "v2.4.0-leaky"
        rollback = gameday(gameday_home, "ops", "rollback", "-t", "payments", "--as", "tester", "--run", run)
        assert rollback.returncode == 0 and "now release v2.3.1" in rollback.stdout, rollback.stderr
        assert ops_state(view, "payments")["release"] == "v2.3.1"
        actions = [(e.kind, e.data["actor"]) for e in journal(view.run_dir) if e.kind.startswith("ops.")]
        assert ("ops.rollback", "tester") in actions and ("ops.flag", "cli") in actions
        # the fault's revert respects the team's rollback: nothing to do, still the good release
        assert gameday(gameday_home, "fault", "revert", "cli-rel", "--run", run).returncode == 0
        assert ops_state(view, "payments")["release"] == "v2.3.1"
    finally:
        from simulator.faults.engine import FaultEngine

        engine = FaultEngine(view)
        try:
            engine.revert_all(by="test-teardown")
        finally:
            engine.close()


@pytest.mark.slow
def test_targets_up_status_down(tmp_path: Path) -> None:
    home, out = tmp_path / "home", tmp_path / "runs"
    home.mkdir()
    try:
        up = gameday(home, "targets", "up", "--out", str(out), "--json", timeout=180)
        assert up.returncode == 0, up.stderr
        data = json.loads(up.stdout)
        run_id, run_dir = data["run_id"], out / data["run_id"]
        assert data["status"] == "ready" and sorted(data["targets"]) == ["auth", "gateway", "payments"]
        seen = set(recorded_processes(run_dir))
        assert len(alive(seen)) == len(seen) == 5  # supervisor, fault proxy, three targets

        status = gameday(home, "targets", "status", "--json")
        assert status.returncode == 0, status.stderr
        (listed,) = json.loads(status.stdout)
        assert listed["run_id"] == run_id
        assert {n: t["url"] for n, t in listed["targets"].items()} == {n: t["url"] for n, t in data["targets"].items()}
        table = gameday(home, "targets", "status")
        assert run_id in table.stdout and "gateway->payments" in table.stdout

        # the supervisor owns a manual run: cleanup without --run leaves it alone
        assert "nothing to clean up" in gameday(home, "cleanup").stdout
        assert len(alive(seen)) == 5

        down = gameday(home, "targets", "down")
        assert down.returncode == 0 and f"run {run_id}: stopped" in down.stdout, down.stderr
        assert alive(seen) == []
        assert json.loads(gameday(home, "targets", "status", "--json").stdout) == []
    finally:
        for run_dir in out.glob("*"):
            reap(run_dir, run_dir.name)
