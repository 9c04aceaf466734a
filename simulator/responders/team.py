"""Who responds: four different people for the standard's four roles, from the tracker's roster.

The runbook names people (``assign`` steps, ``person: on-call primary``); the roster says who is
really there. A runbook's person is kept when the roster has them (or there is no roster) and they
hold no other role yet; every other role goes to the next free person on the roster, the on-call
primary first for the incident commander. With no roster, the runbook's names (or ``DEFAULT_NAMES``)
are the team, and the responder puts them on the roster, as a team setting up its tracker would.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from simulator.domain.standard import ROLES
from simulator.scenario.model import RunbookStep

#: the team when neither the roster nor the runbook names four people
DEFAULT_NAMES: tuple[str, ...] = ("Avery", "Blake", "Casey", "Devon")
#: the runbook's way of naming whoever is on call
ON_CALL = {"on-call primary": "primary", "on-call secondary": "secondary"}


@dataclass(frozen=True)
class Member:
    name: str
    oncall: str | None = None


@dataclass
class Team:
    roles: dict[str, str]  # role key -> person, one person per role
    oncall: dict[str, str] = field(default_factory=dict)  # primary/secondary -> person
    register: list[str] = field(default_factory=list)  # people to put on an empty roster

    def person(self, named: str | None) -> str | None:
        """A runbook's person as the roster knows them (``on-call primary`` -> the on-call primary's name)."""
        if named is not None and named.strip().lower() in ON_CALL:
            return self.oncall.get(ON_CALL[named.strip().lower()], named)
        return named

    @property
    def people(self) -> list[str]:
        return list(dict.fromkeys(self.roles.values()))


def assemble(roster: Sequence[Member], steps: Iterable[RunbookStep]) -> Team:
    """The role holders: distinct people, on the roster when there is one."""
    wanted = {s.role: s.person for s in steps if s.do == "assign" and s.role}
    on_roster = {m.name for m in roster}
    pool = [m.name for m in sorted(roster, key=lambda m: (m.oncall != "primary", m.oncall != "secondary"))]
    named = [p for p in wanted.values() if p and p.strip().lower() not in ON_CALL]
    if not roster:
        pool = list(dict.fromkeys(named + list(DEFAULT_NAMES)))
    roles: dict[str, str] = {}
    for role in ROLES:
        person = wanted.get(role)
        if person and (not roster or person in on_roster) and person not in roles.values():
            roles[role] = person
    for role in ROLES:
        if role not in roles:
            free = [p for p in pool if p not in roles.values()]
            spare = [p for p in DEFAULT_NAMES if p not in roles.values()]
            roles[role] = (free or spare or [f"{ROLES[role]} on call"])[0]
    oncall = {m.oncall: m.name for m in roster if m.oncall}
    return Team({r: roles[r] for r in ROLES}, oncall, register=[] if roster else list(dict.fromkeys(roles.values())))
