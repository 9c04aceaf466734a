"""Real runs of the seed scenarios at a high time scale on the local backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.faults.ledger import Ledger
from simulator.journal import read_events
from simulator.run import Runner, RunOptions, score_result
from simulator.scenario import load_scenario
from tests.helpers.runhelpers import ROOT, alerts_fired, pids_alive

# the seeds at x30, whose alerts sit near their thresholds: beside another run a second's stall is 30 game
# seconds of latency (HighLatencyP95 fired before the pool alerts; HighErrorRate stayed under 5 %), so nothing
# runs beside them (``make test``)
pytestmark = [pytest.mark.slow, pytest.mark.alone]


def run(name: str, tmp_path: Path, **options) -> tuple[Runner, object]:
    s = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    runner = Runner(s, RunOptions(out=tmp_path / "runs", **options), ROOT / "scenarios" / f"{name}.yaml")
    result = runner.run()
    score_result(result)  # the caller's one scoring pass, as `gameday run` does
    return runner, result


def _max_5xx(run_dir: Path, target: str) -> int:
    return max((e.data.get("status_5xx") or 0 for e in read_events(run_dir / "journal.jsonl", "sample")
                if e.data.get("target") == target), default=0)


def test_pool_exhaustion(gameday_home: Path, tmp_path: Path) -> None:
    runner, result = run("pool-exhaustion", tmp_path, time_scale=30, max_duration=10 * 60)
    run_dir = Path(result.run_dir)
    assert result.outcome == "max_duration", result.reason
    assert result.faults[0]["injected_game"] is not None
    assert _max_5xx(run_dir, "payments") > 0, "the leaky release produced no 5xx"
    fired = alerts_fired(run_dir)
    assert {"LowAvailability", "HighErrorRate", "DbPoolSaturation"} <= set(fired), fired
    assert "HighRejectionRate" not in fired
    fault_at = result.faults[0]["injected_game"]
    assert all(t >= fault_at for t in fired.values()), "an alert fired before the fault"
    with Ledger.of_run(run_dir) as ledger:
        assert [e.state for e in ledger.entries()] == ["reverted"]
    assert pids_alive(run_dir) == []


def test_rate_limit_rejections_not_failures(gameday_home: Path, tmp_path: Path) -> None:
    _, result = run("rate-limit-misconfig", tmp_path, time_scale=30, max_duration=5 * 60)
    run_dir = Path(result.run_dir)
    fired = alerts_fired(run_dir)
    assert {"HighRejectionRate", "MajorCustomerRejections"} <= set(fired), fired
    assert not {"HighErrorRate", "LowAvailability"} & set(fired), f"429s were taken for failures: {fired}"
    assert _max_5xx(run_dir, "gateway") == 0


def test_memory_leak_trend_fires_before_thresholds(gameday_home: Path, tmp_path: Path) -> None:
    _, result = run("memory-leak", tmp_path, max_duration=8 * 3600)
    fired = alerts_fired(Path(result.run_dir))
    assert "MemoryLeakTrend" in fired, fired
    thresholds = [fired[a] for a in ("LowAvailability", "HighLatencyP95") if a in fired]
    assert all(fired["MemoryLeakTrend"] < t for t in thresholds), fired


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory):
    """One run worked by the runbook responder, shared by the tests that compare against it."""
    import os

    from simulator.cleanup import cleanup

    tmp = tmp_path_factory.mktemp("good")
    old = os.environ.get("GAMEDAY_HOME")
    os.environ["GAMEDAY_HOME"] = str(tmp / "home")
    try:
        _, result = run("pool-exhaustion", tmp, time_scale=30, responder="auto")
        yield result
    finally:
        cleanup(everything=True)
        if old is None:
            os.environ.pop("GAMEDAY_HOME", None)
        else:
            os.environ["GAMEDAY_HOME"] = old


def test_auto_responder_works_the_incident_and_recovers(good_run) -> None:
    result = good_run
    assert result.outcome == "recovered", result.reason
    assert result.responder_errors == []
    [incident] = result.incidents
    assert incident["status"] == "resolved" and incident["severity"] == "P1"
    assert incident["channel"].startswith("#inc-") and incident["channel"].endswith("-payments")
    kinds = {e.kind for e in read_events(Path(result.run_dir) / "journal.jsonl")}
    assert {"incident.acknowledged", "incident.declared", "ops.rollback", "incident.resolved",
            "postmortem.updated", "steady_state.restored"} <= kinds
    assert result.score is not None and result.score >= 90, result.ratings
    assert (Path(result.run_dir) / "report.html").exists() and (Path(result.run_dir) / "scorecard.json").exists()


@pytest.mark.parametrize(("policy", "loses"), [("wrong-severity", "Situational Assessment"),
                                               ("no-postmortem", "Post-Incident Review")])
def test_flawed_responder_loses_points_where_it_should(policy: str, loses: str, good_run, gameday_home: Path,
                                                       tmp_path: Path) -> None:
    _, bad = run("pool-exhaustion", tmp_path, time_scale=30, responder=policy)
    assert bad.score is not None
    assert bad.score < good_run.score
    assert good_run.ratings[loses] == "P"
    assert bad.ratings[loses] in ("M", "U"), bad.ratings
