"""The run journal: an append-only JSONL file, the single record of a run.

One event per line: ``{"seq", "wall", "game", "kind", "data": {...payload}}``. ``wall`` is Unix time
(seconds, float), ``game`` is game-clock seconds since the run started (``None`` for events
outside a running clock, e.g. a ``gameday cleanup`` afterwards). Each line is flushed as it is
written, so a killed run leaves a readable journal; a torn last line is skipped on read.

``seq`` counts the lines one writer wrote; several processes may append to one journal (the runner,
the target supervisor, a ``gameday ops`` from another shell), so order events by ``wall``.

Event kinds are dotted names shared by every part of the product. ``EVENT_KINDS`` below is the
one place the vocabulary is documented; ``docs/journal.md`` is generated from it
(``gameday schema journal``). Writers may only use kinds listed here (tests enforce it).
"""

from __future__ import annotations

import json
import os
import stat
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from simulator.bounded import DamagedFile, finite, parse_json

EVENT_KINDS: dict[str, str] = {
    # run lifecycle
    "run.started": "A run began: scenario name and file, its variant (before/after), seed, time scale, backend, "
                   "responder.",
    "run.aborted": "A run stopped early: reason (max duration, impact limit, signal, error, baseline).",
    "run.finished": "A run ended (after teardown): outcome and summary figures.",
    "phase.changed": "The runner entered a phase: targets_up, ready (held for the facilitator's start), ramp, "
    "baseline, faults, watch, verify, teardown, summary.",
    "run.released": "A held run (game day 'start: facilitator') was started: by whom (terminal, web page), "
    "after how many wall seconds of waiting.",
    # targets
    "target.started": "A target is up and healthy: name, app (`command` for your own service's command, `image` for "
                      "its container), url, pid or container id; on the Docker backend the image it runs; a standby "
                      "instance (`payments.standby`) also `standby_of`.",
    "target.stopped": "A target was stopped by the backend.",
    "target.restarted": "A target was restarted (by policy after a crash/OOM, or by an ops action; reason "
                        "`release V`: your own service switched to release V, not counted toward `max_restarts`; "
                        "`recreated: true` with the `image`: a new container, as after a release switch on the Docker "
                        "backend).",
    "target.crashed": "A target exited unexpectedly: exit code or signal, OOM-killed or not.",
    "targets.shared": "The run uses targets another folder started (full-scale shared_targets): folder, "
    "run_id, targets; it neither starts nor stops them.",
    # faults
    "fault.scheduled": "A fault from the timeline is due: id, kind, target, params.",
    "fault.injected": "A fault took effect: id, kind, target, params, effective_at (wall).",
    "fault.reverted": "A fault was reverted: id, how (end, ops, cleanup, duration elapsed).",
    "fault.failed": "A fault could not be applied or reverted: id, error.",
    "escalation.triggered": "An escalation fired because the fault was still unmitigated (its time came, or its "
    "OOM kills did: oom_kills counts those of the run's targets so far).",
    # load and metrics
    "load.started": "The load generator is running: users, spawn rate, workers, locust pid.",
    "load.stopped": "The load generator stopped.",
    "sample": "One interval's merged metrics: load stats, scraped gauges, process stats, per target.",
    "baseline.captured": "Steady-state baseline figures used by trend rules and probes (captured false: the "
                         "scenario's monitoring keeps no baseline).",
    "probe.checked": "A steady-state probe was evaluated: name, value, ok.",
    "baseline.unsettled": "The steady state did not hold at the end of the baseline: the failing probes, and "
    "how long it is re-checked for (timing.baseline_settle, game; settle_wall) before the run fails.",
    "baseline.settled": "An unsteady baseline came to hold: waited_game; every pending fault moved that much later.",
    # alerts
    "alert.pending": "An alert rule's condition became true; waiting out its 'for' duration.",
    "alert.firing": "An alert rule fired: name, labels, annotations, value.",
    "alert.resolved": "A firing alert's condition cleared.",
    "alert.delivered": "An alert notification was delivered to a receiver (or failed after retries).",
    "alert.embedded": "The embedded engine's own verdict on the prometheus plane (a shadow, not delivered): state, "
                      "alertname, target, at.",
    "monitor.plane": "Where the alert rules are evaluated, at the start: plane (prometheus), prometheus_url, "
                     "alertmanager_url, and every alerting rule loaded (name, group, file, origin: scenario = the "
                     "scenario's own rules exported, user = the team's rule files); alert coverage and "
                     "rule_fires_within read it.",
    # tracker
    "incident.triggered": "The tracker opened an incident from an alert.",
    "incident.acknowledged": "Someone acknowledged the incident.",
    "incident.declared": "The incident was declared (investigating), with a severity.",
    "incident.severity_changed": "The incident's severity changed.",
    "incident.role_assigned": "A role (IC, tech lead, comms lead, scribe) was assigned.",
    "incident.status_update": "A status update was posted (template fields; audience internal or external).",
    "incident.checklist": "An investigation checklist item was ticked.",
    "incident.note": "A timeline note, hypothesis or decision.",
    "incident.customer_message": "A message to customers (status page, email or support): channel, text, to; "
    "customer communication as a deliberate act (an external status update is the other).",
    "incident.mitigated": "The incident was marked mitigated.",
    "incident.resolved": "The incident was marked resolved.",
    "incident.closed": "The incident was closed.",
    "incident.reopened": "A resolved or closed incident was reopened.",
    "incident.paged": "Someone on call was paged: person, tier (primary on a new incident; secondary when the "
    "primary did not acknowledge within the window), reason, channel, window and its basis, the game time.",
    "postmortem.updated": "The post-mortem was edited.",
    # ops console (mitigation levers)
    # every ops.* event also carries started_wall: when the action began (the event is written when it finished)
    "ops.rollback": "Ops: roll back a release or config.",
    "ops.deploy": "Ops: deploy a release version.",
    "ops.flag": "Ops: set a feature flag.",
    "ops.config": "Ops: change runtime configuration.",
    "ops.restart": "Ops: restart a target.",
    "ops.scale": "Ops: add resources (pool size, workers, memory limit).",
    "ops.failover": "Ops: send a target's traffic to its standby instance (`failover:payments`), or back to the "
    "primary (`failover:payments=primary`); the summary says how many links were switched.",
    "ops.kill": "Ops: kill a process the run started on a target's host (pid); action says what it was: "
    "kill:<target>.runaway (started beside the targets) or kill:<target>.service (the target's own process).",
    "ops.escalate": "Ops: escalate to the team owning a target (team, fixes_after: game seconds until their fix).",
    "owner.fixed": "The owning team's fix landed, fixes_after (game time) after the escalation: team, target, the "
    "faults it reverted (in effect on the target or a link into it when they were paged; none: nothing to fix).",
    # verification
    "steady_state.lost": "The steady state no longer holds (a probe failed) after a fault.",
    "steady_state.restored": "All steady-state probes hold again.",
    "check.result": "A CI resilience check was evaluated: name, ok, detail.",
    "cleanup.done": "gameday cleanup reverted leftovers: faults, processes, containers.",
}


