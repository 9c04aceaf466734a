"""The monthly metrics review: scores per team over time, MTTD, MTTR, incidents by type, action items.

Sources: run folders (their ``scorecard.json``, or scored afresh when it is missing or older than
the journal) and, optionally, a tracker database (incidents opened outside drills, and the
current state of every action item -- items get done after the drill, so a run folder's
snapshot is refreshed from its own ``tracker.db`` when it has one).

Action-item completion follows the standard: of the items whose due date has passed (or that
are done), the share completed on or before their due date; the target is 90 %.

One clock per figure: a run's MTTD/MTTR are on the clock it was scored on (``scorecard.json``'s
``clock``: game time by default, wall time for drills people play), an incident from a tracker is on
the wall clock. Figures on different clocks are never averaged together: each group has one set of
times per clock (``ClockTimes``), and each row says where its times come from.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from statistics import mean
from typing import Any, Literal

from simulator.domain.standard import ACTION_ITEM_COMPLETION_TARGET
from simulator.errors import GamedayError
from simulator.rundir import RunDir
from simulator.scoring.card import ScoreCard
from simulator.scoring.rundata import parse_day, parse_time, wall_of
from simulator.scoring.scorer import score_run
from simulator.tracker.connect import connect
from simulator.tracker.port import ActionItemOut

NO_TEAM = "(no team)"
ClockName = Literal["game", "wall"]
CLOCKS: tuple[ClockName, ...] = ("game", "wall")


@dataclass
class ItemState:
    due: date | None
    status: str
    completed: date | None


@dataclass
class Row:
    """One scored response: a drill run, or an incident from the tracker."""

    source: str  # run | tracker
    id: str
    when: datetime | None
    team: str
    type: str  # scenario name, or the service for tracker incidents
    score: float | None = None
    grade: str | None = None
    severity: str | None = None
    mttd_s: float | None = None
    mtta_s: float | None = None
    mttm_s: float | None = None
    mttr_s: float | None = None
    items: list[ItemState] = field(default_factory=list)
    clock: ClockName = "wall"  # the clock the times above are on
    time_scale: float | None = None  # a run's game seconds per wall second

    @property
    def month(self) -> str:
        return self.when.strftime("%Y-%m") if self.when else "unknown"

    @property
    def times_from(self) -> str:
        """Where the row's times come from, in words."""
        if self.source == "tracker":
            return "tracker incident, wall clock"
        scale = f", run at x{self.time_scale:g}" if self.time_scale and self.time_scale != 1 else ""
        return f"run scored on the {self.clock} clock{scale}"

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["times_from"] = self.times_from
        d["when"] = self.when.isoformat() if self.when else None
        d["items"] = [{"due": i.due.isoformat() if i.due else None, "status": i.status,
                       "completed": i.completed.isoformat() if i.completed else None} for i in self.items]
        return d


@dataclass
class Completion:
    due: int = 0
    on_time: int = 0
    late: int = 0
    open_overdue: int = 0
    not_yet_due: int = 0

    @property
    def rate(self) -> float | None:
        return self.on_time / self.due if self.due else None

    @property
    def meets_target(self) -> bool | None:
        return None if self.rate is None else self.rate >= ACTION_ITEM_COMPLETION_TARGET


def completion(items: list[ItemState], today: date) -> Completion:
    c = Completion()
    for i in items:
        if i.status == "wont_do":
            continue
        done = i.status == "done"
        if i.due is None:
            if done:
                c.due += 1
                c.on_time += 1
            continue
        if not done and i.due >= today:
            c.not_yet_due += 1
            continue
        c.due += 1
        if done and (i.completed is None or i.completed <= i.due):
            c.on_time += 1
        elif done:
            c.late += 1
        else:
            c.open_overdue += 1
    return c


@dataclass
class ClockTimes:
    """A group's mean times over the rows on one clock."""

    clock: ClockName
    rows: int
    mttd_s: float | None
    mtta_s: float | None
    mttm_s: float | None
    mttr_s: float | None
    sources: dict[str, int]  # where the times come from (Row.times_from) -> how many rows

    @classmethod
    def of(cls, clock: ClockName, rows: list[Row]) -> ClockTimes:
        sources: dict[str, int] = defaultdict(int)
        for r in rows:
            sources[r.times_from] += 1
        return cls(clock, len(rows), _mean([r.mttd_s for r in rows]), _mean([r.mtta_s for r in rows]),
                   _mean([r.mttm_s for r in rows]), _mean([r.mttr_s for r in rows]), dict(sorted(sources.items())))


@dataclass
class Group:
    team: str
    month: str
    runs: int
    mean_score: float | None
    times: dict[str, ClockTimes]  # one per clock the group's rows are on; never averaged across clocks
    by_type: dict[str, int]
    completion: Completion

    def on(self, clock: ClockName) -> ClockTimes | None:
        return self.times.get(clock)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["completion"] = {**asdict(self.completion), "rate": self.completion.rate,
                           "target": ACTION_ITEM_COMPLETION_TARGET, "meets_target": self.completion.meets_target}
        return d


