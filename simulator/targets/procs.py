"""Child processes that announce themselves: start ``python -m ...``, read its ``listening`` line.

Both the bundled apps and the fault proxy print ``{"event": "listening", "port": N, "pid": P}`` on
stdout once ready. Processes are identified by (pid, create_time) so a recycled pid is never
signalled by mistake.
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
from dataclasses import dataclass
from pathlib import Path

import psutil

from simulator.errors import EnvironmentProblem

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class Child:
    proc: subprocess.Popen[bytes]
    port: int
    create_time: float

    @property
    def pid(self) -> int:
        return self.proc.pid


def start_listening(args: list[str], log_path: Path, timeout: float = 30.0, env: dict[str, str] | None = None,
                    die_with_parent: bool = True) -> Child:
    """Start ``python <args>``; wait for its listening line; stderr goes to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "ab")  # noqa: SIM115 - handed to the child
    try:
        proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                                env={**os.environ, **(env or {})},
                                preexec_fn=_die_with_parent if die_with_parent else None)  # noqa: PLW1509
    finally:
        log.close()
    line: list[bytes] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    text = line[0].decode(errors="replace").strip() if line else ""
    try:
        event = json.loads(text) if text else {}
    except ValueError:
        event = {}
    if event.get("event") != "listening":
        stop_process(proc.pid, None, grace=1.0)
        tail = log_path.read_text(errors="replace").strip().splitlines()[-3:] if log_path.exists() else []
        detail = " | ".join(tail) or "no output"
        raise EnvironmentProblem(f"{' '.join(args[:2])} did not start within {timeout:g}s: {detail} "
                                 f"(log: {log_path})")
    # keep draining stdout so the child never blocks on a full pipe
    threading.Thread(target=_drain, args=(proc,), daemon=True).start()
    return Child(proc, int(event["port"]), psutil.Process(proc.pid).create_time())


def _drain(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdout is not None
    for _ in iter(lambda: proc.stdout.read(4096), b""):  # type: ignore[union-attr]
        pass


def same_process(pid: int, create_time: float | None) -> psutil.Process | None:
    """The live process with this pid and start time, or None (gone, or pid reused)."""
    try:
        p = psutil.Process(pid)
        if create_time is not None and abs(p.create_time() - create_time) > 0.01:
            return None
        if p.status() == psutil.STATUS_ZOMBIE:
            return None
        return p
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def stop_process(pid: int, create_time: float | None, grace: float = 5.0) -> bool:
    """SIGTERM (SIGCONT first, in case it is paused), then SIGKILL after ``grace``. True if it was alive."""
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


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
