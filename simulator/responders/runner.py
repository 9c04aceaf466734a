"""The automated responder: a thread that waits for the run's incident, then takes its steps.

It acts only as a person would: through the tracker's HTTP API (``TrackerClient``) and the ops
console (``OpsConsole``), with each step's delay in game time. Its errors never stop the run:
they are recorded as notes on the incident and in ``errors``.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

from simulator.domain.ops_action import OpsAction
from simulator.domain.runbook import perform
from simulator.durations import format_duration
from simulator.errors import GamedayError
from simulator.responders.policies import plan
from simulator.scenario.clock import GameClock
from simulator.scenario.model import RunbookStep, Scenario
from simulator.targets.ops import OpsConsole

ACTOR = "responder"


def _business_days_after(day: date, n: int) -> date:
    d = day
    while n > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            n -= 1
    return d


class AutoResponder(threading.Thread):
    def __init__(self, scenario: Scenario, policy: str, tracker: Any, ops: OpsConsole, clock: GameClock,
                 run_id: str, actor: str = ACTOR):
        super().__init__(name=f"responder-{policy}", daemon=True)
        self.scenario = scenario
        self.policy = policy
        self.steps = plan(scenario, policy)
        self.tracker = tracker
        self.ops = ops
        self.clock = clock
        self.run_id = run_id
        self.actor = actor
        self.stop_event = threading.Event()
        self.done = threading.Event()
        self.incident: str | None = None
        self.taken: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.facts: dict[str, Any] = {"ops": []}

    # ---------------------------------------------------------------- the thread
    def run(self) -> None:
        try:
            self.incident = self._wait_for_incident()
            if self.incident is None:
                return
            at = self.clock.now()
            for step in self.steps:
                at += step.after
                if not self.clock.sleep_until(at, self.stop_event):
                    return
                self._take(step)
        finally:
            self.done.set()

    def stop(self) -> None:
        self.stop_event.set()

    def escalate(self, severity: str | None, note: str) -> None:
        """The situation got worse (an escalation fired): raise the severity, as an IC would."""
        if self.incident is None or not severity or self.policy == "wrong-severity":
            return
        try:
            self.tracker.set_severity(self.incident, severity, reason=f"escalation: {note}", actor=self.actor)
            self.facts["severity"] = severity
            self.taken.append({"do": "severity", "game": round(self.clock.now(), 3), "ok": True, "detail": severity})
        except GamedayError as exc:
            self.errors.append(f"severity: {exc}")

    def _wait_for_incident(self) -> str | None:
        while not self.stop_event.wait(0.25):
            try:
                incidents = self.tracker.list_incidents(run_id=self.run_id)
            except GamedayError:
                continue
            if incidents:
                first = sorted(incidents, key=lambda i: i.get("created_at") or "")[0]
                self.facts["alert_game"] = self.clock.now()
                return first["ref"]
        return None

    def _take(self, step: RunbookStep) -> None:
        record = {"do": step.do, "game": round(self.clock.now(), 3), "ok": True}
        try:
            detail = self._act(step)
            if detail:
                record["detail"] = detail
        except GamedayError as exc:
            record["ok"] = False
            record["error"] = str(exc)
            self.errors.append(f"{step.do}: {exc}")
        self.taken.append(record)

    # ---------------------------------------------------------------- the steps
    def _act(self, step: RunbookStep) -> str | None:
        ref = self.incident
        assert ref is not None
        if step.do == "postmortem":
            self._postmortem(ref, step)
            return None
        status = "Mitigating" if self.facts["ops"] else "Investigating"
        detail = perform(step, self.tracker, ref, actor=self.actor, lever=self._pull, status=status)
        if step.do == "declare":
            self.facts["severity"] = step.severity
        return detail

    def _pull(self, action: OpsAction) -> dict[str, Any]:
        """The ops console pulls the lever (and records it on the incident's timeline)."""
        result = self.ops.run(action)
        self.facts["ops"].append(result["action"])
        return result

    def _postmortem(self, ref: str, step: RunbookStep) -> None:
        """A complete post-mortem: the runbook's fields, the rest written from what the responder saw."""
        t, s = self.tracker, self.scenario
        t.refresh_postmortem(ref, actor=self.actor)
        incident = t.get_incident(ref)
        ops = ", ".join(self.facts["ops"]) or "no ops action"
        alert_at = format_duration(self.facts.get("alert_game", 0.0))
        service = incident.get("service") or s.load_target
        fields = {
            "overview_customer_impact": f"Customers of {service} saw failed or slow requests while the steady "
                                        f"state was lost; see the timeline for the window.",
            "root_cause": step.fields.get("root_cause") or step.text or "",
            "detection_how": f"Automated alerts from the monitor paged on-call for {service} (first alert at game "
                             f"time {alert_at}); the incident was opened from the alert.",
            "detection_delay": "Detection took one alert evaluation window after impact began; no human report "
                               "came first.",
            "detection_earlier": "Yes: alert on pool saturation / rejection rate / memory trend as a leading "
                                 "indicator, before availability drops.",
            "response_went_well": f"The incident was acknowledged and declared per the runbook; roles were "
                                  f"assigned and {ops} mitigated it.",
            "response_improve": "Automate the first mitigation (fallback or rollback) and post the first status "
                                "update sooner.",
            "response_people": "Yes: incident commander, technical lead, communications lead and scribe were "
                               "assigned before mitigation.",
            "resolution_how": f"Mitigated with {ops}; the steady state was verified from the metrics before "
                              f"resolving.",
            "resolution_alternatives": "Restarting the service was considered and rejected: it does not remove the "
                                       "cause and can feed a retry storm.",
            "resolution_permanence": "The rollback is permanent for this release; the fix for the defect ships "
                                     "through the normal release process.",
            "lessons_learned": "Canary releases with automated rollback on error budget burn; alert on leading "
                               "indicators; keep fallbacks one switch away.",
            "meeting_date": _business_days_after(datetime.now(UTC).date(), 1).isoformat(),
        }
        fields.update({k: v for k, v in step.fields.items() if k in fields and v})
        written = step.model_copy(update={"fields": {k: v for k, v in fields.items() if v}})
        perform(written, t, ref, actor=self.actor)
        for action, owner, kind in (
            ("Fix the defect identified in the root cause, with a regression test", "Blake", "fix"),
            ("Add a leading-indicator alert for this failure mode", "Devon", "monitoring"),
            ("Add this scenario to the quarterly game day", "Avery", "process"),
        ):
            item = RunbookStep(after=0.0, do="action_item", fields={"action": action, "owner": owner, "type": kind})
            perform(item, t, ref, actor=self.actor)
