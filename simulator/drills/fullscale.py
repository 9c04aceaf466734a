"""The annual full-scale simulation: several scenarios at once, one team each, a combined report.

Each scenario runs in its own thread with its own ``Runner`` (own targets on their own ports, own
load, monitor and embedded tracker); ``start_after`` staggers them. ``abort`` (``stop()``) stops
every runner, and each reverts its own faults in teardown. Afterwards every run is scored and
debriefed as on a game day, executive updates are checked (a status update at least every
``executive_updates`` game time on every incident), and ``combined-report.md`` / ``full-scale.json``
hold the report across teams.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simulator.drills.gameday import DrillResult, PartResult, debrief_markdown, debrief_part, override
from simulator.drills.handout import handout_markdown
from simulator.drills.model import Drill
from simulator.drills.plan import parts_of
from simulator.drills.roster import build_roster
from simulator.journal import read_events
from simulator.runner import Runner
from simulator.scenario.durations import format_duration


class FullScale:
    def __init__(self, drill: Drill, path: Path | None = None, out: str | Path = "runs", responder: str | None = None,
                 time_scale: float | None = None, max_duration: float | None = None, backend: str = "local",
                 echo: Callable[..., None] | None = None):
        from simulator.runs import new_run_id

        self.drill = drill
        self.base = path.parent if path is not None else None
        self.parts = override(parts_of(drill, self.base), responder, time_scale, max_duration)
        self.folder = Path(out).resolve() / new_run_id(drill.metadata.name)
        self.backend = backend
        self.say = echo or (lambda *a, **k: None)
        self.runners: list[Runner] = []
        self.results: dict[int, Any] = {}
        self.errors: dict[int, str] = {}
        self.stopped = threading.Event()

    def stop(self) -> None:
        self.stopped.set()
        for r in self.runners:
            r.stop_requested.set()

    def _run(self, index: int, runner: Runner, delay: float) -> None:
        try:
            if self.stopped.wait(delay):
                return
            self.results[index] = runner.run()
        except Exception as exc:  # noqa: BLE001 - one team's crash must not take the others down
            self.errors[index] = f"{type(exc).__name__}: {exc}"

    def run(self) -> DrillResult:
        self.folder.mkdir(parents=True, exist_ok=True)
        roster = build_roster(self.drill)
        (self.folder / "briefing.md").write_text(handout_markdown(self.drill, self.base), encoding="utf-8")
        self.say(f"[bold]{self.drill.metadata.title}[/] — {len(self.parts)} scenarios at once; folder {self.folder}")
        threads = []
        for i, part in enumerate(self.parts):
            team = part.ref.team or roster.teams[i % len(roster.teams)].name
            runner = Runner(part.scenario, part.options(self.folder, backend=self.backend), part.path,
                            on_event=lambda text, t=team: self.say(f"  [dim]{t}: {text}[/]"))
            self.runners.append(runner)
            t = threading.Thread(target=self._run, args=(i, runner, part.ref.start_after), name=f"full-scale-{team}",
                                 daemon=True)
            threads.append(t)
        for t in threads:
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(timeout=0.5)
        except KeyboardInterrupt:
            self.say("interrupted: stopping every scenario (each reverts its faults)")
            self.stop()
            for t in threads:
                t.join()
        parts: list[PartResult] = []
        for i, part in enumerate(self.parts):
            team = part.ref.team or roster.teams[i % len(roster.teams)].name
            result = self.results.get(i)
            if result is None:
                parts.append(PartResult(part.name, part.scenario.metadata.name, str(self.runners[i].run_dir),
                                        "error" if i in self.errors else "interrupted",
                                        self.errors.get(i, "not started"),
                                        team))
                continue
            pr = debrief_part(self.drill, self.base, part, result, team,
                              owner=lambda cap, t=team: roster.pick(t, "incident_commander"))
            parts.append(pr)
        exec_checks = self.executive_checks(parts)
        dr = DrillResult(self.drill.metadata.name, str(self.folder), parts, self.stopped.is_set(),
                         self.drill.scoring.pass_score)
        report = debrief_markdown(self.drill, parts, title="combined report across teams")
        if exec_checks:
            report += "\n## Executive communications\n\n" + "\n".join(f"- {c}" for c in exec_checks) + "\n"
        (self.folder / "combined-report.md").write_text(report, encoding="utf-8")
        data = dr.to_json() | {"executive_updates": exec_checks}
        (self.folder / "full-scale.json").write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        self.say(f"\n[bold]Combined report[/]: {self.folder / 'combined-report.md'}")
        for p in parts:
            self.say(f"  {p.team}: {p.name} {p.outcome}, score {p.overall if p.overall is not None else '-'}")
        return dr

    def executive_checks(self, parts: list[PartResult]) -> list[str]:
        """Per team: were status updates posted at least every ``executive_updates`` (game time)?"""
        every = self.drill.executive_updates
        if not every:
            return []
        lines = []
        for p in parts:
            journal = Path(p.run_dir) / "journal.jsonl"
            if not journal.exists():
                continue
            events = read_events(journal)
            updates = [e.game for e in events if e.kind == "incident.status_update" and e.game is not None]
            declared = next((e.game for e in events if e.kind == "incident.declared" and e.game is not None), None)
            end = next((e.game for e in events if e.kind in ("incident.resolved", "load.stopped")
                        and e.game is not None), None)
            if declared is None:
                lines.append(f"{p.team} ({p.name}): no incident declared, no executive updates expected")
                continue
            marks = [declared, *sorted(u for u in updates if u >= declared), end if end is not None else declared]
            longest = max((b - a for a, b in zip(marks, marks[1:], strict=False)), default=0.0)
            ok = longest <= every
            lines.append(f"{p.team} ({p.name}): {len(updates)} update(s); longest gap {format_duration(longest)} "
                         f"({'ok' if ok else 'too long'}; expected at least every {format_duration(every)})")
        return lines


def run_full_scale(drill: Drill, path: Path | None = None, **kw: Any) -> DrillResult:
    started = time.monotonic()
    result = FullScale(drill, path, **kw).run()
    _ = started
    return result
