# Size: the journal facts and the tracker views are read on the one time base (Moment, Timebase) they share.
"""Reading a finished run folder into plain facts: what the scorer and the reports work from.

Sources, all inside ``runs/<run-id>/`` so a run can be re-scored offline:

* ``journal.jsonl`` (required): faults, alerts, samples, steady-state changes, ops actions,
  escalations, and -- when the runner embedded a tracker -- a mirror of every ``incident.*`` /
  ``postmortem.*`` timeline event;
* ``scenario.yaml`` (or the truth copied into ``run.started``): the ground truth;
* the tracker, read through ``TrackerPort`` (``export``, ``people``): ``tracker.db`` in-process, or a
  tracker URL over HTTP, or, failing both, the journal's mirror of the timeline (everything but the
  post-mortem's text).

Times: every moment carries both clocks. ``wall`` is Unix time; ``game`` is game-clock seconds,
taken from the journal's own (wall, game) pairs, so tracker timestamps (wall) map onto game time
even when the facilitator paused the clock.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

from simulator.domain.ops_action import recorded_action
from simulator.domain.standard import POSTMORTEM_FIELDS
from simulator.errors import GamedayError, InputError, NotFound
from simulator.journal import Event, read_events
from simulator.monitor.probes import evaluate_all, holds
from simulator.monitor.sample import Sample
from simulator.monitor.series import Series
from simulator.rundir import JOURNAL, SCENARIO, TRACKER_DB, RunDir, TrackerInfo
from simulator.scenario import load_scenario
from simulator.scenario.model import Probe, Scenario, Truth
from simulator.tracker.connect import connect
from simulator.tracker.port import PostmortemOut, RunExport

T = TypeVar("T")


# ---------------------------------------------------------------------------------------- time

@dataclass(frozen=True)
class Moment:
    """One instant on both clocks: ``wall`` (Unix seconds) and ``game`` (game seconds, or None)."""

    wall: float
    game: float | None

    def on(self, clock: str) -> float | None:
        return self.wall if clock == "wall" else self.game

    def to_json(self) -> dict[str, Any]:
        return {"wall": round(self.wall, 3), "game": None if self.game is None else round(self.game, 3)}


def span(start: Moment | None, end: Moment | None, clock: str) -> float | None:
    """Seconds from ``start`` to ``end`` on ``clock`` (None when either is unknown)."""
    if start is None or end is None:
        return None
    a, b = start.on(clock), end.on(clock)
    if a is None or b is None:
        return None
    return b - a


class Timebase:
    """Wall -> game time, interpolated between the journal's (wall, game) pairs.

    Between two journal events the game clock is interpolated linearly (a facilitator's pause
    shows as a flat stretch); before the first or after the last it runs at ``time_scale``.
    """

    def __init__(self, events: list[Event], time_scale: float):
        self.time_scale = time_scale if time_scale > 0 else 1.0
        pairs = sorted((e.wall, e.game) for e in events if e.game is not None)
        walls: list[float] = []
        games: list[float] = []
        for w, g in pairs:  # keep game non-decreasing along wall time
            if games and g < games[-1]:
                g = games[-1]
            walls.append(w)
            games.append(g)
        self.walls, self.games = walls, games

    def game_at(self, wall: float) -> float | None:
        if not self.walls:
            return None
        i = bisect.bisect_right(self.walls, wall)
        if i == 0:
            return self.games[0] - (self.walls[0] - wall) * self.time_scale
        if i == len(self.walls):
            return self.games[-1] + (wall - self.walls[-1]) * self.time_scale
        w0, w1, g0, g1 = self.walls[i - 1], self.walls[i], self.games[i - 1], self.games[i]
        if w1 <= w0:
            return g0
        return g0 + (g1 - g0) * (wall - w0) / (w1 - w0)

    def wall_at(self, game: float) -> float | None:
        if not self.walls:
            return None
        i = bisect.bisect_right(self.games, game)
        if i == 0:
            return self.walls[0] - (self.games[0] - game) / self.time_scale
        if i == len(self.games):
            return self.walls[-1] + (game - self.games[-1]) / self.time_scale
        g0, g1, w0, w1 = self.games[i - 1], self.games[i], self.walls[i - 1], self.walls[i]
        if g1 <= g0:
            return w0
        return w0 + (w1 - w0) * (game - g0) / (g1 - g0)

    def at_wall(self, wall: float) -> Moment:
        return Moment(wall, self.game_at(wall))

    def at_game(self, game: float, wall: float | None = None) -> Moment:
        w = wall if wall is not None else self.wall_at(game)
        return Moment(w if w is not None else 0.0, game)

    def of(self, event: Event) -> Moment:
        return Moment(event.wall, event.game if event.game is not None else self.game_at(event.wall))


def wall_of(when: datetime) -> float:
    """Unix seconds of ``when`` (a naive datetime is UTC)."""
    return (when if when.tzinfo is not None else when.replace(tzinfo=UTC)).timestamp()


def parse_time(value: Any) -> float | None:
    """Unix seconds from an ISO 8601 string, a datetime or a number (None if absent/garbled)."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime):
        return wall_of(value)
    try:
        text = str(value).strip().replace("Z", "+00:00")
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return wall_of(parsed)