def _check_kind(kind: str) -> None:
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown journal event kind {kind!r}; add it to simulator.journal.EVENT_KINDS")


@dataclass
class Event:
    seq: int
    wall: float
    game: float | None
    kind: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        record = {"seq": self.seq, "wall": round(self.wall, 6), "game": self.game, "kind": self.kind,
                  "data": self.data}
        return json.dumps(record, separators=(",", ":"), default=str)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Event:
        return cls(record["seq"], record["wall"], record.get("game"), record["kind"], record.get("data") or {})


class Journal:
    """Appends events to ``path``; thread-safe; every line flushed as written.

    ``game_time`` is a zero-argument callable giving the current game time (usually
    ``GameClock.now``), or ``None`` when no clock runs.
    """

    def __init__(self, path: str | os.PathLike[str], game_time=None, fsync: bool = False):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._game_time = game_time
        self._fsync = fsync
        self._lock = threading.Lock()
        self._seq = _last_seq(self.path)
        # O_APPEND and one write() per line: several processes (the runner, the target supervisor)
        # may append to the same journal without tearing each other's lines.
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def set_clock(self, game_time) -> None:
        self._game_time = game_time

    def game_now(self) -> float | None:
        """The game time now (None when no clock runs): what the tracker measures a run's pages on."""
        return self._game_time() if self._game_time else None

    def write(self, kind: str, /, **data: Any) -> Event:
        _check_kind(kind)
        with self._lock:
            self._seq += 1
            game = self._game_time() if self._game_time else None
            event = Event(self._seq, time.time(), None if game is None else round(game, 6), kind, data)
            os.write(self._fd, (event.to_json() + "\n").encode("utf-8"))
            if self._fsync:
                os.fsync(self._fd)
            return event

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _last_seq(path: Path) -> int:
    last = 0
    if path.exists():
        for event in iter_events(path):
            last = event.seq
    return last


