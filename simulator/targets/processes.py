"""The processes a run started on its targets' host: what ``top`` shows the team, and what a team may kill.

Two kinds, nothing else: the targets' own processes (``targets.json``: pid and start time) and the processes
the run started beside them (a fault's resource hogs, found by the run's marker in their command line,
``hog_marker``). ``processes`` lists both as ``top`` would (pid, command name, CPU %, resident memory, CPU
time), naming a target's own process by its target (``gameday targets status`` shows those pids anyway) and
nothing more: which stranger is the runaway is for the team to see. ``kill`` refuses any pid that is not one
of them, with one line; a process is always named by pid *and* start time (``procs.same_process``).
"""

from __future__ import annotations

import contextlib
import signal
import time
from dataclasses import asdict, dataclass

import psutil

from simulator.errors import SafetyViolation
from simulator.procs import same_process, start_time
from simulator.targets.view import TargetsView

HOG_MARK = "gameday-hog"
#: policy: how long ``processes`` watches CPU time to say a CPU % (``top`` refreshes every 3 s; this is shorter)
CPU_SAMPLE_SECONDS = 0.5


def hog_marker(run_id: str, fault_id: str) -> str:
    """The marker a process started beside a run's targets carries in its command line."""
    return f"{HOG_MARK}:{run_id}:{fault_id}"


@dataclass(frozen=True)
class ProcessRow:
    pid: int
    create_time: float  # when it started, seconds since the epoch (as ps shows it; not an identity)
    command: str  # the command name, as top shows it
    cpu_percent: float
    rss: int  # bytes
    cpu_seconds: float  # user + system CPU time so far (top's TIME+)
    target: str | None  # the target this is the service process of; None: another process the run started

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def started_beside(run_id: str) -> list[psutil.Process]:
    """The live processes the run started beside its targets (a fault's hogs)."""
    mark = f"{HOG_MARK}:{run_id}:"
    found = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        cmd = p.info.get("cmdline") or []
        if any(part.startswith(mark) for part in cmd) and "simulator.faults.hog" in cmd:
            proc = None
            with contextlib.suppress(psutil.Error):  # gone meanwhile
                proc = same_process(p.info["pid"], start_time(p.info["pid"]))
            if proc is not None:
                found.append(proc)
    return found


def _ours(view: TargetsView) -> list[tuple[psutil.Process, str | None]]:
    procs: list[tuple[psutil.Process, str | None]] = []
    for t in view.refresh().targets():
        proc = same_process(t.pid, t.create_time)
        if proc is not None:
            procs.append((proc, t.name))
    return procs + [(p, None) for p in started_beside(view.run_id)]


def processes(view: TargetsView, sample: float = CPU_SAMPLE_SECONDS) -> list[ProcessRow]:
    """Every process of the run on its targets' host, busiest first (CPU % over ``sample`` seconds)."""
    procs = _ours(view)
    for proc, _ in procs:
        with contextlib.suppress(psutil.Error):
            proc.cpu_percent(None)
    time.sleep(sample)
    rows = []
    for proc, target in procs:
        try:
            with proc.oneshot():
                times = proc.cpu_times()
                rows.append(ProcessRow(proc.pid, proc.create_time(), proc.name(), round(proc.cpu_percent(None), 1),
                                       proc.memory_info().rss, round(times.user + times.system, 2), target))
        except psutil.Error:
            continue  # gone meanwhile
    return sorted(rows, key=lambda r: (-r.cpu_percent, r.pid))


@dataclass(frozen=True)
class Killed:
    pid: int
    command: str
    rss: int
    cpu_seconds: float
    what: str  # "runaway" (a process the run started beside its targets) or "service" (the target's own)


def kill(view: TargetsView, target: str, pid: int) -> Killed:
    """SIGKILL process ``pid`` on ``target``'s host, if the run started it: ``target``'s own process or one
    started beside the targets; ``SafetyViolation`` (one line) for anything else."""
    t = view.refresh().target(target)  # SafetyViolation for a target the run did not start
    what: str | None = None
    proc = None
    for other in view.targets():
        p = same_process(other.pid, other.create_time)
        if p is not None and p.pid == pid:
            if other.name != target:
                raise SafetyViolation(f"pid {pid} is {other.name}'s own process, not {t.name}'s: "
                                      f"kill:{other.name}.pid={pid}")
            what, proc = "service", p
    if proc is None:
        proc = next((p for p in started_beside(view.run_id) if p.pid == pid), None)
        what = "runaway" if proc is not None else None
    if proc is None or what is None:
        raise SafetyViolation(f"pid {pid} was not started by run {view.run_id}: only its targets' processes and the "
                              "processes it started beside them can be killed (see 'gameday ops ps')")
    try:
        with proc.oneshot():
            times = proc.cpu_times()
            killed = Killed(pid, proc.name(), proc.memory_info().rss, round(times.user + times.system, 2), what)
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
    except psutil.NoSuchProcess:
        killed = Killed(pid, "?", 0, 0.0, what)
    except psutil.TimeoutExpired:
        pass
    return killed