def parse_day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


# ------------------------------------------------------------------------------- journal facts

@dataclass
class FaultFact:
    id: str
    kind: str
    target: str
    effective: Moment
    reverted: Moment | None = None
    how: str | None = None
    seq: int = 0
    #: the scenario's fault (journaled as ``fault.scheduled`` first), not the facilitator's red herring
    scenario: bool = True


@dataclass
class AlertFact:
    name: str
    target: str
    severity: str | None
    at: Moment
    state: str  # firing | resolved
    seq: int = 0
    labels: dict[str, str] = field(default_factory=dict)  # as the alert carried them (``scenario``: an exported rule)


@dataclass
class SteadyFact:
    kind: str  # lost | restored
    at: Moment
    detail: str = ""
    seq: int = 0


@dataclass
class OpsFact:
    at: Moment
    action: str  # compact form, e.g. rollback:payments
    verb: str
    target: str
    actor: str = ""
    summary: str = ""
    source: str = "journal"  # journal | tracker
    seq: int = 0


@dataclass
class EscalationFact:
    at: Moment
    severity: str | None
    note: str = ""
    seq: int = 0


@dataclass
class RunFacts:
    faults: list[FaultFact] = field(default_factory=list)
    failed_faults: list[str] = field(default_factory=list)
    alerts: list[AlertFact] = field(default_factory=list)
    steady: list[SteadyFact] = field(default_factory=list)
    steady_source: str | None = None  # journal | samples
    ops: list[OpsFact] = field(default_factory=list)
    escalations: list[EscalationFact] = field(default_factory=list)
    started: Moment | None = None
    finished: Moment | None = None
    outcome: str | None = None

    @property
    def first_fault(self) -> FaultFact | None:
        """The scenario's first fault to take effect (a red herring does not start the incident's clock)."""
        return min((f for f in self.faults if f.scenario), key=lambda f: f.effective.wall, default=None)

    def firing(self) -> list[AlertFact]:
        return [a for a in self.alerts if a.state == "firing"]


# ----------------------------------------------------------------------------- tracker record

@dataclass
class TimelineItem:
    at: Moment
    kind: str
    actor: str
    summary: str
    data: dict[str, Any]
    seq: int = 0


@dataclass
class StatusUpdateView:
    at: Moment
    status: str
    headline: str
    what_we_know: str
    what_we_are_doing: str
    next_update_by: float | None  # wall
    #: "external": a status-page / customer message, not only the incident channel
    audience: str = "internal"


@dataclass
class RoleView:
    role: str
    person: str
    at: Moment


@dataclass
class ActionItemRecord:
    action: str
    owner: str
    due_date: date | None
    status: str
    type: str
    completed_at: float | None = None  # wall


@dataclass
class PostmortemView:
    exists: bool
    content_known: bool  # False: only the journal mirror was available (edits seen, text not)
    title: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    meeting_date: date | None = None
    action_items: list[ActionItemRecord] = field(default_factory=list)
    edited_fields: list[str] = field(default_factory=list)
    edits: int = 0


