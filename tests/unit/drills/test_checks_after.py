"""The checks that prove an *after* world, on hand-written run folders: failover by itself (not by a
person), a one-action mitigation (a refused attempt counts), amplification while requests fail."""

from __future__ import annotations

import json
from pathlib import Path

from simulator.drills.checks import evaluate_all
from simulator.drills.model import Check

FLAG = 'app_feature_flag{name="fallback_processor"}'
T0 = 1000.0


def _event(seq: int, wall: float, game: float, kind: str, **data) -> dict:
    return {"seq": seq, "wall": wall, "game": game, "kind": kind, "data": data}


def make_run(tmp_path: Path, name: str, events: list[dict], steps: list[dict] | None = None,
             loads: list[dict] | None = None) -> Path:
    run = tmp_path / name
    run.mkdir()
    base = [_event(1, T0, 0.0, "load.started"), _event(2, T0 + 10, 100.0, "fault.injected", id="f1")]
    (run / "journal.jsonl").write_text("\n".join(json.dumps(e) for e in base + events) + "\n")
    (run / "summary.json").write_text(json.dumps({"scenario": "s", "outcome": "recovered", "time_scale": 10,
                                                  "responder_steps": steps or []}))
    (run / "load-stats.jsonl").write_text("\n".join(json.dumps({"type": "stats", "interval_s": 1,
                                                                 "target": "payments", **x}) for x in loads or []))
    return run


def _flag_sample(seq: int, at: float, on: int) -> dict:
    return _event(seq, T0 + at / 10, at, "sample", target="payments", gauges={FLAG: on})


SWITCH = Check(check="switches_by_itself", target="payments", gauge=FLAG, within="2m")


def test_the_flag_switching_by_itself_passes_and_a_person_switching_it_fails(tmp_path: Path) -> None:
    by_itself = make_run(tmp_path, "auto", [_flag_sample(3, 150, 0), _flag_sample(4, 190, 1)])
    [r] = evaluate_all([SWITCH], by_itself, record=False)
    assert r.ok and r.measured == 90.0 and "switched by itself 1m30s" in r.detail
    by_hand = make_run(tmp_path, "hand", [_flag_sample(3, 150, 0),
                                          _event(4, T0 + 17, 170.0, "ops.flag", target="payments", actor="responder",
                                                 action="flag:payments.fallback_processor=on"),
                                          _flag_sample(5, 190, 1)])
    [r] = evaluate_all([SWITCH], by_hand, record=False)
    assert not r.ok and "someone switched it" in r.detail and "by responder" in r.detail
    late = make_run(tmp_path, "late", [_flag_sample(3, 150, 0), _flag_sample(4, 400, 1)])
    assert [x.ok for x in evaluate_all([SWITCH], late, record=False)] == [False]
    never = make_run(tmp_path, "never", [_flag_sample(3, 150, 0), _flag_sample(4, 400, 0)])
    [r] = evaluate_all([SWITCH], never, record=False)
    assert not r.ok and "never reached 1" in r.detail
    unscraped = make_run(tmp_path, "unscraped", [])
    [r] = evaluate_all([SWITCH], unscraped, record=False)
    assert not r.ok and "never scraped" in r.detail


ONE = Check(check="mitigates_in_actions", max_actions=1, within="4m")
ROLLBACK = _event(3, T0 + 20, 200.0, "ops.rollback", target="gateway", action="rollback:gateway")
RESTORED = _event(5, T0 + 26, 260.0, "steady_state.restored")


def test_one_click_passes_a_refused_rollback_then_a_manual_push_fails(tmp_path: Path) -> None:
    one = make_run(tmp_path, "one", [ROLLBACK, RESTORED])
    [r] = evaluate_all([ONE], one, record=False)
    assert r.ok and r.measured == 1 and "(rollback:gateway)" in r.detail
    refused = [{"do": "ops", "ok": False, "game": 150.0, "error": "gateway: nothing to roll back"}]
    push = _event(3, T0 + 20, 200.0, "ops.config", target="gateway", action="config:gateway.tiers.major.rate=200")
    slow = make_run(tmp_path, "slow", [push, RESTORED], steps=refused)
    [r] = evaluate_all([ONE], slow, record=False)
    assert not r.ok and r.measured == 2 and "refused: gateway: nothing to roll back" in r.detail
    nothing = make_run(tmp_path, "nothing", [RESTORED])
    [r] = evaluate_all([ONE], nothing, record=False)
    assert not r.ok and "no ops action" in r.detail
    unrestored = make_run(tmp_path, "unrestored", [ROLLBACK])
    [r] = evaluate_all([ONE], unrestored, record=False)
    assert not r.ok and "not restored" in r.detail
    slow_one = make_run(tmp_path, "slow-one", [ROLLBACK, _event(5, T0 + 60, 600.0, "steady_state.restored")])
    assert [x.ok for x in evaluate_all([ONE], slow_one, record=False)] == [False]  # 6m40s > 4m


def test_amplification_during_failures_ignores_the_healthy_intervals(tmp_path: Path) -> None:
    healthy = [{"t": T0 + 10 + i, "requests": 100, "attempts": 100} for i in range(8)]
    storm = [{"t": T0 + 20 + i, "requests": 10, "attempts": 40, "status_5xx": 30} for i in range(2)]
    run = make_run(tmp_path, "storm", [_event(3, T0 + 40, 400.0, "load.stopped")], loads=healthy + storm)
    fault, failures = evaluate_all([Check(check="retry_amplification_below", max_ratio=1.5),
                                    Check(check="retry_amplification_below", max_ratio=1.5, during="failures")],
                                   run, record=False)
    assert fault.ok and fault.measured == round(880 / 820, 3)  # diluted by the healthy minutes
    assert not failures.ok and failures.measured == 4.0 and "2 interval(s) with failed attempts" in failures.detail


def test_amplification_during_failures_counts_retried_intervals_after_an_early_restore(tmp_path: Path) -> None:
    """A blip restores the steady state a second after the fault; the storm comes later, its retries all
    succeed in the end (no 5xx): the fault window misses it, the failing intervals do not."""
    healthy = [{"t": T0 + 10 + i, "requests": 100, "attempts": 100} for i in range(3)]
    retried = [{"t": T0 + 20 + i, "requests": 10, "attempts": 30} for i in range(3)]
    run = make_run(tmp_path, "blip", [_event(3, T0 + 11, 110.0, "steady_state.restored"),
                                      _event(4, T0 + 40, 400.0, "load.stopped")], loads=healthy + retried)
    fault, failures = evaluate_all([Check(check="retry_amplification_below", max_ratio=1.5),
                                    Check(check="retry_amplification_below", max_ratio=1.5, during="failures")],
                                   run, record=False)
    assert fault.ok and fault.measured == 1.0
    assert not failures.ok and failures.measured == 3.0
    quiet = make_run(tmp_path, "quiet", [_event(3, T0 + 40, 400.0, "load.stopped")], loads=healthy)
    [r] = evaluate_all([Check(check="retry_amplification_below", max_ratio=1.5, during="failures")], quiet,
                       record=False)
    assert r.ok and "no attempt failed" in r.detail
