"""Child processes: start one, wait until it listens, stop it; and the line a child says it listens with.

Every process gameday starts goes through ``spawn`` (stdin closed, stderr to a log file). Servers we
run (the bundled apps, the fault proxy, the tracker) print one JSON line on stdout once they accept
connections, ``{"event": "listening", "port": N, "pid": P}`` (``announce``); ``start_listening``
starts one and returns when that line arrives, or raises ``EnvironmentProblem`` with the end of its
log. Anything else waits with ``wait_until`` (a predicate, polled, given up when the child dies).
Processes are identified by (pid, create_time) so a recycled pid is never signalled by mistake. The
create_time gameday records is ``start_time``: seconds from boot to the process's start, which no step
of the wall clock moves (folders written before held psutil's epoch time; ``same_start`` reads both).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from simulator.errors import EnvironmentProblem

PR_SET_PDEATHSIG = 1
LISTENING = "listening"


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def announce(port: int, **extra: Any) -> None:
    """In a server: say on stdout that it accepts connections on ``port`` (the line ``start_listening`` reads)."""
    sys.stdout.write(json.dumps({"event": LISTENING, "port": port, "pid": os.getpid(), **extra}) + "\n")
    sys.stdout.flush()


def spawn(argv: Sequence[str], log_path: Path, *, env: Mapping[str, str] | None = None, stdout: Any = None,
          die_with_parent: bool = False, detached: bool = False, cgroup: Path | None = None,
          **popen: Any) -> subprocess.Popen[bytes]:
    """Start ``argv`` with stdin closed and stderr appended to ``log_path`` (stdout too, unless given).

    ``env`` is its whole environment (default: this process's). ``die_with_parent``: SIGKILL when the thread that
    started it ends. ``detached``: its own session, so it outlives us (the supervisor). ``cgroup``: a CPU-limit
    group it joins before it runs (``targets.cpulimit``). The rest goes to ``Popen`` (``cwd``, ``pass_fds``,
    ``process_group``)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)

    def before_exec() -> None:  # runs in the child between fork and exec
        if cgroup is not None:
            with open(cgroup / "cgroup.procs", "w") as fh:
                fh.write(str(os.getpid()))
        if die_with_parent:
            _die_with_parent()

    with open(log_path, "ab") as log:
        return subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=log if stdout is None else stdout,
                                stderr=subprocess.STDOUT if stdout is None else log,
                                env=None if env is None else dict(env), start_new_session=detached,
                                preexec_fn=before_exec if die_with_parent or cgroup else None,  # noqa: PLW1509
                                **popen)


@dataclass
class Child:
    proc: subprocess.Popen[bytes]
    port: int
    create_time: float

    @property
    def pid(self) -> int:
        return self.proc.pid


def start_listening(args: list[str], log_path: Path, timeout: float = 30.0, env: dict[str, str] | None = None,
                    die_with_parent: bool = True, cgroup: Path | None = None) -> Child:
    """Start ``python <args>`` (``env`` added to ours, in ``cgroup`` if given); wait for its listening line;
    stderr goes to ``log_path``."""
    proc = spawn([sys.executable, *args], log_path, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                 die_with_parent=die_with_parent, cgroup=cgroup)
    line: list[bytes] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    text = line[0].decode(errors="replace").strip() if line else ""
    try:
        event = json.loads(text) if text else {}
    except ValueError:
        event = {}
    if not isinstance(event, dict) or event.get("event") != LISTENING:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(2.0 if line else 0)  # stdout closed: it is on its way out, let it say why
        code = proc.poll()
        with contextlib.suppress(psutil.Error):  # our own child, not reaped yet: its pid is still its own
            stop_process(proc.pid, start_time(proc.pid), grace=1.0)
        why = f"exited with code {code}" if code is not None else f"did not start within {timeout:g}s"
        name = args[1] if args[0] == "-m" else args[0]
        raise EnvironmentProblem(f"{name} {why}: {log_tail(log_path) or 'no output'} "
                                 f"(log: {log_path})")
    # keep draining stdout so the child never blocks on a full pipe
    threading.Thread(target=_drain, args=(proc,), daemon=True).start()
    return Child(proc, int(event["port"]), start_time(proc.pid))


def _drain(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdout is not None
    for _ in iter(lambda: proc.stdout.read(4096), b""):  # type: ignore[union-attr]
        pass


def log_tail(path: Path, lines: int = 3) -> str:
    """The last lines of a log, on one line (for an error message)."""
    if not path.exists():
        return ""
    return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])


