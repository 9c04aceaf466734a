"""One timeline for a run: journal events and the tracker's incident timeline, merged in time order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from simulator.durations import format_duration
from simulator.scoring.rundata import Moment, RunData, parse_time

SKIP = {"sample", "alert.pending", "alert.delivered", "probe.checked", "baseline.captured", "fault.scheduled",
        "load.started", "load.stopped", "target.started", "target.stopped"}
TRACKER_SKIP = {"alert.firing", "alert.resolved"}  # the journal has the alerts already


@dataclass(frozen=True)
class Entry:
    at: Moment
    source: str  # run | tracker
    kind: str
    text: str

    @property
    def category(self) -> str:
        return self.kind.split(".", 1)[0]

    def game_text(self) -> str:
        if self.at.game is None:
            return ""
        return "+" + (format_duration(self.at.game) if self.at.game >= 1 else "0s")

    def wall_text(self, with_date: bool = False) -> str:
        fmt = "%Y-%m-%d %H:%M:%S" if with_date else "%H:%M:%S"
        return datetime.fromtimestamp(self.at.wall, UTC).strftime(fmt)

    def to_json(self) -> dict[str, Any]:
        return {**self.at.to_json(), "source": self.source, "kind": self.kind, "text": self.text}


def describe(kind: str, d: dict[str, Any]) -> str:
    if kind == "run.started":
        return f"run started: {d.get('scenario', '')} (x{d.get('time_scale', 1)}, responder {d.get('responder', '-')})"
    if kind == "run.finished":
        return f"run finished: {d.get('outcome', '?')} ({d.get('reason', '')})"
    if kind == "run.aborted":
        return f"run aborted: {d.get('reason', '')}"
    if kind == "phase.changed":
        return f"phase: {d.get('phase', '?')}"
    if kind == "fault.injected":
        params = ", ".join(f"{k}={v}" for k, v in (d.get("params") or {}).items())
        return f"fault injected: {d.get('id')} ({d.get('kind')} on {d.get('target')}{'; ' + params if params else ''})"
    if kind == "fault.reverted":
        return f"fault reverted: {d.get('id')} ({d.get('how', '')})"
    if kind == "fault.failed":
        return f"fault failed: {d.get('id')}: {d.get('error', '')}"
    if kind in ("alert.firing", "alert.resolved"):
        state = "FIRING" if kind == "alert.firing" else "resolved"
        summary = (d.get("annotations") or {}).get("summary") or ""
        return f"alert {state}: {d.get('alertname')} on {d.get('target')}" + (f" -- {summary}" if summary else "")
    if kind == "steady_state.lost":
        return "steady state LOST: " + "; ".join(str(p) for p in d.get("probes") or [])
    if kind == "steady_state.restored":
        return "steady state restored"
    if kind == "escalation.triggered":
        return f"escalation: {d.get('note') or ''} (severity {d.get('severity') or '-'})"
    if kind == "owner.fixed":
        return (f"{d.get('team')} (owner of {d.get('target')}) fixed it: "
                + (", ".join(str(f) for f in d.get("faults") or []) or "nothing to fix"))
    if kind.startswith("ops."):
        return f"ops {d.get('action') or kind.removeprefix('ops.')} by {d.get('actor') or '?'}: {d.get('summary', '')}"
    if kind.startswith(("incident.", "postmortem.")):
        ref = d.get("incident")
        return (f"{ref}: " if ref else "") + str(d.get("summary") or kind)
    if kind in ("target.crashed", "target.restarted"):
        return f"{kind.split('.')[1]}: {d.get('name') or d.get('target')} {d.get('reason') or d.get('signal') or ''}"
    if kind == "check.result":
        return f"check {d.get('name')}: {'ok' if d.get('ok') else 'FAILED'} {d.get('detail', '')}"
    return kind


def build_timeline(run: RunData) -> list[Entry]:
    entries: list[Entry] = []
    # one source per figure: a fault at the moment it took effect, an alert at the moment it fired, as
    # the score card has them (the journal line itself is written a little later)
    moments = {f.seq: f.effective for f in run.facts.faults if f.seq}
    moments.update({a.seq: a.at for a in run.facts.alerts if a.seq})
    mirrored = any(e.kind.startswith(("incident.", "postmortem.")) for e in run.events)
    for e in run.events:
        if e.kind in SKIP:
            continue
        at = run.timebase.of(e)
        if e.kind.startswith(("incident.", "postmortem.")):
            when = parse_time(e.data.get("at"))
            at = run.timebase.at_wall(when) if when is not None else at
            entries.append(Entry(at, "tracker", e.kind, describe(e.kind, e.data)))
            continue
        entries.append(Entry(moments.get(e.seq, at), "run", e.kind, describe(e.kind, e.data)))
    journal_ops = any(e.kind.startswith("ops.") for e in run.events)
    if run.tracker is not None and not mirrored:
        for inc in run.tracker.incidents:
            for t in inc.timeline:
                if t.kind in TRACKER_SKIP or (journal_ops and t.kind.startswith(("ops.", "owner."))):
                    continue
                entries.append(Entry(t.at, "tracker", t.kind, f"{inc.ref}: {t.summary}"))
    entries.sort(key=lambda x: x.at.wall)
    return entries
