"""The facilitator console: steer a running scenario of a game day from the terminal or the tracker.

Commands (one per line, on stdin or from a ``--commands`` file as ``+SECONDS COMMAND``, the
seconds being wall time since the runner first looked at the plan: its first fault-phase step, or
the start of the ``ready`` wait when the scenario is held for ``start``):

    start                    start a scenario held for the facilitator (drill 'start: facilitator'):
                             its targets and tracker are up; the load and the game clock begin now
    pause | resume           freeze / restart the game clock (load keeps running)
    next                     inject the next scheduled fault now
    herring [N]              inject red herring N (default: the next one) from the drill now
    inject KIND TARGET [k=v ...]   any fault now (e.g. inject proxy.latency payments latency=200)
    extend DURATION          add game time to the max duration (e.g. extend 10m)
    skip                     end this scenario now (rollback guaranteed by the runner's teardown)
    abort                    end this scenario and the whole drill (rollback guaranteed)
    status                   phase, game clock, faults
Every command and its answer is appended to ``console.log`` in the run folder.

The console steers the scenario only through its ``RunControl`` (``simulator.run.control``). The same
object is the tracker's *facilitator hook* (the drill registers it with its tracker, a lone run with its
embedded one; their ``/facilitator`` page and ``/api/v1/facilitator`` API call it): ``state()`` returns
what the page shows and ``command(name, **args)`` runs one command through the very functions the
terminal lines use. ``command`` raises ``NotFound``/``Conflict``/``InputError`` (HTTP 404/409/422)
where the terminal prints ``error: ...``.
"""

from __future__ import annotations

import inspect
import shlex
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simulator.durations import format_duration, parse_duration
from simulator.errors import Conflict, GamedayError, InputError
from simulator.run.control import RunControl
from simulator.rundir import RunDir

HELP = "commands: start, pause, resume, next, herring [N], inject KIND TARGET [k=v...], extend DUR, skip, abort, status"
COMMANDS = ("start", "pause", "resume", "next", "herring", "inject", "extend", "skip", "abort", "status")