#: the most the kernel's boot time may have moved between recording an epoch start time (run folders written before
#: ``start_time``) and reading it again: NTP slewing the clock makes the whole-second boot time (/proc/stat btime)
#: flip by a second; anything further off is another process
CLOCK_STEP_LIMIT = 2.0
#: a recorded start time at or above this is seconds since the epoch (psutil's, in older run folders); below it,
#: seconds after boot (``start_time``: 31 years of uptime before the two could meet)
EPOCH_FLOOR = 1e9
_TICKS = os.sysconf("SC_CLK_TCK")


def start_time(pid: int) -> float:
    """When process ``pid`` started, in seconds after the machine booted: /proc/<pid>/stat's start time, in clock
    ticks. psutil's ``create_time()`` is those ticks plus the kernel's boot time, which the wall clock moves:
    every step of it (NTP, a virtual machine's clock catching up after a pause) shifts every process's epoch
    start time by the step, and a process recorded before a step of more than a second or two no longer
    matched itself, so a run's teardown and ``gameday cleanup`` left it running. ``psutil.NoSuchProcess``
    when there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        raise psutil.NoSuchProcess(pid) from None
    fields = stat[stat.rindex(b")") + 2:].split()  # after the command's name, which may hold spaces
    return int(fields[19]) / _TICKS  # field 22, starttime


def same_start(p: psutil.Process, recorded: float) -> bool:
    """Did the live process ``p`` start at ``recorded``? A ``start_time`` (seconds after boot) must match to the
    clock tick; an epoch time (a folder written before) is compared with psutil's, allowing the boot time's
    whole-second flips (``same_epoch_start``)."""
    if recorded < EPOCH_FLOOR:
        return abs(start_time(p.pid) - recorded) <= 0.005
    return same_epoch_start(p.create_time(), recorded)


def started_since(p: psutil.Process, recorded: float) -> bool:
    """Did the live process ``p`` start at or after ``recorded`` (a ``start_time``, or an older folder's epoch
    time)? What a command's process group holds beside its leader."""
    if recorded < EPOCH_FLOOR:
        return start_time(p.pid) >= recorded - 0.005
    return p.create_time() >= recorded - CLOCK_STEP_LIMIT - 0.01


def same_epoch_start(now: float, recorded: float) -> bool:
    """Is ``now`` (an epoch start time read now) the epoch start time ``recorded`` earlier? The same process may
    read whole seconds off after a clock step moved the kernel's whole-second boot time."""
    drift = now - recorded
    return abs(drift) <= 0.01 or (abs(drift) <= CLOCK_STEP_LIMIT and abs(drift - round(drift)) <= 0.01)


def same_process(pid: Any, create_time: Any) -> psutil.Process | None:
    """The live process with this pid and start time, or None: gone, pid reused, or its identity cannot be
    confirmed (no start time, or values a run folder should not hold: a pid <= 1, text, NaN). Run folders
    are input: a crafted one must never make gameday signal a process it did not start."""
    if (isinstance(pid, bool) or not isinstance(pid, int) or pid <= 1
            or isinstance(create_time, bool) or not isinstance(create_time, int | float)
            or create_time != create_time):
        return None
    try:
        p = psutil.Process(pid)
        if not same_start(p, create_time):
            return None
        if p.status() == psutil.STATUS_ZOMBIE:
            return None
        return p
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def stop_process(pid: Any, create_time: Any, grace: float = 5.0) -> bool:
    """SIGTERM (SIGCONT first, in case it is paused), then SIGKILL after ``grace``. True if it was alive.
    Only a process whose identity ``same_process`` confirms is signalled (pid and start time)."""
    p = same_process(pid, create_time)
    if p is None:
        return False
    try:
        p.send_signal(signal.SIGCONT)
        p.terminate()
        try:
            p.wait(grace)
        except psutil.TimeoutExpired:
            p.kill()
            p.wait(5)
    except psutil.NoSuchProcess:
        pass
    return True


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.05, *,
               unless: Callable[[], bool] | None = None) -> bool:
    """Poll ``predicate`` until it holds (True) or ``timeout`` passes; give up early (False) once ``unless``
    holds, e.g. ``lambda: proc.poll() is not None`` for a child that died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if unless is not None and unless():
            return predicate()
        time.sleep(interval)
    return predicate()