@dataclass
class IncidentView:
    ref: str
    title: str = ""
    service: str = ""
    channel: str = ""
    source: str = ""
    status: str = ""
    severity: str | None = None  # current
    created: Moment | None = None
    acknowledged: Moment | None = None
    declared: Moment | None = None
    declared_severity: str | None = None
    mitigated: Moment | None = None  # first "mitigated" claim
    resolved: Moment | None = None  # first "resolved" claim
    resolved_final: Moment | None = None  # the last one (after any reopen)
    closed: Moment | None = None
    severity_changes: list[tuple[Moment, str | None, str]] = field(default_factory=list)
    roles: list[RoleView] = field(default_factory=list)
    status_updates: list[StatusUpdateView] = field(default_factory=list)
    checklist: dict[str, Moment] = field(default_factory=dict)
    notes: list[TimelineItem] = field(default_factory=list)
    ops: list[OpsFact] = field(default_factory=list)
    timeline: list[TimelineItem] = field(default_factory=list)
    postmortem: PostmortemView | None = None
    team: str | None = None

    def severity_at(self, moment: Moment) -> str | None:
        """The severity in force at ``moment`` (after declaration)."""
        current = self.declared_severity
        for at, _old, new in self.severity_changes:
            if at.wall <= moment.wall:
                current = new
        return current


@dataclass
class TrackerRecord:
    source: str  # TRACKER_DB, "tracker API <url>", "journal mirror"
    incidents: list[IncidentView]
    #: the tracker's roster: person name -> team (None: unknown; the journal mirror has no roster)
    people: dict[str, str | None] | None = None
    #: evaluators' reviews of judgement items, oldest first (``current``: the one that counts)
    reviews: list[Any] = field(default_factory=list)


@dataclass
class RunData:
    run_dir: Path
    run_id: str
    scenario_name: str
    title: str
    events: list[Event]
    truth: Truth | None
    scenario: Scenario | None
    time_scale: float
    timebase: Timebase
    facts: RunFacts
    tracker: TrackerRecord | None
    responder: str | None
    team: str | None
    summary: dict[str, Any] | None
    warnings: list[str] = field(default_factory=list)

    @property
    def steady_probes(self) -> list[Probe]:
        return list(self.scenario.steady_state) if self.scenario is not None else []


# ------------------------------------------------------------------------------------ loading

def load_run(run_dir: str | Path, *, tracker_url: str | None = None, use_tracker: bool = True) -> RunData:
    """Read a run folder. ``NotFound`` if it is not one; never a traceback for a damaged folder."""
    path = Path(run_dir)
    if not path.exists():
        raise NotFound(f"no such run folder: {path}")
    if not path.is_dir():
        raise InputError(f"{path}: expected a run folder (runs/<run-id>/), got a file")
    folder = RunDir(path)
    journal = folder.journal
    if not journal.is_file():
        raise NotFound(f"{path}: not a run folder (no {JOURNAL})")
    try:
        events = read_events(journal)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{journal}: cannot read the journal: {exc}") from None
    if not events:
        raise InputError(f"{journal}: the journal is empty")
    warnings: list[str] = []
    started = next((e for e in events if e.kind == "run.started"), None)
    start_data = started.data if started is not None else {}
    summary = _tolerant(folder.summary, folder.summary_json, warnings)
    scenario = _load_scenario(path, start_data.get("variant"), warnings)
    truth = scenario.truth if scenario is not None else None
    if truth is None and isinstance(start_data.get("truth"), dict):
        try:
            truth = Truth.model_validate(start_data["truth"])
        except ValueError as exc:
            warnings.append(f"run.started: the truth does not validate ({str(exc).splitlines()[0]})")
    if truth is None:
        warnings.append("no ground truth (scenario.yaml missing and no truth in run.started): "
                        "classification and mitigation cannot be scored")
    time_scale = _float(start_data.get("time_scale")) or _float((summary or {}).get("time_scale")) or (
        scenario.timing.time_scale if scenario is not None else 1.0)
    timebase = Timebase(events, time_scale)
    facts = journal_facts(events, timebase)
    if not facts.steady and scenario is not None and scenario.steady_state and facts.faults:
        replayed = replay_steady(events, scenario.steady_state, timebase, facts)
        if replayed is not None:
            facts.steady, facts.steady_source = replayed, "samples"
    run_id = str(start_data.get("run_id") or (summary or {}).get("run_id") or path.name)
    tracker = None
    if use_tracker:
        tracker = load_tracker(path, run_id, events, timebase, tracker_url=tracker_url, warnings=warnings)
        if tracker is not None and not facts.ops:  # the journal has no ops.*: use what the tracker recorded
            facts.ops = sorted((o for i in tracker.incidents for o in i.ops), key=lambda o: o.at.wall)
    scenario_name = str(start_data.get("scenario") or (summary or {}).get("scenario")
                        or (scenario.metadata.name if scenario else ""))
    title = str(start_data.get("title") or (scenario.metadata.title if scenario else scenario_name))
    team = start_data.get("team") if isinstance(start_data.get("team"), str) else None
    return RunData(run_dir=path, run_id=run_id, scenario_name=scenario_name, title=title, events=events,
                   truth=truth, scenario=scenario, time_scale=time_scale, timebase=timebase, facts=facts,
                   tracker=tracker, responder=start_data.get("responder"), team=team, summary=summary,
                   warnings=warnings)


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _tolerant(read: Callable[[], T | None], path: Path, warnings: list[str]) -> T | None:
    """``read()``, or None with a warning when the file is damaged."""
    try:
        return read()
    except (OSError, ValueError) as exc:
        warnings.append(f"{path.name}: unreadable ({exc})")
        return None


