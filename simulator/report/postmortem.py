"""The post-mortem a report shows: the tracker's, or a draft written from the journal.

The template (sections, fields, Markdown layout) is the tracker's, from the standard
(``simulator.domain.standard`` / ``simulator.tracker.postmortem``); this module only decides
whose words fill it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from simulator.domain.standard import POSTMORTEM_FIELDS, SEVERITIES
from simulator.durations import format_duration
from simulator.report.timeline import build_timeline
from simulator.scoring.rundata import IncidentView, Moment, RunData, span
from simulator.tracker.postmortem import ActionItemView, to_markdown
from simulator.tracker.timeutil import human_duration

TIMELINE_KINDS = ("fault.injected", "alert.firing", "steady_state.lost", "escalation.triggered",
                  "steady_state.restored", "fault.reverted", "incident.triggered", "incident.acknowledged",
                  "incident.declared", "incident.severity_changed", "incident.mitigated", "incident.resolved",
                  "incident.closed", "incident.status_update")

#: Fields a draft states on a clock: nobody wrote them, so the report's (on the card's clock) win
#: over the tracker's prefill (which gives both clocks).
ON_THE_CLOCK = ("overview_duration", "timeline")


@dataclass
class PostmortemDoc:
    title: str
    fields: dict[str, str]
    action_items: list[ActionItemView] = field(default_factory=list)
    meeting_date: date | None = None
    source: str = "tracker"  # tracker | tracker draft | journal draft
    note: str = ""

    def markdown(self) -> str:
        text = to_markdown(self.title, self.fields, self.action_items, self.meeting_date)
        if self.note:
            head, _, rest = text.partition("\n")
            text = f"{head}\n\n_{self.note}_\n{rest}"
        return text


def build_postmortem(run: RunData, incident: IncidentView | None, clock: str = "game") -> PostmortemDoc:
    """The post-mortem to show; a journal draft states its duration and timeline on ``clock``, the clock
    of the score card (one clock per view: game time since the run started, or UTC wall time)."""
    pm = incident.postmortem if incident is not None else None
    if incident is not None and pm is not None and pm.content_known:
        items = [ActionItemView(i.action, i.owner, i.due_date, i.status, i.type) for i in pm.action_items]
        fields = {k: pm.fields.get(k, "") for k in POSTMORTEM_FIELDS}
        if pm.exists:
            return PostmortemDoc(pm.title or incident.title, fields, items, pm.meeting_date, "tracker")
        draft = journal_draft(run, incident, clock)
        for key, value in fields.items():
            if key in ON_THE_CLOCK and draft.fields.get(key, "").strip():
                continue  # the tracker's prefill mixes clocks; the journal's is on the card's clock
            if value.strip():
                draft.fields[key] = value
        draft.source = "tracker draft"
        draft.note = (f"No post-mortem was written for {incident.ref}; this draft holds what the tracker prefilled "
                      "and the run journal shows.")
        return draft
    draft = journal_draft(run, incident, clock)
    if incident is not None and pm is not None and not pm.content_known:
        draft.note = (f"The post-mortem of {incident.ref} was edited in the tracker, but its text is not in this run "
                      "folder; this draft is written from the run journal.")
    else:
        draft.note = "No post-mortem was written in the tracker; this draft is written from the run journal."
    return draft


def _utc(wall: float, fmt: str) -> str:
    return datetime.fromtimestamp(wall, UTC).strftime(fmt)


def when_text(at: Moment, clock: str, with_date: bool = False) -> str:
    """A moment on ``clock``: "+2m25.8s game time" (since the run started) or "14:05:09 UTC"."""
    if clock == "game" and at.game is not None:
        return "+" + (format_duration(at.game) if at.game >= 1 else "0s")
    return _utc(at.wall, "%Y-%m-%d %H:%M:%S UTC" if with_date else "%H:%M:%S UTC")


def journal_draft(run: RunData, incident: IncidentView | None, clock: str = "game") -> PostmortemDoc:
    facts = run.facts
    fault = facts.first_fault
    fields = {k: "" for k in POSTMORTEM_FIELDS}
    start = fault.effective if fault else (incident.created if incident else facts.started)
    end = next((s.at for s in reversed(facts.steady) if s.kind == "restored"), None)
    if incident is not None and incident.resolved_final is not None:
        end = incident.resolved_final
    game_clock = clock == "game" and start is not None and start.game is not None
    if start is not None:
        when = _utc(start.wall, "%Y-%m-%d %H:%M UTC")
        if end is not None:
            when += " – " + _utc(end.wall, "%H:%M UTC")
            seconds = span(start, end, clock if game_clock else "wall")
            if seconds is not None:
                fields["overview_duration"] = (human_duration(timedelta(seconds=max(0.0, seconds)))
                                               + (" game time" if game_clock else " wall time"))
        fields["overview_date_time"] = when
    severity = (incident.declared_severity if incident else None)
    if severity in SEVERITIES:
        fields["overview_severity"] = f"{severity} ({SEVERITIES[severity].name})"
    services = list(dict.fromkeys([f.target for f in facts.faults] + ([incident.service] if incident else [])))
    fields["overview_services"] = ", ".join(s for s in services if s)
    lost = next((s for s in facts.steady if s.kind == "lost"), None)
    if lost is not None:
        fields["overview_customer_impact"] = f"Steady state lost: {lost.detail}" if lost.detail else ""
    with_date = start is not None and end is not None and _utc(start.wall, "%F") != _utc(end.wall, "%F")
    lines = [f"- **{when_text(e.at, clock if game_clock else 'wall', with_date)}**: {e.text}"
             for e in build_timeline(run) if e.kind in TIMELINE_KINDS]
    if lines and game_clock:
        lines.insert(0, "- Times are game time since the run started (the score card's clock).")
    fields["timeline"] = "\n".join(lines[:200])
    title = incident.title if incident is not None and incident.title else run.title
    return PostmortemDoc(title, fields, [], None, "journal draft")
