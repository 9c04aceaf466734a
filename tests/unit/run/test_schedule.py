"""The fault schedule runs on game time alone: a paused clock holds every fault where it is."""

from __future__ import annotations

from simulator.run.schedule import FaultRun, FaultSchedule, due_escalations, oom_triggered
from simulator.scenario.clock import GameClock
from simulator.scenario.model import Escalation, Fault


def fault(fid: str, at: float, source: str = "timeline", duration: float | None = None) -> FaultRun:
    return FaultRun(fid, Fault(at=at, kind="proxy.latency", target="payments", duration=duration), source)


def test_due_and_expired_follow_game_time() -> None:
    s = FaultSchedule([fault("f1", 60), fault("f2", 120, duration=30)])
    assert s.due(59) == [] and [f.id for f in s.due(60)] == ["f1"]
    f1, f2 = s.faults
    f1.injected_game = 60
    assert [f.id for f in s.due(125)] == ["f2"]
    f2.injected_game = 125
    assert s.expired(154) == [] and s.expired(155) == [f2]
    f2.reverted_game = 155
    assert s.expired(1000) == [] and s.open() == [f1] and s.last_reverted() == 155


def test_next_brings_the_earliest_pending_fault_forward_without_rewriting_its_spec() -> None:
    s = FaultSchedule([fault("late", 300), fault("early", 120)])
    assert s.next_at() == 120
    moved = s.bring_forward(now=15)
    assert moved is not None and moved.id == "early" and moved.at == 15 and moved.spec.at == 120
    assert [f.id for f in s.due(15)] == ["early"]
    moved.injected_game = 15
    assert s.bring_forward(now=20).id == "late"


def test_an_unsteady_baseline_moves_every_pending_fault_later_and_leaves_the_rest() -> None:
    s = FaultSchedule([fault("done", 30), fault("f1", 120), fault("f2", 300)])
    herring = s.add(fault("herring-1", 10, source="herring"))
    s.faults[0].injected_game = 30
    s.postpone(45)
    assert [(f.id, f.at, f.spec.at) for f in s.faults] == [
        ("done", 30, 30), ("f1", 165, 120), ("f2", 345, 300), ("herring-1", 10, 10)]
    assert herring.at == 10 and s.next_at() == 165 and s.due(164) == [herring]
    s.postpone(5)  # a second wait adds to the first
    assert s.next_at() == 170


def test_facilitator_faults_do_not_start_the_incident_clock_or_hold_the_run() -> None:
    s = FaultSchedule([fault("f1", 100)])
    herring = s.add(fault("herring-1", 10, source="herring", duration=20))
    herring.injected_game = 10
    assert s.first_injected() is None  # a red herring is not the scenario's fault
    assert s.pending() == [s.faults[0]] and s.extras() == [herring]
    assert s.open() == [] and s.expired(30) == [herring]


def test_a_paused_clock_holds_a_herring_in_place() -> None:
    now = [0.0]
    clock = GameClock(10, monotonic=lambda: now[0]).start()
    s = FaultSchedule()
    herring = s.add(fault("herring-1", 0, source="herring", duration=20))
    herring.injected_game = clock.now()
    clock.pause()
    now[0] = 60.0  # a minute of wall time while paused: 600 s of game time if the pause were ignored
    assert s.expired(clock.now()) == []
    clock.resume()
    now[0] = 61.9
    assert s.expired(clock.now()) == []  # 19 game seconds
    now[0] = 62.0
    assert s.expired(clock.now()) == [herring]


def test_escalations_fall_due_once_after_the_first_fault() -> None:
    escalations = [Escalation(after_unmitigated=300, severity="P1"), Escalation(after_unmitigated=600)]
    done: set[int] = set()
    assert due_escalations(escalations, done, None, 10_000) == []  # no fault yet
    assert due_escalations(escalations, done, 100, 399) == []
    assert due_escalations(escalations, done, 100, 400) == [0]
    assert due_escalations(escalations, done, 100, 800) == [1]
    assert due_escalations(escalations, done, 100, 900) == []


def test_an_oom_kill_escalation_falls_due_at_its_count_of_kills_or_its_time() -> None:
    escalations = [Escalation(after_unmitigated=100_000, after_oom_kills=1, severity="P1"),
                   Escalation(after_unmitigated=10_000, after_oom_kills=3), Escalation(after_unmitigated=50_000)]
    done: set[int] = set()
    assert due_escalations(escalations, done, None, 50, oom_kills=5) == []  # no fault yet: nothing escalates
    assert due_escalations(escalations, done, 100, 200, oom_kills=0) == []
    assert due_escalations(escalations, done, 100, 200, oom_kills=1) == [0]  # sooner than its time
    assert due_escalations(escalations, done, 100, 300, oom_kills=2) == []
    assert due_escalations(escalations, done, 100, 10_100, oom_kills=2) == [1]  # its time came first
    assert due_escalations(escalations, done, 100, 20_000, oom_kills=9) == []
    assert due_escalations(escalations, done, 100, 50_100, oom_kills=9) == [2]  # no OOM trigger: time only
    assert oom_triggered(escalations[1], 3) and not oom_triggered(escalations[1], 2)
    assert not oom_triggered(escalations[2], 99)
