"""Teams and rosters: the drill's, or a seeded Faker-made one when none is given.

Each team's on-call is a weekly rotation (the standard's "Weekly rotation schedule"): this week the team's
``on_call`` primary and secondary, then the next in line (``rotation``: primary, secondary, then every other
member who may take ``on_call``), handing over on Monday 00:00 UTC. The drill's tracker gets these rotations
for the services each team owns (``simulator.drills.tracker.DrillTracker.seed_roster``), so a new incident
pages this week's primary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from simulator.domain.standard import ONCALL_ROTATION_EVERY
from simulator.drills.model import ROLE_NAMES, Drill, OnCall, Person, Team

_CORE = ("incident_commander", "tech_lead", "comms_lead", "scribe")


@dataclass
class Roster:
    teams: list[Team] = field(default_factory=list)

    def team(self, name: str | None) -> Team:
        if name is not None:
            for t in self.teams:
                if t.name == name:
                    return t
        return self.teams[0]

    def pick(self, team: str | None, role: str) -> str:
        """The first member of ``team`` who may take ``role`` (or the first member)."""
        t = self.team(team)
        for m in t.members:
            if role in m.roles:
                return m.name
        return t.members[0].name

    def to_json(self) -> list[dict]:
        return [t.model_dump(mode="json") for t in self.teams]

    def rotation(self, team: Team) -> list[str]:
        """Who is on call in turn, from this week: the primary, the secondary, then the other on-call members."""
        assert team.on_call is not None
        first = [n for n in (team.on_call.primary, team.on_call.secondary) if n]
        rest = [m.name for m in team.members if "on_call" in m.roles and m.name not in first]
        return first + rest


def week_start(now: datetime | None = None) -> datetime:
    """Monday 00:00 UTC of ``now``'s week: the rotation's hand-over."""
    day = (now or datetime.now(UTC)).astimezone(UTC)
    monday = day - timedelta(days=day.weekday())
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)


def shifts(people: list[str], week: int) -> tuple[str, str | None]:
    """The primary and secondary ``week`` weeks from now (0: this week) of a rotation in this order."""
    primary = people[week % len(people)]
    return primary, people[(week + 1) % len(people)] if len(people) > 1 else None


def _fake_members(team: str, size: int, seed: int) -> list[Person]:
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(f"{seed}:{team}")
    names: list[str] = []
    while len(names) < size:
        name = fake.name()
        if name not in names:
            names.append(name)
    members = []
    for i, name in enumerate(names):
        roles = [_CORE[i % len(_CORE)], "on_call"]
        if i == 0 and size > len(_CORE):
            roles.append("security_lead")
        handle = "@" + name.lower().replace(" ", ".").replace("'", "")
        members.append(Person(name=name, roles=roles, handle=handle))
    return members


def build_roster(drill: Drill) -> Roster:
    """The drill's teams with every gap filled: members (seeded Faker), on-call, escalation path."""
    teams = list(drill.teams) or [Team(name="responders", size=4)]
    out: list[Team] = []
    for t in teams:
        members = list(t.members) or _fake_members(t.name, t.size, drill.seed)
        on_call = t.on_call or OnCall(primary=members[0].name, secondary=members[1].name if len(members) > 1 else None)
        escalation = list(t.escalation) or [n for n in (on_call.primary, on_call.secondary) if n] + [
            "engineering manager"]
        out.append(t.model_copy(update={"members": members, "on_call": on_call, "escalation": escalation}))
    return Roster(out)


def roster_markdown(roster: Roster) -> str:
    lines = []
    for t in roster.teams:
        lines.append(f"**{t.name}**" + (f" (owns {', '.join(t.services)})" if t.services else ""))
        lines.append("")
        lines.append("| name | roles they may take |")
        lines.append("|---|---|")
        for m in t.members:
            lines.append(f"| {m.name} | {', '.join(ROLE_NAMES.get(r, r) for r in m.roles) or '-'} |")
        lines.append("")
        if t.on_call:
            people = roster.rotation(t)
            primary, secondary = shifts(people, 1)
            every = ONCALL_ROTATION_EVERY.days
            this = f"primary **{t.on_call.primary}**, secondary **{t.on_call.secondary or '-'}**"
            nxt = f"primary **{primary}**, secondary **{secondary or '-'}**"
            lines.append(f"On call this week: {this}; next week: {nxt} (rotation every {every} days: "
                         f"{', '.join(people)}). Escalation path: {' → '.join(t.escalation)}.")
        lines.append("")
    return "\n".join(lines)
