"""Every other incident of the run, worked as a careful team would, beside the primary.

Each one is acknowledged ``ack_after`` (game time) after it appears, then looked at ``look_after``
later: one the faults caused gets a note naming the primary (``Same cause as INC-1: ...; tracked
there``) and is resolved when the primary is; a false alarm gets a note saying why it is not real
(``Verified: false alarm — ...``) and is closed, never declared: the tracker's false-alarm action does both.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from simulator.errors import GamedayError
from simulator.monitor.tiers import thresholds_for
from simulator.responders.board import Verdict, classify
from simulator.responders.record import Handled, Record
from simulator.responders.sight import Sight
from simulator.targets.apps.catalog import APPS
from simulator.tracker.port import IncidentSummary, TrackerPort

DONE = ("resolved", "closed")


@dataclass
class Other:
    ref: str
    service: str
    created: float  # game seconds
    seen: float  # game seconds
    acked: bool = False
    verdict: Verdict | None = None
    noted: bool = False
    finished: bool = False


def judge(tracker: TrackerPort, sight: Sight, ref: str, service: str, created: float) -> Verdict:
    """Did the faults cause incident ``ref`` (opened at game time ``created``), or is it a false alarm?"""
    fault = sight.first_fault()
    fault_at = fault.at.game if fault is not None else None
    touched = sight.touched()
    late_alert = False
    if fault_at is not None and created < fault_at and service in touched:
        late_alert = any(sight.game_of(a.starts_at or a.first_seen_at) >= fault_at
                         for a in tracker.alerts(incident=ref))
    return classify(service, created, fault_at, touched, late_alert)


class SideDesk:
    def __init__(self, tracker: TrackerPort, sight: Sight, record: Record, actor: str, ack_after: float,
                 look_after: float, report: Callable[[str, str, bool, str], None]):
        self.tracker = tracker
        self.sight = sight
        self.record = record
        self.actor = actor
        self.ack_after = ack_after
        self.look_after = look_after
        self.report = report  # (step kind, ref, ok, detail) -> the responder's log of steps
        self.others: dict[str, Other] = {}

    def notice(self, incidents: list[IncidentSummary], primary: str | None) -> None:
        now = self.sight.clock.now()
        for inc in incidents:
            if inc.ref == primary or inc.ref in self.others:
                continue
            self.others[inc.ref] = Other(inc.ref, inc.service, self.sight.game_of(inc.created_at), now,
                                         finished=inc.status in DONE)

    def adopt(self, ref: str) -> None:
        """``ref`` turned out to be the primary: the runbook works it from now on."""
        self.others.pop(ref, None)

    def pending(self) -> bool:
        return any(not o.finished for o in self.others.values())

    def work(self, primary: str | None, primary_settled: bool, cause: str) -> None:
        """Take every step now due; ``primary_settled``: the primary is resolved (or its runbook is over)."""
        now = self.sight.clock.now()
        for o in list(self.others.values()):
            if o.finished:
                continue
            try:
                if not o.acked and now >= o.seen + self.ack_after:
                    self._ack(o)
                if o.acked and o.verdict is None and now >= o.seen + self.ack_after + self.look_after:
                    o.verdict = self._judge(o)
                if o.verdict is not None and o.verdict.kind == "false_alarm":
                    self._dismiss(o)
                elif o.verdict is not None and primary is not None:
                    self._link(o, primary, primary_settled, cause)
            except GamedayError as exc:
                self.report("other", o.ref, False, str(exc))

    # ---------------------------------------------------------------- the steps
    def _ack(self, o: Other) -> None:
        status = self.tracker.get_incident(o.ref).status
        if status == "triggered":
            self.tracker.ack(o.ref, actor=self.actor)
            self.report("ack", o.ref, True, f"{o.ref} ({o.service})")
        elif status in DONE:
            o.finished = True
        o.acked = True

    def _judge(self, o: Other) -> Verdict:
        return judge(self.tracker, self.sight, o.ref, o.service, o.created)

    def _dismiss(self, o: Other) -> None:
        assert o.verdict is not None
        health = f"; {self._health(o.service)}" if o.service in self.sight.touched() else ""
        text = f"Verified: false alarm — {o.verdict.why}{health}. Closing without declaring."
        self.tracker.false_alarm(o.ref, note=text, actor=self.actor)  # documented and closed in one step
        self.report("note", o.ref, True, text)
        self._finish(o, "close")

    def _link(self, o: Other, primary: str, primary_settled: bool, cause: str) -> None:
        assert o.verdict is not None
        if not o.noted:
            text = f"Same cause as {primary}: {cause} ({o.verdict.why}; {self._relation(o.service)}); tracked there."
            self.tracker.note(o.ref, text, type="finding", actor=self.actor)
            self.report("note", o.ref, True, text)
            o.noted = True
        if primary_settled:
            self.tracker.resolve(o.ref, note=f"Resolved with {primary}, which tracked the cause.", actor=self.actor)
            self._finish(o, "resolve")

    def _finish(self, o: Other, how: str) -> None:
        o.finished = True
        assert o.verdict is not None
        self.record.handled.append(Handled(o.ref, o.service, o.verdict.kind, o.verdict.why, self.sight.now()))
        self.report(how, o.ref, True, f"{o.ref} ({o.service}, {o.verdict.kind.replace('_', ' ')})")

    def _health(self, service: str) -> str:
        """What the dashboard shows of the service against its tier's thresholds; else what is known of it."""
        target = next((t for t in self.sight.scenario.targets if t.name == service), None)
        if target is None:
            return f"{service} is not one of this run's targets"
        tier = target.tier or (APPS[target.app].tier if target.app else "standard")
        limits = thresholds_for(tier)
        reading = self.sight.reading(service) or {}
        parts = []
        if reading.get("availability") is not None:
            parts.append(f"availability {reading['availability']:.2%} (the {tier} tier wants >= "
                         f"{limits.availability:.1%})")
        if reading.get("p95_ms") is not None:
            parts.append(f"p95 {reading['p95_ms']:.0f} ms (the {tier} tier wants < {limits.p95_ms:g} ms)")
        if parts:
            return f"{service} now: " + ", ".join(parts)
        return f"no fault on {service} itself ({tier} tier)"

    def _relation(self, service: str) -> str:
        """How the faults reach ``service``: it is faulted, or it calls a service that is."""
        faulted = {f.target for f in self.sight.scenario.faults} | set(self.sight.scenario.truth.services_affected)
        target = next((t for t in self.sight.scenario.targets if t.name == service), None)
        calls = sorted(set(target.depends_on) & faulted) if target is not None else []
        return f"{service} calls {', '.join(calls)}" if calls and service not in faulted else f"on {service}"
