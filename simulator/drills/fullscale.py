"""The annual full-scale simulation: several scenarios at once, one team each, a combined report.

Each scenario runs in its own thread with its own ``Runner`` (own load and monitor); ``start_after``
staggers them. Every team works in the drill's one tracker (``simulator.drills.tracker``), so the
incidents of all teams sit side by side, each run's its own for scoring. With ``shared_targets: true``
the union of the scenarios' targets (merged by name) is started once in ``FOLDER/targets`` and every
runner works on it (``RunOptions.shared_targets``): one team's fault and mitigation reach the
services of the others (the payments leak shows up as gateway upstream errors; the payments
rollback clears them). The shared targets are stopped at the end. ``abort`` (``stop()``) stops
every runner, and each reverts its own faults in teardown. Afterwards every run is scored and
debriefed as on a game day, executive updates are checked (a status update at least every
``executive_updates`` on every incident: wall time when people play it, game time for an automated
team), and ``combined-report.md`` / ``full-scale.json`` hold the report across teams.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from rich.markup import escape

from simulator.domain.outcome import Outcome
from simulator.drills.combined import combined_html
from simulator.drills.gameday import DrillResult, PartResult, debrief_markdown, debrief_part, override
from simulator.drills.handout import handout_markdown
from simulator.drills.humantime import executive_every, scoring_config
from simulator.drills.model import Drill
from simulator.drills.plan import parts_of
from simulator.drills.roster import build_roster
from simulator.drills.tracker import DrillTracker
from simulator.drills.verdict import PassScore
from simulator.durations import format_duration
from simulator.errors import GamedayError, InputError
from simulator.faults.engine import FaultEngine
from simulator.faults.ledger import Ledger
from simulator.journal import Event, read_events
from simulator.run import Runner
from simulator.rundir import DrillDir, RunDir
from simulator.runs import new_run_id
from simulator.scoring.config import default_config
from simulator.scoring.rubric.context import people_responded
from simulator.targets.backends import get_backend, refuse_local_only
from simulator.targets.spec import merge_targets, target_spec
from simulator.targets.view import TargetsView


class FullScale:
    def __init__(self, drill: Drill, path: Path | None = None, out: str | Path = "runs", responder: str | None = None,
                 time_scale: float | None = None, max_duration: float | None = None, backend: str = "local",
                 echo: Callable[..., None] | None = None, tracker_port: int | None = None):
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
        self.shared: Path | None = None  # the shared targets' folder (shared_targets: true)
        self.tracker_port = drill.tracker_port if tracker_port is None else tracker_port
        self.tracker: DrillTracker | None = None

    def stop(self) -> None:
        self.stopped.set()
        for r in self.runners:
            r.stop_requested.set()

    def _run(self, index: int, runner: Runner, delay: float) -> None:
        try:
            if self.stopped.wait(delay):
                return
            if self.tracker is not None:
                self.tracker.add(runner)
            self.results[index] = runner.run()
        except Exception as exc:  # noqa: BLE001 - one team's crash must not take the others down
            self.errors[index] = f"{type(exc).__name__}: {exc}"
        finally:
            if self.tracker is not None:
                self.tracker.remove(runner)

    def start_shared_targets(self) -> Path:
        """Start the union of the scenarios' targets once; every runner uses them."""
        targets, conflicts = merge_targets([p.scenario for p in self.parts])
        if conflicts:
            raise InputError("; ".join(f"scenarios[{i}] ({self.parts[i].name}): {m}" for i, m in conflicts))
        folder = DrillDir(self.folder).shared_targets
        # each target's physics at the speed of the first part declaring it (a leak told in game hours)
        scales = {t.name: p.time_scale or p.scenario.timing.time_scale for p in reversed(self.parts)
                  for t in p.scenario.targets}
        refuse_local_only(self.backend, [target_spec(t) for t in targets])
        view = get_backend(self.backend).up([{**target_spec(t), "time_scale": scales[t.name]} for t in targets], folder,
                                            new_run_id(f"{self.drill.metadata.name}-targets"), seed=self.drill.seed,
                                            scenario=self.drill.metadata.name, owner_pid=os.getpid())
        self.shared = folder  # up: from here on, stop_shared_targets() owes a revert and a down
        with Ledger.of_run(folder):  # the one ledger every team's faults go to, created before they race to
            pass
        self.say(f"shared targets: {', '.join(view.names)} in {folder}")
        return folder

    def stop_shared_targets(self) -> None:
        """Revert whatever is still open in the shared ledger (a team's failed revert, a fault injected by hand
        with ``gameday fault inject``), then stop the shared targets."""
        if self.shared is None:
            return
        try:
            engine = FaultEngine(TargetsView.load(self.shared))
            try:
                done, errors = engine.revert_all(by="end")
            finally:
                engine.close()
            if done:
                self.say(f"shared targets: reverted {len(done)} fault(s) left open: {', '.join(e.id for e in done)}")
            for error in errors:
                self.say(f"[red]shared targets: revert failed: {error}[/] (run 'gameday cleanup')")
        finally:
            get_backend(self.backend).down(self.shared)

    def _interrupt(self, signum: int, _frame: Any) -> None:
        if not self.stopped.is_set():
            self.say(f"{signal.Signals(signum).name}: stopping every scenario (each reverts its own faults)")
        self.stop()

    def run(self) -> DrillResult:
        """Ctrl-C and SIGTERM (main thread) stop every runner; each reverts its faults, then the shared
        targets and the tracker stop as usual. ``kill -9`` leaves them to ``gameday cleanup``."""
        in_main = threading.current_thread() is threading.main_thread()
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)} if in_main else {}
        for s in previous:
            signal.signal(s, self._interrupt)
        try:
            return self._drill()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _drill(self) -> DrillResult:
        self.folder.mkdir(parents=True, exist_ok=True)
        DrillDir(self.folder).briefing.write_text(handout_markdown(self.drill, self.base), encoding="utf-8")
        self.say(f"[bold]{self.drill.metadata.title}[/] — {len(self.parts)} scenarios at once; folder {self.folder}")
        self.tracker = DrillTracker(self.folder, port=self.tracker_port, name=self.drill.metadata.name)
        self.tracker.seed_roster(build_roster(self.drill))
        self.say(f"[bold]tracker[/] for every team: {self.tracker.url}")
        try:
            if self.drill.shared_targets:
                self.start_shared_targets()
            self.say(f"[dim]run folder {self.folder}; Ctrl-C stops every scenario (faults are reverted)[/]")
            return self._run_all()
        finally:
            try:
                self.stop_shared_targets()
            finally:
                self.tracker.stop()

    def _run_all(self) -> DrillResult:
        roster = build_roster(self.drill)
        assert self.tracker is not None
        extra: dict[str, Any] = {"tracker": self.tracker.handle}
        if self.shared is not None:
            extra["shared_targets"] = self.shared
        teams = [part.ref.team or roster.teams[i % len(roster.teams)].name for i, part in enumerate(self.parts)]
        threads = []
        for part, team in zip(self.parts, teams, strict=True):
            services = roster.team(team).services if self.shared is not None else []
            runner = Runner(part.scenario, part.options(self.folder, backend=self.backend, watch=services or None,
                                                        **extra), part.path,
                            on_event=lambda text, t=team: self.say(f"  [dim]{t}: {text}[/]"))
            self.runners.append(runner)
            t = threading.Thread(target=self._run, args=(len(threads), runner, part.ref.start_after),
                                 name=f"full-scale-{team}", daemon=True)
            threads.append(t)
        for t in threads:
            t.start()
        for t in threads:  # Ctrl-C / SIGTERM only ask every runner to stop (see run()): wait for their teardown
            while t.is_alive():
                t.join(timeout=0.5)
        parts: list[PartResult] = []
        for i, (part, team) in enumerate(zip(self.parts, teams, strict=True)):
            result = self.results.get(i)
            if result is None:
                parts.append(PartResult(part.name, part.scenario.metadata.name, str(self.runners[i].run_dir),
                                        Outcome.ERROR if i in self.errors else Outcome.INTERRUPTED,
                                        self.errors.get(i, "not started"),
                                        team))
                continue
            pr = debrief_part(self.drill, self.base, part, result, team,
                              owner=lambda cap, t=team: roster.pick(t, "incident_commander"),
                              tracker_url=self.tracker.url)
            parts.append(pr)
        exec_checks = self.executive_checks(parts)
        dr = DrillResult(self.drill.metadata.name, str(self.folder), parts, self.stopped.is_set(),
                         PassScore.of(self.drill))
        report = debrief_markdown(self.drill, parts, title="combined report across teams", verdict=dr.verdict)
        if exec_checks:
            report += "\n## Executive communications\n\n" + "\n".join(f"- {c}" for c in exec_checks) + "\n"
        coupling = self.coupling_lines(parts)
        if coupling:
            report += ("\n## Cross-team coupling (shared targets)\n\n"
                       f"Every team worked on the same services ({self.shared}): one team's fault and "
                       "mitigation reach the others'.\n\n" + "\n".join(f"- {c}" for c in coupling) + "\n")
        files = DrillDir(self.folder)
        files.combined_md.write_text(report, encoding="utf-8")
        sections = [("Executive communications", exec_checks)] if exec_checks else []
        if coupling:
            sections.append(("Cross-team coupling (shared targets)", coupling))
        files.combined_html.write_text(combined_html(
            f"{self.drill.metadata.title}: combined report across teams",
            f"{len(parts)} scenarios at once · {self.folder.name}", parts, self.folder, sections=sections,
            tracker=self.tracker.url, discussion=self.drill.debrief), encoding="utf-8")
        data = dr.to_json() | {"executive_updates": exec_checks, "tracker": self.tracker.url,
                               "shared_targets": str(self.shared) if self.shared is not None else None}
        files.full_scale_json.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        self.say(f"\n[bold]Combined report[/]: {files.combined_html} (and .md)")
        for p in parts:
            self.say(f"  {p.team}: {p.name} {p.outcome}, score {p.overall if p.overall is not None else '-'}")
        self.say(("[bold green]" if dr.ok else "[bold red]") + escape(dr.verdict.line) + "[/]")
        return dr

    def coupling_lines(self, parts: list[PartResult]) -> list[str]:
        """Shared targets: per team, the faults it injected, the alerts it saw and the ops actions it took."""
        if self.shared is None:
            return []
        lines = []
        for p, events in _journals(parts):
            faults = [f"{e.data.get('kind')} on {e.data.get('target')}" for e in events if e.kind == "fault.injected"]
            alerts = list(dict.fromkeys(f"{a.get('alertname')} on {a.get('target')}"
                                        for e in events if e.kind == "run.finished"
                                        for a in e.data.get("alerts") or []))
            ops = [str(e.data.get("action")) for e in events if e.kind.startswith("ops.")]
            lines.append(f"{p.team} ({p.name}): faults {', '.join(faults) or 'none'}; alerts seen "
                         f"{', '.join(alerts) or 'none'}; ops {', '.join(ops) or 'none'}")
        return lines

    def executive_checks(self, parts: list[PartResult]) -> list[str]:
        """Per team: were status updates posted at least every ``executive_updates``? On the people's clock
        when people played the part, on the game clock for an automated one (``humantime.executive_every``)."""
        if not self.drill.executive_updates:
            return []
        try:
            cfg = scoring_config(self.drill, self.base)
        except GamedayError:  # a broken scoring policy is reported on each part's debrief; the defaults here
            cfg = default_config()
        lines = []
        for p, events in _journals(parts):
            started = next((e.data for e in events if e.kind == "run.started"), {})
            every, clock = executive_every(self.drill, cfg, people_responded(started.get("responder"))) or (0.0, "")

            def at(e: Event, clock: str = clock) -> float | None:
                return e.wall if clock == "wall" else e.game

            updates = [at(e) for e in events if e.kind == "incident.status_update" and at(e) is not None]
            declared = next((at(e) for e in events if e.kind == "incident.declared" and at(e) is not None), None)
            end = next((at(e) for e in events if e.kind in ("incident.resolved", "load.stopped")
                        and at(e) is not None), None)
            if declared is None:
                lines.append(f"{p.team} ({p.name}): no incident declared, no executive updates expected")
                continue
            marks = [declared, *sorted(u for u in updates if u >= declared), end if end is not None else declared]
            longest = max((b - a for a, b in zip(marks, marks[1:], strict=False)), default=0.0)
            ok = longest <= every
            lines.append(f"{p.team} ({p.name}): {len(updates)} update(s); longest gap {format_duration(longest)} "
                         f"{clock} time ({'ok' if ok else 'too long'}; expected at least every "
                         f"{format_duration(every)} {clock} time)")
        return lines


def _journals(parts: list[PartResult]) -> Iterator[tuple[PartResult, list[Event]]]:
    """Each part with its run's journal events (parts whose run never wrote one are left out)."""
    for p in parts:
        journal = RunDir(p.run_dir).journal
        if journal.exists():
            yield p, read_events(journal)


def run_full_scale(drill: Drill, path: Path | None = None, **kw: Any) -> DrillResult:
    return FullScale(drill, path, **kw).run()