#: policy: the longest journal line read; a longer one is skipped (a sample of many targets is < 64 KiB)
MAX_LINE_BYTES = 4 << 20
_warned: set[tuple[str, str]] = set()


def _event(line: bytes) -> Event:
    """One journal line -> an Event; ``ValueError`` naming what is wrong with it."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8") from None
    record = parse_json(text, "line")
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    seq, wall, game, kind, data = (record.get(k) for k in ("seq", "wall", "game", "kind", "data"))
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ValueError(f"seq: expected a whole number, got {seq!r:.40}")
    if not finite(wall):
        raise ValueError(f"wall: expected a finite number of seconds, got {wall!r:.40}")
    if game is not None and not finite(game):
        raise ValueError(f"game: expected a finite number of seconds or null, got {game!r:.40}")
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"kind: expected an event kind, got {kind!r:.40}")
    if data is not None and not isinstance(data, dict):
        raise ValueError(f"data: expected a JSON object, got {type(data).__name__}")
    return Event(seq, float(wall), None if game is None else float(game), kind, data or {})


def _lines(fh: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) for each line; None for a line longer than ``MAX_LINE_BYTES`` (read past in
    bounded chunks, never held)."""
    number = 0
    while True:
        line = fh.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = fh.readline(1 << 20)
            yield number, None
            continue
        yield number, line


def iter_events(path: str | os.PathLike[str]) -> Iterator[Event]:
    """Read a journal. A torn last line (a killed writer) is skipped silently; any other damaged line (bad
    JSON, wrong types, NaN times, nested too deeply, too long) is skipped with one warning on stderr per
    journal: the rest of the record is still the run's truth, and scoring says what it lacks. A journal
    that is not a regular file (a device, a FIFO) is refused (``DamagedFile``, exit 2)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise DamagedFile(f"{path}: not a regular file (a device, FIFO or socket); expected a journal")
    skipped: list[str] = []
    with os.fdopen(fd, "rb") as fh:
        for number, line in _lines(fh):
            if line is None:
                skipped.append(f"line {number}: longer than {MAX_LINE_BYTES >> 20} MiB (policy MAX_LINE_BYTES)")
                continue
            if not line.strip():
                continue
            try:
                yield _event(line)
            except ValueError as exc:
                if line.endswith(b"\n"):  # a torn last line has no newline: expected after a kill
                    skipped.append(f"line {number}: {' '.join(str(exc).removeprefix('line: ').split())}")
    if skipped:
        _warn(path, skipped)


def _warn(path: str | os.PathLike[str], skipped: list[str]) -> None:
    key = (str(path), skipped[0])  # once per journal and first damage, however often a growing journal is read
    if key in _warned:
        return
    _warned.add(key)
    more = f" (and {len(skipped) - 1} more)" if len(skipped) > 1 else ""
    print(f"warning: {path}: skipped {len(skipped)} damaged line(s): {skipped[0][:200]}{more}", file=sys.stderr)


def read_events(path: str | os.PathLike[str], kind: str | None = None) -> list[Event]:
    events = list(iter_events(path))
    if kind is None:
        return events
    if kind.endswith("."):
        return [e for e in events if e.kind.startswith(kind)]
    return [e for e in events if e.kind == kind]


def vocabulary_markdown() -> str:
    lines = ["# Journal event kinds", "", "Generated from `simulator/journal.py` (`EVENT_KINDS`).", "",
             "| kind | meaning |", "|---|---|"]
    lines += [f"| `{k}` | {v} |" for k, v in EVENT_KINDS.items()]
    return "\n".join(lines) + "\n"
