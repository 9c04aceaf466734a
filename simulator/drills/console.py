"""The facilitator console: steer a running scenario of a game day from the terminal.

Commands (one per line, on stdin or from a ``--commands`` file as ``+SECONDS COMMAND``, the
seconds being wall time since the scenario's load started):

    pause | resume           freeze / restart the game clock (load keeps running)
    next                     inject the next scheduled fault now
    herring [N]              inject red herring N (default: the next one) from the drill now
    inject KIND TARGET [k=v ...]   any fault now (e.g. inject proxy.latency payments latency=200)
    extend DURATION          add game time to the max duration (e.g. extend 10m)
    skip                     end this scenario now (rollback guaranteed by the runner's teardown)
    abort                    end this scenario and the whole drill (rollback guaranteed)
    status                   phase, game clock, faults
Every command and its answer is appended to ``console.log`` in the run folder.
"""

from __future__ import annotations

import shlex
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simulator.errors import GamedayError
from simulator.scenario.durations import format_duration, parse_duration

HELP = "commands: pause, resume, next, herring [N], inject KIND TARGET [k=v...], extend DUR, skip, abort, status"


class FacilitatorConsole:
    def __init__(self, echo: Callable[[str], None] | None = None):
        self.echo = echo or (lambda text: None)
        self.runner: Any = None
        self.herrings: list[Any] = []
        self._herring_next = 0
        self.aborted = threading.Event()
        self.lock = threading.Lock()
        self.history: list[tuple[str, str]] = []
        self._timers: list[threading.Timer] = []

    def attach(self, runner: Any, herrings: list[Any] | None = None) -> None:
        with self.lock:
            self.runner = runner
            self.herrings = list(herrings or [])
            self._herring_next = 0

    def detach(self) -> None:
        with self.lock:
            self.runner = None
            for t in self._timers:
                t.cancel()
            self._timers.clear()

    def _log(self, line: str, answer: str) -> None:
        self.history.append((line, answer))
        r = self.runner
        if r is not None and getattr(r, "run_dir", None) is not None and Path(r.run_dir).exists():
            with open(Path(r.run_dir) / "console.log", "a", encoding="utf-8") as fh:
                fh.write(f"{time.strftime('%H:%M:%S')} > {line}\n  {answer}\n")

    def handle(self, line: str) -> str:
        line = line.strip()
        if not line:
            return ""
        with self.lock:
            try:
                answer = self._do(line)
            except (GamedayError, ValueError, KeyError, IndexError) as exc:
                answer = f"error: {exc}"
            self._log(line, answer)
        self.echo(answer)
        return answer

    def _do(self, line: str) -> str:
        words = shlex.split(line)
        cmd, args = words[0].lower(), words[1:]
        if cmd in ("help", "?"):
            return HELP
        r = self.runner
        if cmd == "abort":
            self.aborted.set()
            if r is not None:
                r.stop_requested.set()
            return "aborting: the runner reverts every fault and stops the targets"
        if r is None:
            return "no scenario is running"
        clock = r.clock
        if cmd == "pause":
            clock.pause()
            return f"paused at game {format_duration(clock.now())}"
        if cmd == "resume":
            clock.resume()
            return f"resumed at game {format_duration(clock.now())}"
        if cmd == "skip":
            r.stop_requested.set()
            return "ending this scenario (rollback through teardown)"
        if cmd == "extend":
            extra = parse_duration(args[0])
            r.max_duration += extra
            return f"max duration now {format_duration(r.max_duration)} (game)"
        if cmd == "status":
            faults = ", ".join(
                f"{f.id}:{'pending' if f.injected_game is None else 'reverted' if f.reverted_game else 'on'}"
                for f in r.faults)
            game = format_duration(clock.now() if clock.started else 0)
            return f"phase {r.phase}, game {game}, faults: {faults or '-'}"
        if cmd == "next":
            pending = [f for f in r.faults if f.injected_game is None and f.error is None]
            if not pending:
                return "no fault left to inject"
            f = min(pending, key=lambda x: x.spec.at)
            f.spec = f.spec.model_copy(update={"at": clock.now()})
            return f"injecting {f.id} ({f.spec.kind} → {f.spec.target}) now"
        if cmd == "herring":
            if not self.herrings:
                return "this scenario has no red herrings in the drill"
            index = int(args[0]) - 1 if args else self._herring_next
            h = self.herrings[index]
            self._herring_next = index + 1
            return self._inject(h.kind, h.target, h.params, h.duration, note=h.note, prefix="herring")
        if cmd == "inject":
            params = dict(a.split("=", 1) for a in args[2:])
            return self._inject(args[0], args[1], params, None, note="facilitator", prefix="console")
        return f"unknown command {cmd!r}; {HELP}"

    def _inject(self, kind: str, target: str, params: dict[str, Any], duration: float | None, note: str,
                prefix: str) -> str:
        r = self.runner
        if r.engine is None:
            return "the targets are not up yet"
        fault_id = f"{prefix}-{len(self.history) + 1}"
        r.engine.inject(kind, target, params, fault_id=fault_id, note=note)
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
