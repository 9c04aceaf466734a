"""Tabletop exercises: a Master Scenario Events List (MSEL) delivered on a timer or by key press.

No infrastructure: an embedded tracker holds the exercise's incident. Injects are messages,
synthetic alerts (sent into the tracker, which opens the incident), generated dashboard snapshots
(text + SVG in the exercise folder) and log excerpts. Players answer in the tracker (web UI,
``gameday incident ...`` or the API); ``--answers FILE`` plays a scripted team through the API.
Afterwards every expected action is judged from the tracker (``simulator.drills.criteria``: text as
concepts, declarations on time) and each capability gets a rating on the score card's scale (HSEEP's
P, S, M, U: ``simulator.domain.rating``, cut-offs from the scoring config). The exercise passes when
its overall score reaches the drill's pass score (``simulator.drills.verdict``).

Exercise folder ``OUT/<id>/``: ``msel.jsonl`` (what was delivered when), ``injects/*.svg|txt``,
``tracker.db``, ``tabletop-score.json`` and ``tabletop-report.md``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.markup import escape

from simulator.domain.rating import RATING_TEXT
from simulator.domain.runbook import perform
from simulator.drills.criteria import Criterion, Evidence, criteria, vocabulary
from simulator.drills.model import CAPABILITY_NAMES, Answer, Answers, Drill, Inject
from simulator.drills.roster import build_roster
from simulator.drills.snapshots import log_excerpt, render_inject, snapshot_svg
from simulator.drills.verdict import PassScore, Verdict, tabletop_verdict
from simulator.durations import format_duration
from simulator.errors import GamedayError, InputError
from simulator.rundir import DrillDir
from simulator.runs import new_run_id
from simulator.scenario.clock import GameClock
from simulator.scenario.loader import load_document
from simulator.scoring.config import default_config
from simulator.tracker.client import TrackerClient
from simulator.tracker.embedded import start_tracker


@dataclass
class TabletopResult:
    drill: str
    exercise_id: str
    folder: str
    team: str
    incidents: list[str]
    criteria: list[Criterion] = field(default_factory=list)
    capabilities: dict[str, dict[str, Any]] = field(default_factory=dict)
    delivered: list[dict[str, Any]] = field(default_factory=list)
    answer_errors: list[str] = field(default_factory=list)
    bar: PassScore = field(default_factory=lambda: PassScore(0.0, "none given"))

    @property
    def possible(self) -> int:
        return sum(c.points for c in self.criteria)

    @property
    def overall(self) -> float:
        possible = self.possible
        return round(100 * sum(c.earned for c in self.criteria) / possible, 1) if possible else 0.0

    @property
    def verdict(self) -> Verdict:
        return tabletop_verdict(self.overall, self.possible, self.bar)

    @property
    def ok(self) -> bool:
        return self.verdict.ok

    def to_json(self) -> dict[str, Any]:
        v = self.verdict
        return {"drill": self.drill, "exercise_id": self.exercise_id, "folder": self.folder, "team": self.team,
                "incidents": self.incidents, "overall": self.overall, "ok": v.ok, "verdict": v.line,
                "pass_score": self.bar.score, "pass_score_source": self.bar.source,
                "capabilities": self.capabilities,
                "criteria": [asdict(c) | {"status": c.status} for c in self.criteria], "delivered": self.delivered,
                "answer_errors": self.answer_errors}


# ------------------------------------------------------------------------------------ answers
def load_answers(path: str | Path) -> Answers:
    return load_document(path, Answers)


class Players:
    """Plays scripted answers through the tracker API, as a team would."""

    def __init__(self, client: Any, exercise_id: str, service: str, title: str):
        self.client = client
        self.exercise_id = exercise_id
        self.service = service
        self.title = title
        self.errors: list[str] = []

    def incident(self, create: bool = True) -> str | None:
        found = self.client.list_incidents(run_id=self.exercise_id)
        if found:
            return sorted(found, key=lambda i: i["created_at"])[0]["ref"]
        if not create:
            return None
        made = self.client.create_incident(self.title, self.service, run_id=self.exercise_id, exercise=True)
        return made["ref"]

    def play(self, a: Answer) -> None:
        """One answer, as the runbook step it is (``perform``); its ``person`` acts, else the team."""
        try:
            ref = self.incident()
            assert ref is not None
            if a.do != "create":
                perform(a, self.client, ref)
        except GamedayError as exc:
            self.errors.append(f"{a.after_inject}/{a.do}: {exc}")


# ------------------------------------------------------------------------------------ scoring
def score_tabletop(drill: Drill, client: Any, exercise_id: str,
                   delivered: list[dict[str, Any]]) -> tuple[list[Criterion], dict[str, dict[str, Any]], list[str]]:
    """Every expected action judged from the tracker (``simulator.drills.criteria``); a rating per capability."""
    assert drill.tabletop is not None
    incidents = client.list_incidents(run_id=exercise_id)
    timeline: list[dict[str, Any]] = []
    for inc in incidents:
        timeline += client.timeline(inc["ref"])
    timeline.sort(key=lambda e: (str(e["at"]), e["seq"]))
    config = default_config()
    words = tuple(config.customer_keywords)
    evidence = Evidence(incidents, timeline, {d["id"]: float(d["wall"]) for d in delivered}, words,
                        vocabulary(drill.tabletop, words))
    found = criteria(drill.tabletop, evidence, config)
    caps: dict[str, dict[str, Any]] = {}
    for key, name in CAPABILITY_NAMES.items():
        mine = [c for c in found if c.capability == key]
        if not mine:
            continue
        possible = sum(c.points for c in mine)
        earned = round(sum(c.earned for c in mine), 2)
        r = config.hseep.rating(earned / possible)
        caps[key] = {"name": name, "rating": r, "rating_text": RATING_TEXT[r], "earned": earned,
                     "possible": possible, "missed": [c.text for c in mine if not c.met]}
    return found, caps, [i["ref"] for i in incidents]


# ------------------------------------------------------------------------------------ the run
def _deliver(inj: Inject, client: Any, exercise_id: str, folder: Path, seed: int, game: float) -> dict[str, Any]:
    record: dict[str, Any] = {"id": inj.id, "at": inj.at, "game": round(game, 3), "wall": time.time(),
                              "kind": inj.kind, "title": inj.title, "source": inj.source}
    files = DrillDir(folder)
    files.injects.mkdir(exist_ok=True)
    if inj.alert is not None:
        a = inj.alert
        resp = client.send_alert(a.name, a.service, severity=a.severity, summary=a.summary or inj.title,
                                 run_id=exercise_id, labels={"exercise": "tabletop", "inject": inj.id})
        record["incidents"] = resp.get("incidents", [])
    if inj.snapshot is not None:
        path = files.inject(inj.id, ".svg")
        path.write_text(snapshot_svg(inj.snapshot, seed), encoding="utf-8")
        record["svg"] = str(path)
    if inj.log_lines:
        path = files.inject(inj.id, ".log")
        path.write_text(log_excerpt(inj) + "\n", encoding="utf-8")
        record["log"] = str(path)
    text = render_inject(inj, seed)
    files.inject(inj.id, ".txt").write_text(text + "\n", encoding="utf-8")
    record["text"] = text
    return record


def run_tabletop(drill: Drill, path: Path | None = None, out: str | Path = "runs", answers: str | Path | None = None,
                 advance: str = "timer", time_scale: float | None = None,
                 echo: Callable[..., None] | None = None, read_key: Callable[[], str] | None = None,
                 keep_tracker: bool = False) -> TabletopResult:
    """Deliver the MSEL, let players (or ``answers``) work the incident, then score from the tracker."""
    if drill.tabletop is None:
        raise InputError(f"{drill.metadata.name}: not a tabletop drill")
    if advance not in ("timer", "key"):
        raise InputError(f"--advance: expected timer or key, got {advance!r}")
    tt = drill.tabletop
    say = echo or (lambda *a, **k: None)
    script = load_answers(answers) if answers is not None else None
    if script is not None:
        ids = {i.id for i in tt.injects}
        unknown = [a.after_inject for a in script.answers if a.after_inject not in ids]
        if unknown:
            raise InputError(f"{answers}: answers name unknown inject(s): {', '.join(sorted(set(unknown)))}; "
                             f"injects: {', '.join(i.id for i in tt.injects)}")
    exercise_id = new_run_id(drill.metadata.name)
    folder = Path(out).resolve() / exercise_id
    folder.mkdir(parents=True, exist_ok=True)
    roster = build_roster(drill)
    files = DrillDir(folder)
    files.roster.write_text(json.dumps(roster.to_json(), indent=2), encoding="utf-8")
    tracker = start_tracker(files.tracker_db, run_id=exercise_id, scenario=tt.scenario or drill.metadata.name,
                            run_url=str(folder))
    client = TrackerClient(tracker.url, actor="facilitator")
    players = Players(TrackerClient(tracker.url, actor=script.team if script else "players"), exercise_id,
                      tt.service, tt.incident_title or drill.metadata.title)
    try:
        for t in roster.teams:
            for m in t.members:
                oncall = "primary" if t.on_call and t.on_call.primary == m.name else (
                    "secondary" if t.on_call and t.on_call.secondary == m.name else None)
                client.upsert_person(m.name, handle=m.handle, team=t.name, oncall=oncall)
        say(f"[bold]{drill.metadata.title}[/] — tabletop {exercise_id}")
        say(f"tracker: {tracker.url}  (players answer there; folder {folder})")
        if drill.briefing:
            say(drill.briefing.strip())
        scale = time_scale or tt.time_scale
        clock = GameClock(scale).start()
        delivered: list[dict[str, Any]] = []
        key = read_key or (lambda: sys.stdin.readline())
        stopped = False
        with open(files.msel, "a", encoding="utf-8") as msel:
            for inj in tt.injects:
                if advance == "timer":
                    while clock.now() < inj.at:
                        time.sleep(min(0.2, max(0.01, (inj.at - clock.now()) / scale)))
                    game = clock.now()
                else:
                    say(f"[dim]press Enter to deliver {inj.id} ({format_duration(inj.at)}): {inj.title}; q to stop[/]")
                    if key().strip().lower() == "q":
                        stopped = True
                        break
                    game = inj.at
                record = _deliver(inj, client, exercise_id, folder, drill.seed, game)
                msel.write(json.dumps(record, default=str) + "\n")
                msel.flush()
                delivered.append(record)
                say(f"\n[bold cyan]INJECT {inj.id}[/] " + escape(record["text"]))
                if script is not None:
                    for a in script.answers:
                        if a.after_inject == inj.id:
                            players.play(a)
            end = tt.duration if tt.duration is not None else (tt.injects[-1].at + 900.0)
            if script is None and not stopped:
                if advance == "timer":
                    say(f"[dim]last inject delivered; the exercise ends at {format_duration(end)}[/]")
                    while clock.now() < end:
                        time.sleep(0.2)
                else:
                    say("[dim]press Enter to end the exercise and score it[/]")
                    key()
        found, caps, refs = score_tabletop(drill, client, exercise_id, delivered)
        result = TabletopResult(drill.metadata.name, exercise_id, str(folder), script.team if script else "players",
                                refs, found, caps, delivered, players.errors, PassScore.of(drill))
        files.tabletop_score.write_text(json.dumps(result.to_json(), indent=2, default=str), encoding="utf-8")
        files.tabletop_report.write_text(report_markdown(drill, result), encoding="utf-8")
        say(f"\n[bold]Score[/]: {result.overall:g}/100")
        for cap in caps.values():
            say(f"  {cap['rating']}  {cap['name']}: {cap['rating_text']}")
        say(f"report: {files.tabletop_report}")
        say(("[bold green]" if result.ok else "[bold red]") + escape(result.verdict.line) + "[/]")
        return result
    finally:
        if not keep_tracker:
            tracker.stop()


def report_markdown(drill: Drill, result: TabletopResult) -> str:
    lines = [f"# {drill.metadata.title} — tabletop debrief", "",
             f"Exercise `{result.exercise_id}`, team **{result.team}**, "
             f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}. Incidents: {', '.join(result.incidents) or 'none'}.",
             "", f"**Overall: {result.overall:g}/100** — {result.verdict.line}", "",
             "## Capabilities (HSEEP: P, S, M, U)", "",
             "| capability | rating | | points |", "|---|---|---|---|"]
    for cap in result.capabilities.values():
        lines.append(f"| {cap['name']} | **{cap['rating']}** | {cap['rating_text']} | "
                     f"{cap['earned']}/{cap['possible']} |")
    lines += ["", "## Decisions, inject by inject", "", "| inject | expected | | points | what the tracker shows |",
              "|---|---|---|---|---|"]
    for c in result.criteria:
        mark = {"met": "✅", "partial": "◐"}.get(c.status, "❌")
        lines.append(f"| {c.inject} | {c.text} | {mark} | {c.earned:g}/{c.points} | {c.detail} |")
    missed = [c for c in result.criteria if not c.met]
    lines += ["", "## To improve", ""]
    lines += [f"- {c.text} ({c.detail})" for c in missed] or ["- nothing missed"]
    if drill.debrief:
        lines += ["", "## Debrief", "", drill.debrief.strip()]
    if result.answer_errors:
        lines += ["", "## Answer errors", ""] + [f"- {e}" for e in result.answer_errors]
    return "\n".join(lines) + "\n"
