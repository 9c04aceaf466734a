"""A drill's teams are on call in a weekly rotation: the roster prints this week and next, and the drill's tracker
pages this week's primary of the team that owns the service."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from simulator.drills.loader import load_drill
from simulator.drills.roster import build_roster, roster_markdown, shifts, week_start
from simulator.drills.tracker import DrillTracker

ROOT = Path(__file__).resolve().parents[3]


def test_the_rotation_starts_with_this_weeks_on_call_and_hands_over_on_monday() -> None:
    drill = load_drill(ROOT / "drills" / "annual-full-scale.yaml")
    roster = build_roster(drill)
    team = roster.teams[0]
    people = roster.rotation(team)
    assert people[:2] == [team.on_call.primary, team.on_call.secondary] and len(set(people)) == len(people)
    assert shifts(people, 0) == (team.on_call.primary, team.on_call.secondary)
    assert shifts(people, 1)[0] == team.on_call.secondary
    text = roster_markdown(roster)
    assert f"On call this week: primary **{team.on_call.primary}**" in text
    assert f"next week: primary **{team.on_call.secondary}**" in text
    assert week_start(datetime(2026, 12, 2, 21, 30, tzinfo=UTC)) == datetime(2026, 11, 30, tzinfo=UTC)


def test_the_drills_tracker_pages_the_primary_of_the_team_owning_the_service(tmp_path: Path) -> None:
    drill = load_drill(ROOT / "drills" / "annual-full-scale.yaml")
    roster = build_roster(drill)
    owner = next(t for t in roster.teams if t.services)
    with DrillTracker(tmp_path) as tracker:
        tracker.seed_roster(roster)
        shifts_now = {o.service: o for o in tracker.service.on_call()}
        service = owner.services[0]
        assert (shifts_now[service].primary, shifts_now[service].secondary) == (owner.on_call.primary,
                                                                                owner.on_call.secondary)
        ref = tracker.service.create_incident(title="Broken", service=service, severity="P2").ref
        [page] = tracker.service.pages(ref)
        assert (page.person, page.rotation) == (owner.on_call.primary, service)