def _load_scenario(path: Path, variant: Any, warnings: list[str]) -> Scenario | None:
    """The run's copy of its scenario, in the world (variant) the run played (``run.started``'s ``variant``)."""
    file = RunDir(path).scenario
    if not file.is_file():
        return None
    variant = variant if isinstance(variant, str) and variant else None
    try:
        return load_scenario(file, variant)
    except GamedayError as exc:
        try:  # your own service's files (locustfile, cwd) are beside the original, not the run's copy
            scenario = load_scenario(file, variant, cross_checks=False)
        except GamedayError:
            warnings.append(f"{SCENARIO} does not validate ({exc}); using the truth recorded in the journal")
            return None
        if any(t.command is not None for t in scenario.targets):
            return scenario
        warnings.append(f"{SCENARIO}: {exc}; scored with the scenario as parsed, without its cross-checks")
        return scenario


def journal_facts(events: list[Event], timebase: Timebase) -> RunFacts:
    facts = RunFacts()
    faults: dict[str, FaultFact] = {}
    # the scenario's faults are journaled as fault.scheduled before they are injected; journals without it: all are
    scheduled = {str(e.data.get("id")) for e in events if e.kind == "fault.scheduled"}
    for e in events:
        d = e.data
        if e.kind == "run.started":
            facts.started = timebase.of(e)
        elif e.kind == "run.finished":
            facts.finished = timebase.of(e)
            facts.outcome = d.get("outcome")
        elif e.kind == "fault.injected":
            eff = _float(d.get("effective_at"))
            at = timebase.at_wall(eff) if eff is not None else timebase.of(e)
            fid = str(d.get("id") or f"fault-{e.seq}")
            faults[fid] = FaultFact(fid, str(d.get("kind") or ""), str(d.get("target") or ""), at, seq=e.seq,
                                    scenario=not scheduled or fid in scheduled)
        elif e.kind == "fault.reverted":
            fid = str(d.get("id") or "")
            if fid in faults and faults[fid].reverted is None:
                when = _float(d.get("reverted_at"))
                faults[fid].reverted = timebase.at_wall(when) if when is not None else timebase.of(e)
                faults[fid].how = d.get("how")
        elif e.kind == "fault.failed":
            facts.failed_faults.append(f"{d.get('id') or '?'}: {d.get('error') or 'failed'}")
        elif e.kind in ("alert.firing", "alert.resolved"):
            game = _float(d.get("at"))
            at = timebase.at_game(game) if game is not None else timebase.of(e)
            if game is not None and e.game is not None and abs(e.game - game) < 5 * timebase.time_scale:
                at = Moment(e.wall - (e.game - game) / timebase.time_scale, game)
            labels = d.get("labels") if isinstance(d.get("labels"), dict) else {}
            facts.alerts.append(AlertFact(str(d.get("alertname") or d.get("name") or "?"), str(d.get("target") or ""),
                                          labels.get("severity") or d.get("severity"), at,
                                          "firing" if e.kind == "alert.firing" else "resolved", e.seq,
                                          {str(k): str(v) for k, v in labels.items()}))
        elif e.kind in ("steady_state.lost", "steady_state.restored"):
            probes = d.get("probes") or []
            facts.steady.append(SteadyFact("lost" if e.kind.endswith("lost") else "restored", timebase.of(e),
                                           "; ".join(str(p) for p in probes), e.seq))
            facts.steady_source = "journal"
        elif e.kind.startswith("ops."):
            verb = e.kind.removeprefix("ops.")
            action = str(d.get("action") or f"{verb}:{d.get('target') or ''}")
            facts.ops.append(OpsFact(timebase.of(e), action, verb, str(d.get("target") or ""),
                                     str(d.get("actor") or ""), str(d.get("summary") or ""), "journal", e.seq))
        elif e.kind == "escalation.triggered":
            facts.escalations.append(EscalationFact(timebase.of(e), d.get("severity"), str(d.get("note") or ""),
                                                    e.seq))
    facts.faults = sorted(faults.values(), key=lambda f: f.effective.wall)
    facts.alerts.sort(key=lambda a: a.at.wall)
    facts.steady.sort(key=lambda s: s.at.wall)
    facts.ops.sort(key=lambda o: o.at.wall)
    return facts


