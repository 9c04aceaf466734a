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

The same object is the tracker's *facilitator hook* (the runner registers it with the run's embedded
tracker, whose ``/facilitator`` page and ``/api/v1/facilitator`` API call it): ``state()`` returns
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

from simulator.errors import Conflict, GamedayError, InputError
from simulator.scenario.durations import format_duration, parse_duration

HELP = "commands: start, pause, resume, next, herring [N], inject KIND TARGET [k=v...], extend DUR, skip, abort, status"
COMMANDS = ("start", "pause", "resume", "next", "herring", "inject", "extend", "skip", "abort", "status")
RUNNING_PHASES = ("ready", "ramp", "baseline", "faults", "watch", "verify")


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


def _fault_state(f: Any) -> str:
    if f.error:
        return "error"
    if f.injected_game is None:
        return "pending"
    return "reverted" if f.reverted_game is not None else "on"


class FacilitatorConsole:
    def __init__(self, echo: Callable[[str], None] | None = None):
        self.echo = echo or (lambda text: None)
        self.runner: Any = None
        self.herrings: list[Any] = []
        self._herring_next = 0
        self._herrings_used: set[int] = set()
        self.label: str | None = None  # e.g. "Quarterly game day — scenario 1/2"
        self.aborted = threading.Event()
        self.lock = threading.RLock()
        self.history: list[tuple[str, str]] = []
        self._stamps: list[float] = []
        self.source = "terminal"  # who gave the command being run: terminal, web, web:<actor>
        self._timers: list[threading.Timer] = []
        self.injected: list[dict[str, Any]] = []  # herrings and ad-hoc faults of the current scenario
        self._commands: dict[str, Callable[..., str]] = {
            "help": lambda: HELP, "start": self.start, "pause": self.pause, "resume": self.resume,
            "next": self.next_fault, "herring": self.herring, "inject": self.inject, "extend": self.extend,
            "skip": self.skip, "abort": self.abort, "status": self.status}

    def attach(self, runner: Any, herrings: list[Any] | None = None, label: str | None = None) -> None:
        with self.lock:
            self.runner = runner
            self.herrings = list(herrings or [])
            self._herring_next = 0
            self._herrings_used = set()
            self.injected = []
            self.label = label
            runner.facilitator = self  # the runner hands it to its embedded tracker (the /facilitator page)

    def detach(self) -> None:
        with self.lock:
            self.runner = None
            for t in self._timers:
                t.cancel()
            self._timers.clear()

    def _log(self, line: str, answer: str) -> None:
        self.history.append((line, answer))
        self._stamps.append(time.time())
        r = self.runner
        if r is not None and getattr(r, "run_dir", None) is not None and Path(r.run_dir).exists():
            with open(Path(r.run_dir) / "console.log", "a", encoding="utf-8") as fh:
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
    def _running(self, *, clock: bool = True) -> Any:
        r = self.runner
        if r is None:
            raise Conflict("no scenario is running")
        if r.phase in ("teardown", "summary"):
            raise Conflict(f"the scenario is ending (phase {r.phase})")
        if clock and not r.clock.started:
            raise Conflict(f"the game clock has not started yet (phase {r.phase}); wait for the load ramp")
        return r

    def start(self) -> str:
        r = self.runner
        if r is None:
            raise Conflict("no scenario is waiting for a start")
        if r.phase != "ready":
            raise Conflict(f"this scenario is not waiting for a start (phase {r.phase}); "
                           "it is held only with the drill's 'start: facilitator'")
        if not r.release(by=self.source):
            raise Conflict("this scenario has already been started")
        return f"started {r.scenario.metadata.name}: the load ramps up and the game clock begins"

    def pause(self) -> str:
        clock = self._running().clock
        if clock.paused:
            raise Conflict(f"the game clock is already paused (at game {format_duration(clock.now())})")
        clock.pause()
        return f"paused at game {format_duration(clock.now())}"

    def resume(self) -> str:
        clock = self._running().clock
        if not clock.paused:
            raise Conflict("the game clock is not paused")
        clock.resume()
        return f"resumed at game {format_duration(clock.now())}"

    def skip(self) -> str:
        self._running(clock=False).stop_requested.set()
        return "ending this scenario (rollback through teardown)"

    def abort(self) -> str:
        self.aborted.set()
        if self.runner is not None:
            self.runner.stop_requested.set()
        return "aborting: the runner reverts every fault and stops the targets"

    def extend(self, duration: str | float) -> str:
        r = self._running(clock=False)
        extra = parse_duration(duration)
        if extra <= 0:
            raise InputError(f"extend: the duration must be more than 0, got {duration!r}")
        r.max_duration += extra
        return f"max duration now {format_duration(r.max_duration)} (game)"

    def status(self) -> str:
        r = self.runner
        if r is None:
            return "no scenario is running"
        faults = ", ".join(f"{f.id}:{'on' if _fault_state(f) == 'on' else _fault_state(f)}" for f in r.faults)
        game = format_duration(r.clock.now() if r.clock.started else 0)
        return f"phase {r.phase}, game {game}{' (paused)' if r.clock.paused else ''}, faults: {faults or '-'}"

    def next_fault(self) -> str:
        r = self._running()
        pending = [f for f in r.faults if f.injected_game is None and f.error is None]
        if not pending:
            raise Conflict("no fault left to inject")
        f = min(pending, key=lambda x: x.spec.at)
        f.spec = f.spec.model_copy(update={"at": r.clock.now()})
        return f"injecting {f.id} ({f.spec.kind} → {f.spec.target}) now"

    def herring(self, n: int | None = None) -> str:
        self._running()
        if not self.herrings:
            raise Conflict("this scenario has no red herrings in the drill")
        index = n - 1 if n is not None else self._herring_next
        if not 0 <= index < len(self.herrings):
            if n is None:
                raise Conflict(f"every red herring ({len(self.herrings)}) has been injected; 'herring N' repeats one")
            raise InputError(f"herring {n}: this scenario has red herrings 1 to {len(self.herrings)}")
        h = self.herrings[index]
        answer = self._inject(h.kind, h.target, h.params, h.duration, note=h.note, prefix="herring")
        self._herring_next = index + 1
        self._herrings_used.add(index)
        return answer

    def inject(self, kind: str, target: str, params: dict[str, Any] | None = None) -> str:
        self._running()
        return self._inject(kind, target, dict(params or {}), None, note="facilitator", prefix="console")

    def _inject(self, kind: str, target: str, params: dict[str, Any], duration: float | None, note: str,
                prefix: str) -> str:
        r = self.runner
        if r.engine is None:
            raise Conflict("the targets are not up yet")
        fault_id = f"{prefix}-{len(self.history) + 1}"
        r.engine.inject(kind, target, params, fault_id=fault_id, note=note)
        self.injected.append({"id": fault_id, "kind": kind, "target": target, "note": note,
                              "at_text": format_duration(r.clock.now()),
                              "until": format_duration(duration) if duration else "the end"})
        if duration:
            timer = threading.Timer(duration / r.time_scale, self._revert, args=(r, fault_id))
            timer.daemon = True
            timer.start()
            self._timers.append(timer)
        return f"injected {fault_id}: {kind} → {target} {params or ''}" + (
            f" for {format_duration(duration)}" if duration else " (reverted at the end)")

    def _revert(self, runner: Any, fault_id: str) -> None:
        try:
            if runner.engine is not None:
                runner.engine.revert(fault_id, by="duration")
        except GamedayError:
            pass

    # ------------------------------------------------------------------ what the facilitator page shows
    def state(self) -> dict[str, Any]:
        with self.lock:
            r = self.runner
            history = [{"at": at, "command": line, "answer": answer}
                       for (line, answer), at in zip(self.history[-12:], self._stamps[-12:], strict=False)]
            base: dict[str, Any] = {"label": self.label, "aborted": self.aborted.is_set(), "running": r is not None,
                                    "history": list(reversed(history))}
            if r is None:
                return {**base, "phase": None, "possible": {c: c in ("abort", "status") for c in COMMANDS}}
            clock = r.clock
            game = clock.now() if clock.started else 0.0
            faults = [{"id": f.id, "kind": f.spec.kind, "target": f.spec.target, "source": f.source,
                       "at": f.spec.at, "at_text": format_duration(f.spec.at), "state": _fault_state(f),
                       "injected_text": None if f.injected_game is None else format_duration(f.injected_game),
                       "error": f.error} for f in r.faults]
            herrings = [{"n": i + 1, "kind": h.kind, "target": h.target, "params": h.params, "note": h.note,
                         "duration_text": format_duration(h.duration) if h.duration else "until the end",
                         "injected": i in self._herrings_used} for i, h in enumerate(self.herrings)]
            live = r.phase in RUNNING_PHASES and not r.stop_requested.is_set()
            waiting = r.phase == "ready" and not r.started.is_set() and not r.stop_requested.is_set()
            started = live and clock.started
            pending = [f for f in faults if f["state"] == "pending"]
            return {**base, "scenario": r.scenario.metadata.name, "title": r.scenario.metadata.title,
                    "run_id": r.run_id, "run_dir": str(r.run_dir), "phase": r.phase,
                    "stopping": r.stop_requested.is_set(), "game": round(game, 1),
                    "game_text": format_duration(game) if clock.started else "not started",
                    "paused": clock.paused, "time_scale": r.time_scale, "max_duration": r.max_duration,
                    "max_duration_text": format_duration(r.max_duration),
                    "remaining_text": format_duration(max(0.0, r.max_duration - game)),
                    "faults": faults, "faults_injected": sum(f["state"] != "pending" for f in faults),
                    "faults_pending": len(pending), "herrings": herrings, "console_faults": list(self.injected),
                    "herrings_remaining": sum(not h["injected"] for h in herrings),
                    "possible": {"pause": started and not clock.paused, "resume": started and clock.paused,
                                 "next": started and bool(pending), "herring": started and bool(herrings),
                                 "inject": started, "extend": live, "skip": live, "abort": True, "status": True,
                                 "start": waiting},
                    "waiting": waiting}


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
