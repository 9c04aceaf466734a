"""Sorting the run's incidents: the primary, the ones the fault caused, false alarms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from simulator.responders.board import best, classify
from simulator.responders.sight import Sight
from simulator.scenario import load_scenario
from simulator.scenario.clock import GameClock
from simulator.scenario.model import Target
from tests.helpers.runhelpers import ROOT

TOUCHED = {"payments", "gateway"}


@dataclass(frozen=True)
class Opened:
    ref: str
    service: str
    created_at: datetime


def test_an_incident_after_the_fault_on_a_service_it_reaches_is_related() -> None:
    v = classify("gateway", created=150.0, fault_at=120.0, touched=TOUCHED)
    assert v.kind == "related" and v.why == "opened at T+2m30s, after the fault at T+2m"


def test_false_alarms_are_told_apart_by_time_and_by_service() -> None:
    assert classify("auth", 150.0, 120.0, TOUCHED).why == "no fault touches auth: the faults reach gateway and payments"
    assert classify("payments", 30.0, None, TOUCHED).why == "opened at T+30s, before any fault took effect"
    early = classify("payments", 30.0, 120.0, TOUCHED)
    assert early.kind == "false_alarm" and "before the first fault took effect at T+2m" in early.why
    # opened early, but an alert joined it after the fault: the fault feeds it
    assert classify("payments", 30.0, 120.0, TOUCHED, alert_after_fault=True).kind == "related"


def test_the_primary_is_on_the_first_affected_service_then_the_earliest() -> None:
    t0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)

    def inc(ref: str, service: str, minutes: int) -> Opened:
        return Opened(ref, service, t0 + timedelta(minutes=minutes))

    found = [inc("INC-1", "gateway", 0), inc("INC-2", "payments", 2), inc("INC-3", "payments", 1)]
    assert best(found, ["payments", "gateway"]).ref == "INC-3"
    assert best(found, []).ref == "INC-1"
    assert best([], ["payments"]) is None


def test_the_faults_reach_their_targets_the_affected_services_and_every_caller() -> None:
    s = load_scenario(ROOT / "scenarios" / "pool-exhaustion.yaml")
    s = s.model_copy(update={"targets": [*s.targets, Target(name="gateway", app="gateway", depends_on=["payments"]),
                                         Target(name="edge", app="gateway", depends_on=["gateway"]),
                                         Target(name="auth", app="auth")]})
    sight = Sight(s, GameClock(10.0).start())
    assert sight.touched() == {"payments", "gateway", "edge"}
    assert sight.first_fault() is None  # the fault is scheduled at 2m; the clock has just started
