"""The monthly review: scores per team, MTTD / MTTR, incidents by type, action items vs the 90 % target."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime

from simulator.report.history import ItemState, Row, collect, completion, summarize
from simulator.scoring.scorer import write_scorecard
from simulator.tracker.service import TrackerService
from tests.helpers.scoring_kit import RunKit, exemplary


def test_completion_counts_items_due_or_done_against_their_due_date():
    today = date(2026, 6, 1)
    items = [ItemState(date(2026, 5, 1), "done", date(2026, 4, 30)),   # on time
             ItemState(date(2026, 5, 1), "done", date(2026, 5, 3)),    # late
             ItemState(date(2026, 5, 1), "open", None),                # overdue
             ItemState(date(2026, 7, 1), "open", None),                # not yet due: not counted
             ItemState(date(2026, 5, 1), "wont_do", None),             # dropped: not counted
             ItemState(None, "done", date(2026, 5, 2))]                # no due date, done: on time
    c = completion(items, today)
    assert (c.due, c.on_time, c.late, c.open_overdue, c.not_yet_due) == (4, 2, 1, 1, 1)
    assert c.rate == 0.5 and c.meets_target is False
    assert completion([ItemState(date(2026, 5, 1), "done", date(2026, 5, 1))] * 9
                      + [ItemState(date(2026, 5, 1), "open", None)], today).meets_target is True
    assert completion([], today).rate is None


def _runs(tmp_path):
    blue = RunKit(tmp_path / "runs" / "r1-blue", run_id="r1-blue")
    exemplary(blue, team="blue")
    blue.write()
    red = RunKit(tmp_path / "runs" / "r2-red", run_id="r2-red")
    exemplary(red, team="red", severity="P3", postmortem=False, ack=None, declare=700, update=710, ops=720,
              restored=800, mitigated=810, resolved=900, end=1000)
    red.write()
    return blue, red


def test_history_groups_runs_by_team_and_month(tmp_path):
    _runs(tmp_path)
    rows, warnings = collect([tmp_path / "runs"])
    assert warnings == []
    assert [(r.id, r.team, r.type, r.month) for r in rows] == [("r1-blue", "blue", "pool-kit", "2026-04"),
                                                                ("r2-red", "red", "pool-kit", "2026-04")]
    groups = {g.team: g for g in summarize(rows, date(2026, 6, 1))}
    assert groups["blue"].mean_score == 100.0 and groups["red"].mean_score < 80
    blue = groups["blue"].times["game"]  # the kit's runs are scored on the game clock
    assert set(groups["blue"].times) == {"game"} and blue.rows == 1
    assert (blue.mttd_s, blue.mtta_s, blue.mttr_s) == (50.0, 30.0, 390.0)
    assert groups["red"].times["game"].mttr_s == 780.0
    assert rows[0].times_from.startswith("run scored on the game clock")
    assert groups["blue"].by_type == {"pool-kit": 1}
    # blue's two action items fell due on 2026-05-07 and nobody closed them
    assert (groups["blue"].completion.due, groups["blue"].completion.rate) == (2, 0.0)
    assert groups["red"].completion.rate is None  # no post-mortem, no action items


def test_history_reads_action_items_live_from_the_runs_tracker(tmp_path):
    blue, _ = _runs(tmp_path)
    svc = TrackerService(str(blue.path / "tracker.db"), clock=lambda: datetime(2026, 5, 4, 12, tzinfo=UTC))
    try:
        first = svc.list_action_items()[0]
        svc.update_action_item(first.id, status="done", actor="blake")
    finally:
        svc.db.close()
    rows, _ = collect([tmp_path / "runs"])
    blue_group = next(g for g in summarize(rows, date(2026, 6, 1)) if g.team == "blue")
    assert (blue_group.completion.on_time, blue_group.completion.due, blue_group.completion.rate) == (1, 2, 0.5)


def test_history_uses_a_fresh_scorecard_and_rescores_a_stale_one(tmp_path):
    blue, _ = _runs(tmp_path)
    path = write_scorecard(blue.path)
    doc = json.loads(path.read_text())
    doc["overall"] = 12.5
    path.write_text(json.dumps(doc))
    rows, _ = collect([blue.path])
    assert rows[0].score == 12.5  # newer than the journal: trusted
    rows, _ = collect([blue.path], rescore=True)
    assert rows[0].score == 100.0
    old = os.path.getmtime(blue.path / "journal.jsonl") - 60
    os.utime(path, (old, old))
    rows, _ = collect([blue.path])
    assert rows[0].score == 100.0  # older than the journal: scored afresh


def test_history_adds_incidents_from_a_shared_tracker(tmp_path):
    blue, _ = _runs(tmp_path)
    times = iter([datetime(2026, 5, 2, 9, 0, tzinfo=UTC), datetime(2026, 5, 2, 9, 4, tzinfo=UTC),
                  datetime(2026, 5, 2, 10, 0, tzinfo=UTC)])
    now = {"t": next(times)}
    svc = TrackerService(str(tmp_path / "shared.db"), clock=lambda: now["t"])
    try:
        ref = svc.create_incident(title="Checkout slow", service="checkout", severity="P2", actor="zoe").ref
        now["t"] = next(times)
        svc.acknowledge(ref, actor="zoe")
        svc.declare(ref, severity="P2", actor="zoe")
        now["t"] = next(times)
        svc.resolve(ref, actor="zoe")
    finally:
        svc.db.close()
    rows, _ = collect([blue.path], str(tmp_path / "shared.db"))
    tracker_rows = [r for r in rows if r.source == "tracker"]
    assert [(r.type, r.mtta_s, r.mttr_s, r.month) for r in tracker_rows] == [("checkout", 240.0, 3600.0, "2026-05")]


def test_game_clock_and_wall_clock_times_are_never_averaged_together():
    when = datetime(2026, 5, 2, 9, 0, tzinfo=UTC)
    rows = [Row("run", "r1", when, "blue", "pool-exhaustion", score=90.0, mttr_s=600.0, clock="game", time_scale=30),
            Row("run", "r2", when, "blue", "pool-exhaustion", score=80.0, mttr_s=1200.0, clock="game", time_scale=4),
            Row("run", "r3", when, "blue", "rate-limit", score=70.0, mttr_s=300.0, clock="wall"),
            Row("tracker", "INC-9", when, "blue", "checkout", mttr_s=7200.0, clock="wall")]
    [group] = summarize(rows, date(2026, 6, 1))
    game, wall = group.times["game"], group.times["wall"]
    assert (game.rows, game.mttr_s) == (2, 900.0)  # the two game-clock runs only
    assert (wall.rows, wall.mttr_s) == (2, 3750.0)  # the wall-clock run and the real incident only
    assert game.sources == {"run scored on the game clock, run at x30": 1, "run scored on the game clock, run at x4": 1}
    assert wall.sources == {"run scored on the wall clock": 1, "tracker incident, wall clock": 1}
    data = group.to_json()
    assert set(data["times"]) == {"game", "wall"} and "mttr_s" not in data
