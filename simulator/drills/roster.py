"""Teams and rosters: the drill's, or a seeded Faker-made one when none is given."""

from __future__ import annotations

from dataclasses import dataclass, field

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
            lines.append(f"On call: primary **{t.on_call.primary}**, secondary **{t.on_call.secondary or '-'}**. "
                         f"Escalation path: {' → '.join(t.escalation)}.")
        lines.append("")
    return "\n".join(lines)
