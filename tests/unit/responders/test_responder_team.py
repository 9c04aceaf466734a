"""Roles go to four different people: the roster's when there is one, else the runbook's (or defaults)."""

from __future__ import annotations

from simulator.responders.team import DEFAULT_NAMES, Member, assemble
from simulator.scenario.model import RunbookStep

ROLES = ("incident_commander", "tech_lead", "comms_lead", "scribe")


def runbook(*people: str | None) -> list[RunbookStep]:
    return [RunbookStep(after=0.0, do="ack", person="on-call primary")] + [
        RunbookStep(after=0.0, do="assign", role=role, person=person) for role, person in zip(ROLES, people,
                                                                                             strict=True)]


def test_without_a_roster_the_runbooks_four_people_are_the_team_and_join_the_roster() -> None:
    team = assemble([], runbook("Avery", "Blake", "Casey", "Devon"))
    assert team.roles == dict(zip(ROLES, ("Avery", "Blake", "Casey", "Devon"), strict=True))
    assert team.register == ["Avery", "Blake", "Casey", "Devon"]


def test_one_person_named_for_every_role_still_makes_four_different_people() -> None:
    team = assemble([], runbook("Avery", "Avery", "Avery", None))
    assert team.roles["incident_commander"] == "Avery"
    assert len(set(team.roles.values())) == 4 and set(team.roles.values()) <= set(DEFAULT_NAMES)


def test_with_a_roster_only_its_people_take_roles_and_the_on_call_primary_leads() -> None:
    roster = [Member("Sam Lee"), Member("Rene Ito", "secondary"), Member("Quinn Park", "primary"), Member("Toni Ruiz"),
              Member("Uma Diaz")]
    team = assemble(roster, runbook("Avery", "Uma Diaz", "Avery", "Blake"))
    assert team.roles["incident_commander"] == "Quinn Park"  # Avery is not on the roster
    assert team.roles["tech_lead"] == "Uma Diaz"  # on the roster: the runbook's choice stands
    assert len(set(team.roles.values())) == 4 and set(team.roles.values()) <= {m.name for m in roster}
    assert team.register == []  # a given roster is never changed
    assert team.person("on-call primary") == "Quinn Park" and team.person("on-call secondary") == "Rene Ito"
    assert team.person("Blake") == "Blake"


def test_a_roster_too_small_for_four_roles_is_filled_with_different_names() -> None:
    team = assemble([Member("Sam Lee"), Member("Toni Ruiz")], runbook(None, None, None, None))
    assert set(team.roles.values()) >= {"Sam Lee", "Toni Ruiz"} and len(set(team.roles.values())) == 4