def parse_line(line: str) -> tuple[str, dict[str, Any]]:
    """``'herring 2'`` -> ``('herring', {'n': 2})``: a terminal line as a command and its arguments."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise InputError(f"cannot read {line!r}: {exc}") from None
    cmd, args = words[0].lower(), words[1:]
    if cmd in ("help", "?"):
        return "help", {}
    if cmd == "herring":
        if args and not args[0].isdigit():
            raise InputError(f"herring N: N is a number, got {args[0]!r}")
        return cmd, {"n": int(args[0])} if args else {}
    if cmd == "inject":
        if len(args) < 2 or not all("=" in a for a in args[2:]):
            raise InputError("usage: inject KIND TARGET [key=value ...]")
        return cmd, {"kind": args[0], "target": args[1], "params": dict(a.split("=", 1) for a in args[2:])}
    if cmd == "extend":
        if len(args) != 1:
            raise InputError("usage: extend DURATION (e.g. extend 10m)")
        return cmd, {"duration": args[0]}
    return cmd, {}


class FacilitatorConsole:
    def __init__(self, echo: Callable[[str], None] | None = None):
        self.echo = echo or (lambda text: None)
        self.control: RunControl | None = None
        self.herrings: list[Any] = []
        self._herring_next = 0
        self._herrings_used: set[int] = set()
        self.label: str | None = None  # e.g. "Quarterly game day — scenario 1/2"
        self.aborted = threading.Event()
        self.lock = threading.RLock()
        self.history: list[tuple[str, str]] = []
        self._stamps: list[float] = []
        self.source = "terminal"  # who gave the command being run: terminal, web, web:<actor>
        self.injected: list[dict[str, Any]] = []  # herrings and ad-hoc faults of the current scenario
        self._commands: dict[str, Callable[..., str]] = {
            "help": lambda: HELP, "start": self.start, "pause": self.pause, "resume": self.resume,
            "next": self.next_fault, "herring": self.herring, "inject": self.inject, "extend": self.extend,
            "skip": self.skip, "abort": self.abort, "status": self.status}

    def attach(self, control: RunControl, herrings: list[Any] | None = None, label: str | None = None) -> None:
        with self.lock:
            self.control = control
            self.herrings = list(herrings or [])
            self._herring_next = 0
            self._herrings_used = set()
            self.injected = []
            self.label = label

    def detach(self) -> None:
        with self.lock:
            self.control = None

    def _log(self, line: str, answer: str) -> None:
        self.history.append((line, answer))
        self._stamps.append(time.time())
        c = self.control
        if c is not None and Path(c.run_dir).exists():
            with open(RunDir(c.run_dir).console_log, "a", encoding="utf-8") as fh:
                fh.write(f"{time.strftime('%H:%M:%S')} > {line}\n  {answer}\n")

    # ------------------------------------------------------------------ entry points
    def handle(self, line: str) -> str:
        """A terminal line: the answer (``error: ...`` when it could not be done)."""
        line = line.strip()
        if not line:
            return ""
        try:
            name, args = parse_line(line)
        except GamedayError as exc:
            answer = f"error: {exc}"
            with self.lock:
                self._log(line, answer)
        else:
            try:
                answer = self._run(name, args, line, source="terminal")
            except GamedayError as exc:
                answer = f"error: {exc}"
        self.echo(answer)
        return answer

    def command(self, name: str, source: str = "web", **args: Any) -> dict[str, Any]:
        """The tracker's entry (``POST /api/v1/facilitator/commands``): the answer and the new state."""
        args = {k: v for k, v in args.items() if v is not None}
        line = " ".join([name, *(f"{k}={v}" for k, v in args.items())]) + f"  [{source}]"
        message = self._run(name, args, line, source=source)
        self.echo(f"{message}  [{source}]")
        return {"command": name, "message": message, "state": self.state()}

    def _run(self, name: str, args: dict[str, Any], line: str, source: str = "terminal") -> str:
        """Run one command under the lock; log it and its answer (or its error) to ``console.log``."""
        with self.lock:
            self.source = source
            try:
                fn = self._commands.get(name)
                if fn is None:
                    raise InputError(f"unknown command {name!r}; {HELP}")
                try:
                    inspect.signature(fn).bind(**args)
                except TypeError as exc:
                    raise InputError(f"{name}: {exc}") from None
                try:
                    answer = fn(**args)
                except (ValueError, IndexError, KeyError) as exc:
                    raise InputError(f"{name}: {exc}") from None
            except GamedayError as exc:
                self._log(line, f"error: {exc}")
                raise
            self._log(line, answer)
        return answer

    # ------------------------------------------------------------------ the commands (terminal and web)
    def _control(self, waiting: str = "no scenario is running") -> RunControl:
        if self.control is None:
            raise Conflict(waiting)
        return self.control

    def start(self) -> str:
        c = self._control("no scenario is waiting for a start")
        c.start(by=self.source)
        return f"started {c.scenario_name}: the load ramps up and the game clock begins"

    def pause(self) -> str:
        return f"paused at game {format_duration(self._control().pause())}"

    def resume(self) -> str:
        return f"resumed at game {format_duration(self._control().resume())}"

    def skip(self) -> str:
        self._control().end()
        return "ending this scenario (rollback through teardown)"

    def abort(self) -> str:
        self.aborted.set()
        if self.control is not None:
            self.control.stop()
        return "aborting: the runner reverts every fault and stops the targets"

    def extend(self, duration: str | float) -> str:
        c = self._control()
        extra = parse_duration(duration)
        if extra <= 0:
            raise InputError(f"extend: the duration must be more than 0, got {duration!r}")
        return f"max duration now {format_duration(c.extend(extra))} (game)"

    def status(self) -> str:
        c = self.control
        if c is None:
            return "no scenario is running"
        faults = ", ".join(f"{f.id}:{f.state}" for f in c.faults)
        return (f"phase {c.phase}, game {format_duration(c.game_now())}{' (paused)' if c.paused else ''}, "
                f"faults: {faults or '-'}")

    def next_fault(self) -> str:
        f = self._control().inject_next()
        return f"injecting {f.id} ({f.spec.kind} → {f.spec.target}) now"

    def herring(self, n: int | None = None) -> str:
        c = self._control()
        if not self.herrings:
            raise Conflict("this scenario has no red herrings in the drill")
        index = n - 1 if n is not None else self._herring_next
        if not 0 <= index < len(self.herrings):
            if n is None:
                raise Conflict(f"every red herring ({len(self.herrings)}) has been injected; 'herring N' repeats one")
            raise InputError(f"herring {n}: this scenario has red herrings 1 to {len(self.herrings)}")
        h = self.herrings[index]
        answer = self._inject(c, h.kind, h.target, h.params, h.duration, note=h.note, prefix="herring")
        self._herring_next = index + 1
        self._herrings_used.add(index)
        return answer

    def inject(self, kind: str, target: str, params: dict[str, Any] | None = None) -> str:
        return self._inject(self._control(), kind, target, dict(params or {}), None, note="facilitator",
                            prefix="console")

    def _inject(self, c: RunControl, kind: str, target: str, params: dict[str, Any], duration: float | None,
                note: str, prefix: str) -> str:
        fault = c.inject(f"{prefix}-{len(self.history) + 1}", kind, target, params, duration, note=note,
                         source=prefix)
        self.injected.append({"id": fault.id, "kind": kind, "target": target, "note": note,
                              "at_text": format_duration(fault.injected_game or 0.0),
                              "until": format_duration(duration) if duration else "the end"})
        return f"injected {fault.id}: {kind} → {target} {params or ''}" + (
            f" for {format_duration(duration)} of game time" if duration else " (reverted at the end)")

    # ------------------------------------------------------------------ what the facilitator page shows
    def state(self) -> dict[str, Any]:
        with self.lock:
            c = self.control
            history = [{"at": at, "command": line, "answer": answer}
                       for (line, answer), at in zip(self.history[-12:], self._stamps[-12:], strict=False)]
            base: dict[str, Any] = {"label": self.label, "aborted": self.aborted.is_set(), "running": c is not None,
                                    "history": list(reversed(history))}
            if c is None:
                return {**base, "phase": None, "possible": {c: c in ("abort", "status") for c in COMMANDS}}
            game = c.game_now()
            faults = [{"id": f.id, "kind": f.spec.kind, "target": f.spec.target, "source": f.source,
                       "at": f.spec.at, "at_text": format_duration(f.spec.at), "state": f.state,
                       "injected_text": None if f.injected_game is None else format_duration(f.injected_game),
                       "error": f.error} for f in c.faults]
            herrings = [{"n": i + 1, "kind": h.kind, "target": h.target, "params": h.params, "note": h.note,
                         "duration_text": format_duration(h.duration) if h.duration else "until the end",
                         "injected": i in self._herrings_used} for i, h in enumerate(self.herrings)]
            states = {f.id: f.state for f in c.extras}
            console_faults = [{**x, "state": states.get(x["id"], "on")} for x in self.injected]
            live = c.live
            started = live and c.clock_started
            pending = [f for f in faults if f["state"] == "pending"]
            return {**base, "scenario": c.scenario_name, "title": c.scenario_title,
                    "run_id": c.run_id, "run_dir": str(c.run_dir), "phase": c.phase,
                    "stopping": c.stopping, "game": round(game, 1),
                    "game_text": format_duration(game) if c.clock_started else "not started",
                    "paused": c.paused, "time_scale": c.time_scale, "max_duration": c.max_duration,
                    "max_duration_text": format_duration(c.max_duration),
                    "remaining_text": format_duration(max(0.0, c.max_duration - game)),
                    "faults": faults, "faults_injected": sum(f["state"] != "pending" for f in faults),
                    "faults_pending": len(pending), "herrings": herrings, "console_faults": console_faults,
                    "herrings_remaining": sum(not h["injected"] for h in herrings),
                    "possible": {"pause": started and not c.paused, "resume": started and c.paused,
                                 "next": started and bool(pending), "herring": started and bool(herrings),
                                 "inject": started, "extend": live, "skip": live, "abort": True, "status": True,
                                 "start": c.waiting},
                    "waiting": c.waiting}


def read_stdin(console: FacilitatorConsole, stream: Any) -> threading.Thread:
    """A daemon thread feeding lines from ``stream`` (stdin) to the console."""

    def loop() -> None:
        for line in stream:
            console.handle(line)
            if console.aborted.is_set():
                return

    t = threading.Thread(target=loop, name="facilitator-console", daemon=True)
    t.start()
    return t


def scripted(console: FacilitatorConsole, lines: list[str]) -> Callable[[Any], None]:
    """A runner hook that plays ``+SECONDS COMMAND`` lines (wall time since the hook first ran)."""
    plan: list[tuple[float, str]] = []
    for raw in lines:
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        at, _, cmd = raw.partition(" ")
        plan.append((float(at.lstrip("+").rstrip("s")), cmd.strip()))
    plan.sort()
    state: dict[str, float] = {}

    def hook(_runner: Any) -> None:
        start = state.setdefault("start", time.monotonic())
        while plan and time.monotonic() - start >= plan[0][0]:
            console.handle(plan.pop(0)[1])

    return hook