def _mean(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(mean(vals), 3) if vals else None


def summarize(rows: list[Row], today: date | None = None) -> list[Group]:
    today = today or datetime.now(UTC).date()
    buckets: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in rows:
        buckets[(r.team, r.month)].append(r)
    out = []
    for (team, month), group in sorted(buckets.items()):
        types: dict[str, int] = defaultdict(int)
        for r in group:
            types[r.type] += 1
        times = {clock: ClockTimes.of(clock, mine) for clock in CLOCKS
                 if (mine := [r for r in group if r.clock == clock])}
        out.append(Group(team=team, month=month, runs=len(group), mean_score=_mean([r.score for r in group]),
                         times=times, by_type=dict(sorted(types.items())),
                         completion=completion([i for r in group for i in r.items], today)))
    return out


# ------------------------------------------------------------------------------------- runs

def find_runs(paths: list[Path]) -> list[Path]:
    """Run folders under ``paths`` (a run folder itself, or a folder of them)."""
    found: list[Path] = []
    for p in paths:
        if RunDir(p).is_run():
            found.append(p)
        elif p.is_dir():
            found += sorted(d for d in p.iterdir() if d.is_dir() and RunDir(d).is_run())
    return list(dict.fromkeys(found))


def _fresh_card(run_dir: Path) -> ScoreCard | None:
    folder = RunDir(run_dir)
    path = folder.scorecard
    if not path.is_file():
        return None
    db = folder.tracker_database()
    newest_input = max(p.stat().st_mtime for p in (folder.journal, db) if p is not None and p.exists())
    if path.stat().st_mtime < newest_input:
        return None
    try:
        return ScoreCard.from_json(path)
    except ValueError:
        return None


def run_row(run_dir: Path, *, rescore: bool = False, config: Any = None) -> tuple[Row, list[str]]:
    warnings: list[str] = []
    card = None if rescore else _fresh_card(run_dir)
    if card is None:
        card = score_run(run_dir, config)
    items = [ItemState(parse_day(i.due_date), i.status, _day(i.completed_at)) for i in card.action_items]
    db = RunDir(run_dir).tracker_database()
    if db is not None and card.incident:
        try:
            items = _live_items(db, card.incident)
        except Exception as exc:  # noqa: BLE001 - fall back to the card's snapshot
            warnings.append(f"{run_dir.name}: tracker.db unreadable ({type(exc).__name__}); action items as scored")
    when = datetime.fromisoformat(card.started_at) if card.started_at else None
    row = Row(source="run", id=card.run_id, when=when, team=card.team or NO_TEAM, type=card.scenario or "unknown",
              score=card.overall, grade=card.grade, severity=card.truth_severity, mttd_s=card.phases.get("mttd"),
              mtta_s=card.phases.get("acknowledge"), mttm_s=card.phases.get("mitigate"),
              mttr_s=card.phases.get("resolve"), items=items, clock=card.clock, time_scale=card.time_scale)
    return row, warnings


def _day(value: Any) -> date | None:
    wall = parse_time(value)
    return datetime.fromtimestamp(wall, UTC).date() if wall is not None else None


def _item_state(item: ActionItemOut) -> ItemState:
    return ItemState(item.due_date, item.status, _day(item.completed_at))


def _live_items(db: Path, ref: str) -> list[ItemState]:
    with connect(db, read_only=True) as tracker:
        return [_item_state(i) for i in tracker.action_items(incident=ref)]


# ---------------------------------------------------------------------------------- tracker

def tracker_rows(db: str, skip_runs: set[str]) -> list[Row]:
    """Incidents from a tracker (database, or URL) that no run folder covers (real incidents, other drills)."""
    with connect(db, read_only=True) as tracker:  # a review reads; it never creates or migrates a database
        export = tracker.export(None)
        teams = {p.name: p.team for p in tracker.people()}
    rows = []
    for entry in export.incidents:
        inc = entry.incident
        if inc.run_id and inc.run_id in skip_runs:
            continue
        created = wall_of(inc.created_at)
        acked = parse_time(inc.acknowledged_at)
        resolved = parse_time(inc.resolved_at)
        team = next((teams.get(r.person) for r in inc.role_assignments
                     if r.role == "incident_commander" and teams.get(r.person)), None)
        rows.append(Row(
            source="tracker", id=inc.ref, when=datetime.fromtimestamp(created, UTC), team=team or NO_TEAM,
            type=inc.scenario or inc.service or "unknown", severity=inc.severity,
            mtta_s=(acked - created) if acked else None, mttr_s=(resolved - created) if resolved else None,
            items=[_item_state(i) for i in entry.postmortem.action_items], clock="wall"))
    return rows


def collect(paths: list[Path], tracker_db: str | None = None, *, rescore: bool = False,
            config: Any = None) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    warnings: list[str] = []
    for run_dir in find_runs(paths):
        try:
            row, more = run_row(run_dir, rescore=rescore, config=config)
        except GamedayError as exc:
            warnings.append(f"{run_dir.name}: skipped ({exc})")
            continue
        rows.append(row)
        warnings += more
    if tracker_db:
        rows += tracker_rows(tracker_db, {r.id for r in rows})
    rows.sort(key=lambda r: r.when or datetime.min.replace(tzinfo=UTC))
    return rows, warnings
