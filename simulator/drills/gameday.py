"""The quarterly game day: several scenarios in sequence, a briefing before, a debrief after.

Each scenario is a real run (``Runner``) with its own run folder; all of them use the drill's one
tracker (``simulator.drills.tracker``), where people work the incidents (``responder: human``), or the
automated responder stands in. The facilitator console steers the running scenario, from the terminal
or the tracker's /facilitator page; with ``start: facilitator`` each scenario is held, everything up,
until the facilitator starts it. The debrief scores every run (``simulator.scoring``), lists what went
well and what to improve from the score cards, and feeds proposed action items into the tracker (the
run's incident). Drill folder ``OUT/<drill-id>/``: ``briefing.md``, ``tracker.db``, ``debrief.md``,
``gameday.json``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.markup import escape

from simulator.domain.outcome import Outcome
from simulator.drills.combined import combined_html
from simulator.drills.console import FacilitatorConsole, read_stdin, scripted
from simulator.drills.handout import handout_markdown
from simulator.drills.humantime import scoring_config
from simulator.drills.model import Drill
from simulator.drills.plan import Part, parts_of
from simulator.drills.roster import build_roster
from simulator.drills.tracker import DrillTracker
from simulator.drills.verdict import PassScore, Verdict, drill_verdict, part_problems
from simulator.run import Runner, score_result
from simulator.rundir import DrillDir, RunDir
from simulator.runs import new_run_id
from simulator.tracker.client import TrackerClient
from simulator.tracker.embedded import start_tracker


@dataclass
class PartResult:
    name: str
    scenario: str
    run_dir: str
    outcome: str
    reason: str
    team: str | None = None
    overall: float | None = None
    grade: str | None = None
    went_well: list[str] = field(default_factory=list)
    to_improve: list[str] = field(default_factory=list)
    action_items: list[str] = field(default_factory=list)
    incident: str | None = None
    scoring_error: str | None = None
    incident_status: str | None = None  # the primary incident's status in the tracker when scored

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class DrillResult:
    drill: str
    folder: str
    parts: list[PartResult]
    aborted: bool = False
    bar: PassScore = field(default_factory=lambda: PassScore(0.0, "none given"))

    @property
    def verdict(self) -> Verdict:
        return drill_verdict(self.parts, self.bar, self.aborted)

    @property
    def ok(self) -> bool:
        return self.verdict.ok

    def to_json(self) -> dict[str, Any]:
        v = self.verdict
        return {"drill": self.drill, "folder": self.folder, "ok": v.ok, "verdict": v.line,
                "pass_score": self.bar.score, "pass_score_source": self.bar.source, "aborted": self.aborted,
                "parts": [p.to_json() | {"problems": part_problems(p, self.bar)} for p in self.parts]}


def override(parts: list[Part], responder: str | None, time_scale: float | None,
             max_duration: float | None) -> list[Part]:
    for p in parts:
        if responder:
            p.responder = responder
        if time_scale:
            p.time_scale = time_scale
        if max_duration:
            p.max_duration = max_duration
    return parts


def debrief_part(drill: Drill, base: Path | None, part: Part, result: Any, team: str | None,
                 owner: Callable[[str], str] | None = None, max_items: int = 5,
                 tracker_url: str | None = None) -> PartResult:
    """Score one run; went well / to improve from its card; action items into its tracker (the running
    drill tracker at ``tracker_url``, else the run's own ``tracker.db`` opened for the purpose)."""
    pr = PartResult(part.name, part.scenario.metadata.name, result.run_dir, result.outcome, result.reason, team)
    try:
        config = scoring_config(drill, base)  # the drill's policy: people on their clock, automation on game
    except Exception as exc:  # noqa: BLE001 - a broken scoring policy must not lose the debrief
        pr.scoring_error = f"scoring unavailable: {type(exc).__name__}: {exc}"
        return pr
    card = score_result(result, config)  # the run's one scoring pass, with the drill's policy
    if card is None:
        pr.scoring_error = "scoring unavailable: " + ("; ".join(e for e in result.teardown_errors
                                                               if e.startswith("scoring")) or "the run never started")
        return pr
    pr.overall, pr.grade, pr.incident = round(card.overall, 1), card.grade, card.incident
    pr.incident_status = next((i.status for i in card.incidents if i.primary), None)
    pr.went_well = [f"{i.title}: {i.reason}" for i in card.items if i.status == "met"]
    weak = [i for i in card.items if i.status in ("missed", "partial")]
    weak.sort(key=lambda i: i.max_points - i.points, reverse=True)
    pr.to_improve = [f"{i.title}: {i.reason}" for i in weak]
    pr.action_items = [f"Improve '{i.title}' ({i.category_title}): {i.reason}"[:300] for i in weak[:max_items]]
    db = RunDir(result.run_dir).tracker_db
    if pr.action_items and pr.incident and (tracker_url or db.exists()):
        handle = None if tracker_url else start_tracker(db, run_id=Path(result.run_dir).name)
        try:
            client = TrackerClient(tracker_url or handle.url, actor="facilitator")
            for text, item in zip(pr.action_items, weak, strict=False):
                kind = {"detect": "monitoring", "process": "process", "pm": "documentation"}.get(item.category,
                                                                                                    "training")
                client.add_action_item(pr.incident, text, owner=owner(item.capability) if owner else "",
                                       type=kind)
        finally:
            if handle is not None:
                handle.stop()
    return pr


def debrief_markdown(drill: Drill, parts: list[PartResult], title: str = "debrief",
                     verdict: Verdict | None = None) -> str:
    lines = [f"# {drill.metadata.title} — {title}", ""]
    if verdict is not None:
        lines += [f"**{verdict.line}**", ""]
    lines += ["| scenario | team | outcome | score | grade | run |", "|---|---|---|---|---|---|"]
    for p in parts:
        lines.append(f"| {p.name} | {p.team or '-'} | {p.outcome} | {'-' if p.overall is None else f'{p.overall:.0f}'} "
                     f"| {p.grade or '-'} | `{p.run_dir}` |")
    for p in parts:
        lines += ["", f"## {p.name}", ""]
        if p.scoring_error:
            lines += [f"*{p.scoring_error}*", ""]
        lines += ["**What went well**", ""] + ([f"- {x}" for x in p.went_well[:8]] or ["- (nothing scored as met)"])
        lines += ["", "**What to improve**", ""] + ([f"- {x}" for x in p.to_improve[:8]] or ["- nothing missed"])
        if p.action_items:
            lines += ["", f"**Proposed action items** (in the tracker, incident {p.incident})", ""]
            lines += [f"- {x}" for x in p.action_items]
    if drill.debrief:
        lines += ["", "## Discussion", "", drill.debrief.strip()]
    return "\n".join(lines) + "\n"


def run_game_day(drill: Drill, path: Path | None = None, out: str | Path = "runs", responder: str | None = None,
                 time_scale: float | None = None, max_duration: float | None = None, only: list[str] | None = None,
                 console_mode: str = "auto", commands: str | Path | None = None, backend: str = "local",
                 echo: Callable[..., None] | None = None, console: FacilitatorConsole | None = None,
                 start: str | None = None, tracker_port: int | None = None,
                 on_tracker: Callable[[DrillTracker], None] | None = None) -> DrillResult:
    say = echo or (lambda *a, **k: None)
    base = path.parent if path is not None else None
    parts = override(parts_of(drill, base, only), responder, time_scale, max_duration)
    hold = (start or drill.start) == "facilitator"
    folder = Path(out).resolve() / new_run_id(drill.metadata.name)
    folder.mkdir(parents=True, exist_ok=True)
    files = DrillDir(folder)
    roster = build_roster(drill)
    briefing = handout_markdown(drill, base)
    files.briefing.write_text(briefing, encoding="utf-8")
    say(f"[bold]{drill.metadata.title}[/] — game day, {len(parts)} scenario(s); folder {folder}")
    if drill.briefing:
        say(drill.briefing.strip())
    console = console or FacilitatorConsole(echo=lambda text: say(f"[magenta]console[/] {text}"))
    tracker = DrillTracker(folder, port=drill.tracker_port if tracker_port is None else tracker_port,
                           name=drill.metadata.name)
    try:
        tracker.set_facilitator(console)
        tracker.seed_roster(roster)
        say(f"[bold]tracker[/]: {tracker.url}   [bold]facilitator page[/]: {tracker.url}/facilitator")
        if on_tracker is not None:
            on_tracker(tracker)
        if console_mode == "on" or (console_mode == "auto" and sys.stdin.isatty() and commands is None):
            read_stdin(console, sys.stdin)
            say("[dim]facilitator console: type 'help' for commands[/]")
        plan = Path(commands).read_text(encoding="utf-8").splitlines() if commands else None
        results: list[PartResult] = []
        for i, part in enumerate(parts, 1):
            if console.aborted.is_set():
                break
            team = part.ref.team or roster.teams[0].name
            say(f"\n[bold]Scenario {i}/{len(parts)}: {part.scenario.metadata.title}[/] (team {team}, responder "
                f"{part.responder})")
            runner = Runner(part.scenario, part.options(folder, backend=backend, tracker=tracker.handle, hold=hold),
                            part.path)
            runner.on_event = lambda text: say(f"  [dim]{text}[/]" + (
                f"\n  [bold]start it[/]: the Start button on {tracker.url}/facilitator, or type 'start'"
                if text.startswith("ready: ") else ""))
            runner.facilitator = console
            console.attach(runner.control, part.ref.red_herrings,
                           label=f"{drill.metadata.title} — scenario {i}/{len(parts)}: {part.name}")
            tracker.add(runner)
            if plan is not None:
                runner.extras.append(scripted(console, plan))
            try:
                result = runner.run()
            finally:
                console.detach()
                tracker.remove(runner)
            say(f"  → {result.outcome}: {result.reason}")
            if result.outcome == Outcome.INTERRUPTED and result.reason.startswith("interrupted by SIG"):
                console.aborted.set()  # Ctrl-C / SIGTERM ends the drill, not only this scenario
                say("  the drill stops here: no further scenario is started")
            results.append(debrief_part(drill, base, part, result, team,
                                        lambda cap, t=team: roster.pick(t, "incident_commander"),
                                        tracker_url=tracker.url))
        dr = DrillResult(drill.metadata.name, str(folder), results, console.aborted.is_set(), PassScore.of(drill))
        files.debrief_md.write_text(debrief_markdown(drill, results, verdict=dr.verdict), encoding="utf-8")
        files.debrief_html.write_text(combined_html(
            f"{drill.metadata.title}: debrief", f"game day, {len(results)} scenario(s) in sequence · {folder.name}",
            results, folder, tracker=tracker.url, discussion=drill.debrief, in_sequence=True), encoding="utf-8")
        files.gameday_json.write_text(json.dumps(dr.to_json() | {"tracker": tracker.url}, indent=2, default=str),
                                      encoding="utf-8")
    finally:
        tracker.stop()
    say(f"\n[bold]Debrief[/]: {files.debrief_html} (and .md)")
    for p in results:
        say(f"  {p.name}: {p.outcome}, score {p.overall if p.overall is not None else '-'} ({p.grade or '-'})"
            + (f" — {p.scoring_error}" if p.scoring_error else ""))
    say(("[bold green]" if dr.ok else "[bold red]") + escape(dr.verdict.line) + "[/]")
    return dr