def samples(events: list[Event], timebase: Timebase | None = None) -> dict[str, list[tuple[Moment, dict[str, Any]]]]:
    """Per target: (moment, sample data) in time order, from the journal's ``sample`` events."""
    out: dict[str, list[tuple[Moment, dict[str, Any]]]] = {}
    for e in events:
        if e.kind != "sample":
            continue
        target = str(e.data.get("target") or "")
        game = _float(e.data.get("sample_game"))
        wall = _float(e.data.get("sample_wall")) or e.wall
        if game is None:
            game = e.game if e.game is not None else (timebase.game_at(wall) if timebase else None)
        out.setdefault(target, []).append((Moment(wall, game), e.data))
    for series in out.values():
        series.sort(key=lambda p: p[0].wall)
    return out


def replay_steady(events: list[Event], probes: list[Probe], timebase: Timebase,
                  facts: RunFacts) -> list[SteadyFact] | None:
    """The steady-state changes recomputed from the samples (for journals without them)."""
    first = facts.first_fault
    if first is None:
        return None
    # the runner's state machine: steady until a probe fails, restored when all hold again
    series = Series(default_age=max([p.window for p in probes] + [300.0]) * 2)
    out: list[SteadyFact] = []
    steady = True
    for e in events:
        if e.kind != "sample":
            continue
        try:
            sample = Sample.from_journal(e.data, game=e.game, wall=e.wall)
        except ValueError:
            continue
        series.add(sample)
        if first.effective.game is not None and sample.game < first.effective.game:
            continue
        results = evaluate_all(probes, series, sample.game)
        state = holds(results)
        at = Moment(sample.wall, sample.game)
        if state is False and steady:
            steady = False
            out.append(SteadyFact("lost", at, "; ".join(r.describe() for r in results if r.ok is False)))
        elif state is True and not steady:
            steady = True
            out.append(SteadyFact("restored", at, "recomputed from samples"))
    return out


# ------------------------------------------------------------------------------------ tracker

def load_tracker(run_dir: Path, run_id: str, events: list[Event], timebase: Timebase, *,
                 tracker_url: str | None = None, warnings: list[str] | None = None) -> TrackerRecord | None:
    """The run's incidents: from ``tracker_url``, ``tracker.db``, or the journal's mirror.

    A run folder is input, and a crafted one must not make scoring write to, migrate or call anything:
    the tracker database (the run's own, or the drill's one ``tracker.json`` names) is opened read-only
    and never migrated; an address in ``tracker.json`` (a tracker URL, a database URL) is only said in a
    warning: it is read when the caller passes it as ``tracker_url`` (``gameday score --tracker``)."""
    warnings = warnings if warnings is not None else []
    folder = RunDir(run_dir)
    info: TrackerInfo | None = _tolerant(folder.tracker_info, folder.tracker_json, warnings)
    if tracker_url:
        return _from_tracker(tracker_url, f"tracker API {tracker_url}", run_id, timebase, events)
    db = folder.tracker_database(info)
    if db is not None:
        try:
            return _from_tracker(db, TRACKER_DB, run_id, timebase, events, own=db.parent == run_dir)
        except Exception as exc:  # noqa: BLE001 - a damaged tracker DB: fall back to the journal mirror
            warnings.append(f"{db.name}: cannot read the tracker database ({type(exc).__name__}: {exc}); "
                            "using the journal's copy of the incident timeline")
    elif info is not None and (info.url or (info.db and "://" in info.db)):
        where = info.db if info.db and "://" in info.db else info.url
        warnings.append(f"{folder.tracker_json.name} names the tracker {where}; it is read only when you pass "
                        f"--tracker {where}: using the journal's copy of the incident timeline")
    mirrored = [e for e in events if e.kind.startswith(("incident.", "postmortem."))]
    if mirrored:
        return TrackerRecord("journal mirror", from_mirror(mirrored, timebase, events))
    return None


