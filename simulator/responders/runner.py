"""The automated responder: a thread that works every incident of its run, as a careful team would.

It acts only as people would: through the tracker's port (a ``TrackerClient`` in a run) and the ops
console (``OpsConsole``), each step after its delay in game time. The **primary** incident (the one
on the truth's first affected service, ``board``) gets the policy's runbook steps; every other
incident of the run gets the side desk (``others``): acknowledged, then linked to the primary and
resolved with it, or verified as a false alarm and closed. The ``tunnel-vision`` policy works the
primary only. Roles go to four different people from the roster (``team``); the post-mortem is
written from what happened (``postmortem``). Errors never stop the run: they are kept in ``errors``
and in ``taken``.
"""

from __future__ import annotations

import threading
from typing import Any

from simulator.domain.ops_action import OpsAction
from simulator.domain.runbook import perform
from simulator.errors import GamedayError
from simulator.responders import postmortem
from simulator.responders.board import best
from simulator.responders.others import DONE, SideDesk, judge
from simulator.responders.policies import SOLO_POLICIES, plan
from simulator.responders.record import Action, Record
from simulator.responders.sight import Dashboard, Sight
from simulator.responders.team import Member, Team, assemble
from simulator.scenario.clock import GameClock
from simulator.scenario.model import RunbookStep, Scenario
from simulator.targets.ops import OpsConsole
from simulator.targets.processes import ProcessRow
from simulator.tracker.port import IncidentSummary, TrackerPort

ACTOR = "responder"
#: wall seconds between looks at the tracker
POLL = 0.25
#: a process none of the services burning at least this much of a core is "busy" to the responder looking at ps
#: (its judgement: 24 runaway processes on two cores each show about a twelfth of a core)
RUNAWAY_CPU_PERCENT = 2.0


