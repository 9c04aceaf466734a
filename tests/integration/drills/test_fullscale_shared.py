"""The annual full-scale drill: two teams at once on shared targets and one shared tracker.

One team's incident and mitigation reach another team's service; both teams' incidents sit in the
drill's one tracker, each run's its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.drills.fullscale import run_full_scale
from simulator.drills.loader import load_drill, load_drill_text
from simulator.errors import ValidationFailed
from simulator.faults.ledger import Ledger
from simulator.journal import read_events
from simulator.procs import same_process
from simulator.runs import read_json
from simulator.tracker.service import TrackerService

ROOT = Path(__file__).resolve().parents[3]
DRILL = ROOT / "drills" / "annual-full-scale.yaml"


@pytest.mark.slow
def test_payments_leak_reaches_the_gateway_team_and_the_payments_rollback_clears_it(
        gameday_home: Path, tmp_path: Path) -> None:
    drill = load_drill(DRILL)
    assert drill.shared_targets
    drill = drill.model_copy(update={"scenarios": drill.scenarios[:2]})  # payments-team, platform-team
    result = run_full_scale(drill, DRILL, out=tmp_path / "out", responder="auto", time_scale=30)
    payments, gateway = result.parts
    assert (payments.team, gateway.team) == ("payments-team", "platform-team")
    assert [p.outcome for p in result.parts] == ["recovered", "recovered"], [p.reason for p in result.parts]
    starts = [read_events(Path(p.run_dir) / "journal.jsonl", "run.started")[0].wall for p in result.parts]
    ends = [read_events(Path(p.run_dir) / "journal.jsonl", "run.finished")[0].wall for p in result.parts]
    assert starts[1] < ends[0] and starts[0] < ends[1], "the two scenarios did not overlap"

    shared = Path(result.folder) / "targets"
    pay_events = read_events(Path(payments.run_dir) / "journal.jsonl")
    gw_events = read_events(Path(gateway.run_dir) / "journal.jsonl")
    # both runs used the one shared set of targets; neither started its own
    for events, run_dir in ((pay_events, payments.run_dir), (gw_events, gateway.run_dir)):
        [shared_event] = [e for e in events if e.kind == "targets.shared"]
        assert shared_event.data["folder"] == str(shared)
        assert not (Path(run_dir) / "targets.json").exists()

    [leak] = [e for e in pay_events if e.kind == "fault.injected"]
    assert leak.data["id"] == "pool-exhaustion.leaky-release" and leak.data["target"] == "payments"
    [rollback] = [e for e in pay_events if e.kind == "ops.rollback"]
    assert rollback.data["target"] == "payments" and rollback.wall > leak.wall
    assert not [e for e in gw_events if e.kind.startswith("ops.") and e.data.get("target") == "payments"], \
        "the gateway team must not have touched payments: the fix has to come from the payments team"

    samples = [e for e in gw_events if e.kind == "sample" and e.data["target"] == "gateway"]
    before = [s for s in samples if s.wall < leak.wall]
    during = [s for s in samples if leak.wall < s.wall < rollback.wall]
    # after the rollback the errors stop once the good release is up and in-flight requests have drained
    # (a sample can be clean while requests are still in flight to the old process): the last 5xx comes
    # soon after the rollback, and every sample after it is clean
    since = [s for s in samples if s.wall > rollback.wall]
    dirty = [s for s in since if s.data["status_5xx"]]
    settled = dirty[-1].wall if dirty else rollback.wall
    assert settled - rollback.wall < 8.0, \
        ("the gateway's 5xx went on long after the rollback", [(round(s.wall - rollback.wall, 1), s.data["status_5xx"])
                                                               for s in dirty])
    after = [s for s in since if s.wall > settled and s.data["requests"] > 0]
    assert before and during and len(after) >= 3, (len(before), len(during), len(after))
    def upstream_failures(s) -> float:  # the gateway's own metric: payments answered 5xx or not at all
        return sum(v for k, v in s.data.get("rates", {}).items() if k.startswith("gateway_upstream_failures_total"))

    assert sum(s.data["status_5xx"] for s in before) == 0, "5xx on the gateway before the payments leak"
    assert sum(s.data["status_5xx"] for s in during) > 0, "the payments leak did not reach the gateway's customers"
    def upstream_total(s) -> float:  # the same counter's total
        return sum(v for k, v in s.data.get("counters", {}).items() if k.startswith("gateway_upstream_failures_total"))

    # counted, not rated: the labelled series appears with its first burst (all requests waiting on the drained
    # pool fail together), and a rate needs two scrapes of a series (as Prometheus' rate() does): a rollback
    # soon after that burst left no second scrape with an increase in one CI run
    assert max(upstream_total(s) for s in during) > upstream_total(before[-1]), \
        "the gateway's 5xx were not upstream (payments) failures"
    assert not any(upstream_failures(s) > 0 for s in after), \
        [(round(s.wall - rollback.wall, 1), upstream_failures(s)) for s in after if upstream_failures(s) > 0]

    # the platform team's load is distributed: a Locust master and two workers
    [load] = [e for e in gw_events if e.kind == "load.started"]
    assert load.data["workers"] == 2 and len(load.data["pids"]) == 3, load.data
    # the platform team watches its own service: its monitor raises gateway alerts (its own 429s at least), and
    # none of the payments team's (their monitor watches payments). Whether the payments leak's 5xx also page the
    # platform team depends on how soon the payments team rolls back (before or after the gateway error rule's
    # `for:`): the 5xx and upstream failures above are the leak reaching the gateway; an error alert may follow.
    gw_alerts = {(e.data["alertname"], e.data["target"]) for e in gw_events if e.kind == "alert.firing"}
    assert {t for _, t in gw_alerts} == {"gateway"}, gw_alerts
    # the gateway team's own fault (429s) and its own rollback happened too, in its own journal
    assert [e.data["id"] for e in gw_events if e.kind == "fault.injected"] == ["rate-limit-misconfig.bad-config-push"]
    # both teams' faults are in the shared ledger, each reverted; the shared targets are stopped
    with Ledger.of_run(shared) as ledger:
        entries = {e.id: e.state for e in ledger.entries()}
    assert entries == {"pool-exhaustion.leaky-release": "reverted", "rate-limit-misconfig.bad-config-push": "reverted"}
    sup = read_json(shared / "targets.json").get("supervisor") or {}
    assert sup.get("pid") and same_process(sup["pid"], sup.get("create_time")) is None

    page = (Path(result.folder) / "combined-report.html").read_text()
    assert page.count('<svg class="chart"') == 3 and 'data-chart="cross-team-errors"' in page
    assert 'data-series="payments-team: payments"' in page and 'data-series="platform-team: gateway"' in page
    assert "payments-team: pool-exhaustion.leaky-release" in page and "platform-team: rollback:gateway" in page
    assert f'href="{Path(payments.run_dir).name}/report.html"' in page
    report = (Path(result.folder) / "combined-report.md").read_text()
    assert "combined report across teams" in report and "## Executive communications" in report
    assert "payments-team (pool-exhaustion)" in report
    assert "## Cross-team coupling (shared targets)" in report
    assert "rollback:payments" in report

    # one tracker for the drill: both teams' incidents in it, each run's under its run_id, each run's
    # journal mirroring only its own; the scores were read from it
    db = Path(result.folder) / "tracker.db"
    service = TrackerService(str(db))
    try:
        runs = {i.ref: i.run_id for i in service.list_incidents()}
    finally:
        service.db.close()
    run_ids = {Path(p.run_dir).name for p in result.parts}
    assert set(runs.values()) == run_ids, runs
    assert [ref for ref, run in runs.items() if run == Path(gateway.run_dir).name] == [gateway.incident], \
        "the platform team should have one incident: its gateway's"
    for part, events in ((payments, pay_events), (gateway, gw_events)):
        assert part.incident is not None and runs[part.incident] == Path(part.run_dir).name
        mirrored = {e.data["incident"] for e in events if e.kind.startswith("incident.")}
        assert mirrored and all(runs[ref] == Path(part.run_dir).name for ref in mirrored), mirrored
        assert read_json(Path(part.run_dir) / "tracker.json")["db"] == str(db)
        assert part.overall is not None and part.scoring_error is None
    assert read_json(Path(result.folder) / "full-scale.json")["tracker"].startswith("http://127.0.0.1:")


def test_shared_targets_same_name_other_app_is_a_located_error(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text(
        (ROOT / "scenarios" / "rate-limit-misconfig.yaml").read_text()
        .replace("  - name: payments\n    app: payments\n", "  - name: payments\n    app: auth\n", 1))
    text = DRILL.read_text().replace("scenario: rate-limit-misconfig", "scenario: other.yaml", 1)
    with pytest.raises(ValidationFailed) as info:
        load_drill_text(text, "annual.yaml", base=tmp_path)
    [problem] = [p for p in info.value.problems if "shared_targets" in p.message]
    assert problem.line is not None and problem.path == "scenarios[1].scenario"
    assert "'auth'" in problem.message and "'payments'" in problem.message


def test_shared_targets_refuse_a_scenario_twice_and_overlapping_faults(tmp_path: Path) -> None:
    twin = (ROOT / "scenarios" / "pool-exhaustion.yaml").read_text().replace(
        "name: pool-exhaustion ", "name: pool-exhaustion-twin ", 1)
    (tmp_path / "twin.yaml").write_text(twin)
    text = DRILL.read_text()
    again = text.replace("scenario: rate-limit-misconfig", "scenario: pool-exhaustion\n    label: again", 1)
    with pytest.raises(ValidationFailed) as info:
        load_drill_text(again, "annual.yaml", base=tmp_path)
    [problem] = [p for p in info.value.problems if "shared_targets" in p.message]
    assert problem.path == "scenarios[1].scenario" and "may run once" in problem.message
    overlap = text.replace("scenario: rate-limit-misconfig", "scenario: twin.yaml", 1)
    with pytest.raises(ValidationFailed) as info:
        load_drill_text(overlap, "annual.yaml", base=tmp_path)
    [problem] = [p for p in info.value.problems if "shared_targets" in p.message]
    assert problem.path == "scenarios[1].scenario" and problem.line is not None
    assert "app.release on 'payments' is also injected by scenarios[0] (pool-exhaustion)" in problem.message
    # the same drill without shared targets is fine
    load_drill_text(overlap.replace("shared_targets: true", "shared_targets: false"), "annual.yaml", base=tmp_path)