def _from_tracker(where: str | Path, source: str, run_id: str, timebase: Timebase, events: list[Event],
                  own: bool = False) -> TrackerRecord:
    """The run's incidents from a tracker database (opened read-only) or URL. ``own``: the run's own
    tracker.db (not a drill's shared one), where an incident without a run is ours."""
    with connect(where, timeout=10.0, read_only=True) as tracker:
        export = tracker.export(run_id)
        if not export.incidents and own:
            everything = tracker.export(None)  # a tracker.db for this run holds only this run's incidents
            export = everything.model_copy(update={"incidents": [
                i for i in everything.incidents if i.incident.run_id in (None, run_id)]})
        try:
            people = {p.name: p.team for p in tracker.people()}
        except GamedayError:
            people = {}
    return TrackerRecord(source, from_export(export, timebase, events, people), people,
                         list(getattr(export, "reviews", None) or []))


def from_export(export: RunExport, timebase: Timebase, events: list[Event] | None = None,
                people: dict[str, str | None] | None = None) -> list[IncidentView]:
    """IncidentViews from a tracker's ``export()``."""
    out = []
    for entry in export.incidents:
        inc = entry.incident
        timeline = [_item(t.at, t.kind, t.actor, t.summary, t.data, t.seq, timebase) for t in entry.timeline]
        view = _build(inc.ref, [t for t in timeline if t is not None], timebase)
        view.title = inc.title or view.title
        view.service = inc.service or view.service
        view.channel = inc.channel or view.channel
        view.source = inc.source or view.source
        view.status = inc.status or view.status
        view.severity = inc.severity or view.severity
        view.created = _at(inc.created_at, timebase)
        for attr, when in (("acknowledged", inc.acknowledged_at), ("declared", inc.declared_at),
                           ("closed", inc.closed_at)):
            if getattr(view, attr) is None and when is not None:
                setattr(view, attr, _at(when, timebase))
        if not view.roles:
            view.roles = [RoleView(r.role, r.person, _at(r.assigned_at, timebase)) for r in inc.role_assignments]
        if not view.status_updates:
            view.status_updates = [StatusUpdateView(_at(u.time, timebase), u.status, u.headline, u.what_we_know,
                                                    u.what_we_are_doing, wall_of(u.next_update_by),
                                                    str(getattr(u, "audience", None) or "internal"))
                                   for u in inc.status_updates]
        if not view.checklist:
            view.checklist = {c.key: _at(c.checked_at, timebase) for c in inc.checklist
                              if c.checked and c.checked_at is not None}
        view.postmortem = _postmortem_from_export(entry.postmortem, view.postmortem)
        if people:
            view.team = _team(view, people)
        out.append(view)
    out.sort(key=lambda v: v.created.wall if v.created else 0.0)
    return out


def _at(when: datetime, timebase: Timebase) -> Moment:
    return timebase.at_wall(wall_of(when))


def from_mirror(mirrored: list[Event], timebase: Timebase, events: list[Event] | None = None) -> list[IncidentView]:
    """IncidentViews from the journal's copy of the tracker timeline (no post-mortem text)."""
    by_ref: dict[str, list[TimelineItem]] = {}
    for e in mirrored:
        ref = str(e.data.get("incident") or "?")
        when = parse_time(e.data.get("at"))
        item = _item(when if when is not None else e.wall, e.kind, e.data.get("actor"), e.data.get("summary"),
                     e.data.get("detail"), e.data.get("tracker_seq") or e.seq, timebase)
        if item is not None:
            by_ref.setdefault(ref, []).append(item)
    out = [_build(ref, sorted(items, key=lambda t: (t.at.wall, t.seq)), timebase) for ref, items in by_ref.items()]
    out.sort(key=lambda v: v.created.wall if v.created else 0.0)
    return out


def _item(at: Any, kind: Any, actor: Any, summary: Any, data: Any, seq: Any, timebase: Timebase) -> TimelineItem | None:
    wall = parse_time(at)
    if wall is None or not kind:
        return None
    return TimelineItem(timebase.at_wall(wall), str(kind), str(actor or ""), str(summary or ""),
                        data if isinstance(data, dict) else {}, int(seq or 0))


