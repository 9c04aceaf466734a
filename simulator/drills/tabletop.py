"""Tabletop exercises: a Master Scenario Events List (MSEL) delivered on a timer or by key press.

No infrastructure: an embedded tracker holds the exercise's incident. Injects are messages,
synthetic alerts (sent into the tracker, which opens the incident), generated dashboard snapshots
(text + SVG in the exercise folder) and log excerpts. Players answer in the tracker (web UI,
``gameday incident ...`` or the API); ``--answers FILE`` plays a scripted team through the API.
Afterwards every expected action is looked up in the tracker and each capability gets a rating on
the score card's scale (HSEEP's P, S, M, U: ``simulator.domain.rating``, cut-offs from the scoring config).

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

from simulator.domain.ops_action import first_match, recorded_action
from simulator.domain.rating import RATING_TEXT
from simulator.domain.runbook import perform
from simulator.drills.model import CAPABILITY_NAMES, Answer, Answers, Drill, Expect, Inject
from simulator.drills.roster import build_roster
from simulator.drills.snapshots import log_excerpt, render_inject, snapshot_svg
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
class Criterion:
    inject: str
    capability: str
    do: str
    text: str
    points: int
    met: bool
    detail: str


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

    @property
    def ok(self) -> bool:
        return True

    @property
    def overall(self) -> float:
        possible = sum(c.points for c in self.criteria)
        return round(100 * sum(c.points for c in self.criteria if c.met) / possible, 1) if possible else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"drill": self.drill, "exercise_id": self.exercise_id, "folder": self.folder, "team": self.team,
                "incidents": self.incidents, "overall": self.overall, "capabilities": self.capabilities,
                "criteria": [asdict(c) for c in self.criteria], "delivered": self.delivered,
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
def _ops_done(entry: dict[str, Any]) -> str:
    data = entry.get("data") or {}
    return recorded_action(entry["kind"].removeprefix("ops."), str(data.get("target") or ""), data.get("params") or {})


def _mentions(text: str, words: list[str]) -> str | None:
    low = text.lower()
    return next((w for w in words if w.lower() in low), None)


def judge(expect: Expect, incidents: list[dict[str, Any]], timeline: list[dict[str, Any]],
          customer_words: list[str]) -> tuple[bool, str]:
    kinds = [e["kind"] for e in timeline]
    if not incidents:
        return False, "no incident in the tracker"
    if expect.do == "ack":
        acked = "incident.acknowledged" in kinds
        return acked, "acknowledged" if acked else "never acknowledged"
    if expect.do == "declare":
        declared = [e["data"].get("severity") for e in timeline if e["kind"] == "incident.declared"]
        if not declared:
            return False, "never declared"
        changed = [e["data"].get("to") or e["data"].get("severity") for e in timeline
                   if e["kind"] == "incident.severity_changed"]
        final = changed[-1] if changed and changed[-1] else declared[0]
        ok = declared[0] == expect.severity or final == expect.severity
        return ok, f"declared {declared[0]}" + (f", later {final}" if final != declared[0] else "") + \
            f"; expected {expect.severity}"
    if expect.do == "assign":
        people = [e["data"].get("person") for e in timeline if e["kind"] == "incident.role_assigned"
                  and e["data"].get("role") == expect.role]
        return bool(people), f"{expect.role}: {people[-1]}" if people else f"no {expect.role} assigned"
    if expect.do == "checklist":
        ticked = any(e["kind"] == "incident.checklist" and e["data"].get("item") == expect.item
                     and e["data"].get("checked", True) for e in timeline)
        return ticked, f"checked {expect.item}" if ticked else f"{expect.item} not checked"
    texts_updates = [" ".join(str(e["data"].get(k) or "") for k in ("headline", "what_we_know", "what_we_are_doing"))
                     for e in timeline if e["kind"] == "incident.status_update"]
    texts_notes = [str(e["data"].get("text") or "") for e in timeline if e["kind"] == "incident.note"]
    if expect.do == "status_update":
        if not texts_updates:
            return False, "no status update posted"
        if expect.contains:
            hit = next((w for t in texts_updates if (w := _mentions(t, expect.contains))), None)
            return bool(hit), f"status update mentions '{hit}'" if hit else \
                f"no status update mentions any of: {', '.join(expect.contains)}"
        return True, f"{len(texts_updates)} status update(s)"
    if expect.do in ("note", "customer_comms"):
        words = expect.contains or (customer_words if expect.do == "customer_comms" else [])
        pool = texts_notes + (texts_updates if expect.do == "customer_comms" else [])
        if not words:
            return bool(pool), f"{len(pool)} note(s)" if pool else "no notes"
        hit = next((w for t in pool if (w := _mentions(t, words))), None)
        return bool(hit), f"mentions '{hit}'" if hit else f"nothing mentions any of: {', '.join(words[:6])}"
    if expect.do == "ops":
        done = [_ops_done(e) for e in timeline if e["kind"].startswith("ops.")]
        hit = next((p for p in expect.any_of if any(first_match(d, [p]) for d in done)), None)
        if hit:
            return True, f"did {hit}"
        return False, f"none of {', '.join(expect.any_of)}; did: {', '.join(sorted(set(done))) or 'nothing'}"
    if expect.do == "mitigate":
        return "incident.mitigated" in kinds, "marked mitigated" if "incident.mitigated" in kinds else "not mitigated"
    if expect.do == "resolve":
        return "incident.resolved" in kinds, "resolved" if "incident.resolved" in kinds else "not resolved"
    if expect.do == "postmortem":
        started = "postmortem.updated" in kinds
        return started, "post-mortem started" if started else "no post-mortem"
    if expect.do == "action_item":
        found = any((e.get("data") or {}).get("action_item")
                    or "action_items" in ((e.get("data") or {}).get("fields") or []) for e in timeline)
        return found, "action item(s) recorded" if found else "no action item"
    return False, f"unknown expectation {expect.do}"  # pragma: no cover


def score_tabletop(drill: Drill, client: Any, exercise_id: str) -> tuple[list[Criterion], dict[str, dict[str, Any]],
                                                                         list[str]]:
    assert drill.tabletop is not None
    incidents = client.list_incidents(run_id=exercise_id)
    timeline: list[dict[str, Any]] = []
    for inc in incidents:
        timeline += client.timeline(inc["ref"])
    config = default_config()
    words = list(config.customer_keywords)
    criteria: list[Criterion] = []
    for inj in drill.tabletop.injects:
        for ex in inj.expected:
            met, detail = judge(ex, incidents, timeline, words)
            criteria.append(Criterion(inj.id, ex.cap, ex.do, ex.text or ex.do, ex.points, met, detail))
    caps: dict[str, dict[str, Any]] = {}
    for key, name in CAPABILITY_NAMES.items():
        mine = [c for c in criteria if c.capability == key]
        if not mine:
            continue
        possible = sum(c.points for c in mine)
        earned = sum(c.points for c in mine if c.met)
        r = config.hseep.rating(earned / possible)
        caps[key] = {"name": name, "rating": r, "rating_text": RATING_TEXT[r], "earned": earned,
                     "possible": possible, "missed": [c.text for c in mine if not c.met]}
    return criteria, caps, [i["ref"] for i in incidents]


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
        criteria, caps, refs = score_tabletop(drill, client, exercise_id)
        result = TabletopResult(drill.metadata.name, exercise_id, str(folder), script.team if script else "players",
                                refs, criteria, caps, delivered, players.errors)
        files.tabletop_score.write_text(json.dumps(result.to_json(), indent=2, default=str), encoding="utf-8")
        files.tabletop_report.write_text(report_markdown(drill, result), encoding="utf-8")
        say(f"\n[bold]Score[/]: {result.overall:.0f}/100")
        for cap in caps.values():
            say(f"  {cap['rating']}  {cap['name']}: {cap['rating_text']}")
        say(f"report: {files.tabletop_report}")
        return result
    finally:
        if not keep_tracker:
            tracker.stop()


def report_markdown(drill: Drill, result: TabletopResult) -> str:
    lines = [f"# {drill.metadata.title} — tabletop debrief", "",
             f"Exercise `{result.exercise_id}`, team **{result.team}**, "
             f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}. Incidents: {', '.join(result.incidents) or 'none'}.",
             "", f"**Overall: {result.overall:.0f}/100**", "", "## Capabilities (HSEEP: P, S, M, U)", "",
             "| capability | rating | | points |", "|---|---|---|---|"]
    for cap in result.capabilities.values():
        lines.append(f"| {cap['name']} | **{cap['rating']}** | {cap['rating_text']} | "
                     f"{cap['earned']}/{cap['possible']} |")
    lines += ["", "## Decisions, inject by inject", "", "| inject | expected | | what the tracker shows |",
              "|---|---|---|---|"]
    for c in result.criteria:
        lines.append(f"| {c.inject} | {c.text} | {'✅' if c.met else '❌'} | {c.detail} |")
    missed = [c for c in result.criteria if not c.met]
    lines += ["", "## To improve", ""]
    lines += [f"- {c.text} ({c.detail})" for c in missed] or ["- nothing missed"]
    if drill.debrief:
        lines += ["", "## Debrief", "", drill.debrief.strip()]
    if result.answer_errors:
        lines += ["", "## Answer errors", ""] + [f"- {e}" for e in result.answer_errors]
    return "\n".join(lines) + "\n"
