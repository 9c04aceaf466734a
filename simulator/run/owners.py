"""The owning teams' fixes: an escalation (``ops.escalate``) lands as a fix ``fixes_after`` later on the game clock.

A scenario names who owns a target (``targets[].owner: {team, fixes_after}``). ``OwnerFixes`` is one of the
runner's per-loop hooks: it follows the run's journal (only new lines; the escalation may come from the
responder, a person's ``gameday ops escalate`` in another shell, or the web UI) and, once the game clock has
moved ``fixes_after`` past the moment it saw the escalation (a paused clock holds it), reverts through the
fault engine every fault that was in effect on the target, or on a link into it, when the team was paged
(``how: owner:<team>``), journals ``owner.fixed`` and puts it on the timeline of the target's open incident.
A fault injected after the page is not theirs to know of; an escalation to a team whose target has nothing
wrong fixes nothing (``owner.fixed`` with no faults).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.errors import GamedayError
from simulator.rundir import RunDir
from simulator.scenario.model import Owner, Scenario
from simulator.targets.ops import record_on_incident

ESCALATE_MARK = '"kind":"ops.escalate"'


@dataclass
class Pending:
    target: str
    owner: Owner
    due_game: float
    paged_wall: float
    in_effect: list[str] = field(default_factory=list)  # fault ids in effect on the target when paged


def on_target(fault_target: str, target: str) -> bool:
    """Is a fault on ``fault_target`` (a target, or a link ``a->b``) in ``target``'s owners' hands?"""
    return fault_target == target or fault_target.split("->")[-1] == target


class OwnerFixes:
    def __init__(self, journal: str | os.PathLike[str], owners: dict[str, Owner]):
        self.path = Path(journal)
        self.owners = owners
        self.pending: list[Pending] = []
        self._offset = 0

    def __call__(self, runner: Any) -> None:
        """One loop of the runner (``Runner.extras``): its clock, schedule, fault engine and journal."""
        engine = runner.services.engine if runner.services is not None else None
        if engine is None or runner.journal is None:
            return
        now = runner.clock.now()
        for target, wall, game in self._escalations():
            owner = self.owners.get(target)
            if owner is None or any(p.target == target for p in self.pending):
                continue  # no owner (the console refuses those), or already on it
            open_ids = [e.id for e in engine.ledger.open_entries() if on_target(e.target, target)
                        and e.injected_at is not None and e.injected_at <= wall]  # in effect when paged
            paged = game if game is not None and game <= now else now  # a page from another shell has no game time
            self.pending.append(Pending(target, owner, paged + owner.fixes_after, wall, open_ids))
        for p in [p for p in self.pending if p.due_game <= now]:
            self.pending.remove(p)
            self._fix(runner, p)

    def _fix(self, runner: Any, p: Pending) -> None:
        assert runner.services is not None and runner.services.engine is not None and runner.journal is not None
        engine, how = runner.services.engine, f"owner:{p.owner.team}"
        still = {e.id for e in engine.ledger.open_entries()}
        reverted, errors = [], []
        for fault_id in p.in_effect:
            if fault_id not in still:
                continue
            scheduled = next((f for f in runner.schedule.faults if f.id == fault_id), None)
            try:
                if scheduled is not None:
                    with runner.schedule.lock:
                        runner.revert(scheduled, how)
                    if scheduled.error:
                        raise GamedayError(scheduled.error)
                else:
                    engine.revert(fault_id, by=how)
                reverted.append(fault_id)
            except GamedayError as exc:
                errors.append(f"{fault_id}: {exc}")
        runner.journal.write("owner.fixed", team=p.owner.team, target=p.target, faults=reverted,
                             paged_wall=round(p.paged_wall, 6), fixes_after=p.owner.fixes_after, errors=errors,
                             note="" if p.in_effect else f"{p.owner.team} found nothing wrong with {p.target}")
        what = ", ".join(reverted) or "nothing to fix"
        runner.event(f"{p.owner.team} fixed {p.target}: {what}")
        record_on_incident(runner.services.tracker_client, runner.run_id, p.target, "owner.fixed",
                           f"reverted {what}" if reverted else what, p.owner.team, {"faults": reverted})

    def _escalations(self) -> list[tuple[str, float, float | None]]:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self._offset)
                data = fh.read()
        except OSError:
            return []
        end = data.rfind(b"\n") + 1  # whole lines only
        self._offset += end
        found = []
        for raw in data[:end].decode("utf-8", "replace").splitlines():
            if ESCALATE_MARK not in raw:
                continue
            try:
                record: dict[str, Any] = json.loads(raw)
                game = record.get("game")
                found.append((str((record.get("data") or {}).get("target")), float(record["wall"]),
                              float(game) if isinstance(game, int | float) else None))
            except (ValueError, KeyError, TypeError):
                continue
        return found


def owner_fixes(scenario: Scenario, run_dir: str | os.PathLike[str]) -> OwnerFixes | None:
    """The hook for a run whose scenario names owning teams; None when it names none."""
    owners = {t.name: t.owner for t in scenario.targets if t.owner is not None}
    return OwnerFixes(RunDir(run_dir).journal, owners) if owners else None