_CHANNEL = re.compile(r"channel (#\S+)")


def _build(ref: str, timeline: list[TimelineItem], timebase: Timebase) -> IncidentView:
    """Replay an incident's timeline into an IncidentView."""
    v = IncidentView(ref=ref, timeline=timeline)
    roles: dict[str, RoleView] = {}
    pm_fields: list[str] = []
    pm_edits = 0
    for t in timeline:
        d = t.data
        if t.kind == "incident.triggered":
            v.created = v.created or t.at
            v.source = str(d.get("source") or v.source)
            v.service = str(d.get("service") or v.service)
            v.channel = str(d.get("channel") or v.channel)
            v.severity = d.get("severity") or v.severity
            v.status = "triggered"
        elif t.kind == "incident.acknowledged":
            v.acknowledged = v.acknowledged or t.at
            v.status = "acknowledged"
        elif t.kind == "incident.declared":
            if v.declared is None:
                v.declared = t.at
                v.declared_severity = d.get("severity") or v.severity
            v.severity = d.get("severity") or v.severity
            if d.get("channel"):
                v.channel = str(d["channel"])
            elif not v.channel and (m := _CHANNEL.search(t.summary)):
                v.channel = m.group(1).rstrip(";,.")
            v.status = "investigating"
        elif t.kind == "incident.severity_changed":
            v.severity_changes.append((t.at, d.get("from"), str(d.get("to") or "")))
            v.severity = d.get("to") or v.severity
        elif t.kind == "incident.role_assigned":
            role = str(d.get("role") or "")
            if role and role not in roles:
                roles[role] = RoleView(role, str(d.get("person") or ""), t.at)
        elif t.kind == "incident.status_update":
            v.status_updates.append(StatusUpdateView(
                t.at, str(d.get("status") or ""), str(d.get("headline") or ""), str(d.get("what_we_know") or ""),
                str(d.get("what_we_are_doing") or ""), parse_time(d.get("next_update_by")),
                str(d.get("audience") or "internal")))
        elif t.kind == "incident.checklist":
            key = str(d.get("item") or "")
            if d.get("checked", True) and key and key not in v.checklist:
                v.checklist[key] = t.at
            elif not d.get("checked", True):
                v.checklist.pop(key, None)
        elif t.kind == "incident.note":
            v.notes.append(t)
            if d.get("type") == "transition" and d.get("to") == "investigating":
                v.status = "investigating"
        elif t.kind == "incident.mitigated":
            v.mitigated = v.mitigated or t.at
            v.status = "mitigated"
        elif t.kind == "incident.resolved":
            v.resolved = v.resolved or t.at
            v.resolved_final = t.at
            v.status = "resolved"
        elif t.kind == "incident.closed":
            v.closed = v.closed or t.at
            v.status = "closed"
        elif t.kind.startswith("ops."):
            verb = t.kind.removeprefix("ops.")
            params = d.get("params") if isinstance(d.get("params"), dict) else {}
            action = recorded_action(verb, str(d.get("target") or ""), params)
            v.ops.append(OpsFact(t.at, action, verb, str(d.get("target") or ""), t.actor, t.summary, "tracker", t.seq))
        elif t.kind == "postmortem.updated":
            pm_edits += 1
            pm_fields += [f for f in d.get("fields") or [] if f not in pm_fields]
    v.roles = sorted(roles.values(), key=lambda r: r.at.wall)
    if pm_edits:
        v.postmortem = PostmortemView(exists=True, content_known=False, edited_fields=pm_fields, edits=pm_edits)
    return v


def _postmortem_from_export(pm: PostmortemOut, seen: PostmortemView | None) -> PostmortemView:
    items = [ActionItemRecord(i.action, i.owner, i.due_date, i.status, i.type, parse_time(i.completed_at))
             for i in pm.action_items]
    return PostmortemView(
        exists=pm.exists, content_known=True, title=pm.title,
        fields={k: str(getattr(pm, k) or "") for k in POSTMORTEM_FIELDS}, meeting_date=pm.meeting_date,
        action_items=items, edited_fields=seen.edited_fields if seen else [], edits=seen.edits if seen else 0)


def _team(view: IncidentView, people: dict[str, str | None]) -> str | None:
    ordered = sorted(view.roles, key=lambda r: (r.role != "incident_commander", r.at.wall))
    for role in ordered:
        team = people.get(role.person)
        if team:
            return team
    return None