class AutoResponder(threading.Thread):
    def __init__(self, scenario: Scenario, policy: str, tracker: TrackerPort, ops: OpsConsole, clock: GameClock,
                 run_id: str, actor: str = ACTOR, dashboard: Dashboard | None = None):
        """``dashboard``: the run's live dashboard (``Runner.snapshot``), for the fault's time and the probes."""
        super().__init__(name=f"responder-{policy}", daemon=True)
        self.scenario = scenario
        self.policy = policy
        self.steps = plan(scenario, policy)
        self.tracker = tracker
        self.ops = ops
        self.clock = clock
        self.run_id = run_id
        self.actor = actor
        self.sight = Sight(scenario, clock, dashboard)
        self.record = Record()
        self.stop_event = threading.Event()
        self.done = threading.Event()
        self.incident: str | None = None
        self.team: Team | None = None
        self.taken: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self._due: list[tuple[float, RunbookStep]] = []
        self._waiting_since: float | None = None
        self.cause = postmortem.short_cause(scenario)  # what a linked incident's note names
        ack_after, look_after = _delays(self.steps)
        self.grace = ack_after
        self.desk = SideDesk(tracker, self.sight, self.record, actor, ack_after, look_after, self._report) \
            if policy not in SOLO_POLICIES else None

    # ---------------------------------------------------------------- the thread
    def run(self) -> None:
        try:
            while not self.stop_event.is_set():
                self._tick()
                if self.stop_event.wait(POLL):
                    return
        finally:
            self.done.set()

    def stop(self) -> None:
        self.stop_event.set()

    def _tick(self) -> None:
        self.sight.glance()
        try:
            incidents = self.tracker.list_incidents(run_id=self.run_id)
        except GamedayError:
            incidents = None
        if incidents is not None:
            if self.incident is None:
                self._choose(incidents)
            if self.desk is not None:
                self.desk.notice(incidents, self.incident)
        while self._due and self.clock.now() >= self._due[0][0] and not self.stop_event.is_set():
            self._take(self._due.pop(0)[1])
        if self.desk is not None:
            settled = "resolve" in self.record.marks or (self.incident is not None and not self._due)
            self.desk.work(self.incident, settled, self.cause)
        busy = self.incident is None or bool(self._due) or (self.desk is not None and self.desk.pending())
        if busy:
            self.done.clear()
        else:
            self.done.set()

    def escalate(self, severity: str | None, note: str) -> None:
        """The situation got worse (an escalation fired): raise the severity, as an IC would."""
        if self.incident is None or not severity or self.policy == "wrong-severity":
            return
        try:
            self.tracker.set_severity(self.incident, severity, reason=f"escalation: {note}", actor=self.actor)
            self.taken.append({"do": "severity", "game": round(self.clock.now(), 3), "ok": True, "detail": severity})
        except GamedayError as exc:
            self.errors.append(f"severity: {exc}")

    # ---------------------------------------------------------------- the primary
    def _choose(self, incidents: list[IncidentSummary]) -> None:
        """Pick the primary among the incidents the faults caused (waiting ``grace`` for a better one)."""
        now = self.clock.now()
        caused = [i for i in incidents if i.status not in DONE and judge(
            self.tracker, self.sight, i.ref, i.service, self.sight.game_of(i.created_at)).kind == "related"]
        if not caused and not self.scenario.faults:  # nothing to tell them apart by: the first one (no fault runs)
            caused = [i for i in incidents if i.status not in DONE]
        pick = best(caused, self.scenario.truth.services_affected)
        if pick is None:
            return
        affected = self.scenario.truth.services_affected
        self._waiting_since = now if self._waiting_since is None else self._waiting_since
        if affected and pick.service != affected[0] and now < self._waiting_since + self.grace:
            return
        self.incident = pick.ref
        self.record.seen = self.sight.now()
        if self.desk is not None:
            self.desk.adopt(pick.ref)
        self.team = self._assemble()
        at = now
        for step in self.steps:
            at += step.after
            self._due.append((at, step))

    def _assemble(self) -> Team:
        try:
            roster = [Member(p.name, p.oncall) for p in self.tracker.people()]
        except GamedayError as exc:
            self.errors.append(f"roster: {exc}")
            roster = []
        team = assemble(roster, self.steps)
        for name in team.register:
            try:
                self.tracker.upsert_person(name, team="responders")
            except GamedayError as exc:
                self.errors.append(f"roster: {exc}")
        return team

    def _take(self, step: RunbookStep) -> None:
        record: dict[str, Any] = {"do": step.do, "game": round(self.clock.now(), 3), "ok": True}
        try:
            detail = self._act(step)
            if detail:
                record["detail"] = detail
            self.record.mark(step.do, self.sight.now())
        except GamedayError as exc:
            record["ok"] = False
            record["error"] = str(exc)
            self.errors.append(f"{step.do}: {exc}")
        self.taken.append(record)

    def _act(self, step: RunbookStep) -> str | None:
        ref, team = self.incident, self.team
        assert ref is not None and team is not None
        if step.do == "postmortem":
            postmortem.write(self.tracker, ref, step, sight=self.sight, record=self.record, team=team,
                             actor=self.actor)
            return None
        if step.do == "ack":
            if self.tracker.get_incident(ref).status != "triggered":
                return "acknowledged already"
            self.record.probes_during = self.sight.probes()
        if step.do == "assign" and step.role:
            step = step.model_copy(update={"person": team.roles[step.role]})
        elif step.person:
            step = step.model_copy(update={"person": team.person(step.person)})
        status = "Mitigating" if self.record.pulled else "Investigating"
        return perform(step, self.tracker, ref, actor=self.actor, lever=self._pull, status=status)

    def _pull(self, action: OpsAction) -> dict[str, Any]:
        """The ops console pulls the lever (and records it on the timeline of the target's incident)."""
        at = self.sight.now()
        try:
            if action.verb == "kill" and action.key == "runaway":  # look first, as a person would
                return self._kill_runaways(action.target, at)
            result = self.ops.run(action)
        except GamedayError as exc:
            self.record.actions.append(Action(action.format(), at, False, str(exc)))
            raise
        self.record.actions.append(Action(result["action"], at, True, str(result.get("summary") or "")))
        if result.get("incident") not in (None, self.incident):  # the console put it on another incident
            return {**result, "incident": None}
        return result

    def _kill_runaways(self, target: str, at: Any) -> dict[str, Any]:
        """Kill every runaway process seen beside ``target``, one ``kill`` each (a batch job may be several)."""
        killed: list[dict[str, Any]] = []
        for action in runaways(self.ops.processes(), target):
            result = self.ops.run(action)
            self.record.actions.append(Action(result["action"], at, True, str(result.get("summary") or "")))
            killed.append(result)
        last = killed[-1]
        summary = "; ".join(str(k.get("summary") or "") for k in killed)
        return {**last, "summary": summary, "incident": last.get("incident") if last.get("incident") == self.incident
                else None}

    def _report(self, do: str, ref: str, ok: bool, detail: str) -> None:
        """A step the side desk took on another incident."""
        entry: dict[str, Any] = {"do": do, "game": round(self.clock.now(), 3), "ok": ok, "incident": ref}
        entry["detail" if ok else "error"] = detail
        if not ok:
            self.errors.append(f"{ref}: {detail}")
        self.taken.append(entry)


def runaways(rows: list[ProcessRow], target: str) -> list[OpsAction]:
    """What a person at ``top`` kills: every busy process that is none of the run's services (they know their
    services' pids from ``gameday targets status``), busiest first; with no busy one, the biggest by resident
    memory."""
    strangers = [r for r in rows if r.target is None]
    if not strangers:
        raise GamedayError(f"no runaway process beside {target}: ps shows only the services")
    busy = sorted((r for r in strangers if r.cpu_percent >= RUNAWAY_CPU_PERCENT), key=lambda r: -r.cpu_percent)
    picks = busy or [max(strangers, key=lambda r: r.rss)]
    return [OpsAction("kill", target, "pid", str(r.pid)) for r in picks]


def _delays(steps: list[RunbookStep]) -> tuple[float, float]:
    """The policy's pace for other incidents: its delay before acknowledging, then before looking closer."""
    kinds = [s.do for s in steps]
    if "ack" not in kinds:
        return (steps[0].after if steps else 0.0), 0.0
    i = kinds.index("ack")
    ack = sum(s.after for s in steps[: i + 1])
    look = steps[i + 1].after if i + 1 < len(steps) else 0.0
    return ack, look
