"""Plain helpers for the fault-library tests: probes on real targets, process bookkeeping, the CLI.

Everything talks to 127.0.0.1 only, through the URLs the local backend wrote in ``targets.json``.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
import psutil

from simulator.cleanup import cleanup_run
from simulator.faults.ledger import Ledger
from simulator.journal import read_events
from simulator.procs import same_process, stop_process
from simulator.rundir import RunDir
from simulator.targets.view import TargetsView

REPO = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
#: ``private_run(specs=None, name="x") -> TargetsView`` (the conftest fixture)
PrivateRun = Callable[..., TargetsView]
MAJOR_KEY = "gk_major_acme"
REGULAR_KEY = "gk_regular_001"
CHARGE = {"customer_id": "cust-1", "amount_cents": 1250, "currency": "usd"}
HOG_MODULE = "simulator.faults.hog"


# Built once: constructing an httpx client costs ~35 ms here (its SSL context). Requests through a
# (possibly faulted) proxy open a new connection each time, as a new client would; calls straight to a
# service's ops API keep theirs alive.
_FRESH = httpx.Client(trust_env=False, timeout=10, limits=httpx.Limits(max_keepalive_connections=0))
_KEEP = httpx.Client(trust_env=False, timeout=10)


def get(url: str, timeout: float = 10.0, keep_alive: bool = False) -> httpx.Response:
    return (_KEEP if keep_alive else _FRESH).get(url, timeout=timeout)


def post(url: str, json: Any = None, headers: dict[str, str] | None = None, timeout: float = 10.0) -> httpx.Response:
    return _FRESH.post(url, json=json, headers=headers, timeout=timeout)


def charge_via_gateway(view: TargetsView, key: str = MAJOR_KEY, timeout: float = 10.0) -> httpx.Response:
    """POST /v1/charges on the gateway's public URL (front proxy -> gateway -> link proxy -> payments)."""
    return post(f"{view.target('gateway').url}/v1/charges", json=CHARGE, headers={"x-api-key": key}, timeout=timeout)


def charge_direct(view: TargetsView, timeout: float = 10.0, url: str | None = None) -> httpx.Response:
    """POST /charges on payments' public URL (its front proxy), not through the gateway."""
    return post(f"{url or view.target('payments').url}/charges", json=CHARGE, timeout=timeout)


def ops_state(view: TargetsView, target: str) -> dict[str, Any]:
    """The target's ops state, straight from the service (not through its front proxy)."""
    r = get(f"{view.refresh().target(target).ops_url}/ops/state", keep_alive=True)
    r.raise_for_status()
    return r.json()


def healthy(url: str, timeout: float = 3.0) -> bool:
    try:
        return get(f"{url}/healthz", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.1, what: str = "condition") -> Any:
    """Poll until ``predicate()`` is truthy; return its value, or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = call()
    return time.perf_counter() - start, value


def median(values: Iterable[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


# -------------------------------------------------------------------------------- processes
def recorded_processes(run_dir: Path) -> list[tuple[int, float | None]]:
    """(pid, create_time) of everything ``targets.json`` names: supervisor, fault proxy, targets."""
    path = RunDir(run_dir).targets_json
    if not path.exists():
        return []
    data = json.loads(path.read_text())
    found = []
    for part in [data.get("supervisor") or {}, data.get("proxy") or {}, *data.get("targets", {}).values()]:
        if part.get("pid"):
            found.append((int(part["pid"]), part.get("create_time")))
    return found


def alive(processes: Iterable[tuple[int, float | None]]) -> list[int]:
    return [pid for pid, created in processes if same_process(pid, created) is not None]


def hogs_of(run_id: str) -> list[psutil.Process]:
    marker = f"gameday-hog:{run_id}:"
    out = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info.get("cmdline") or [])
        try:
            if HOG_MODULE in cmd and marker in cmd and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.Error:  # gone meanwhile
            continue
    return out


def reap(run_dir: Path, run_id: str | None, extra: Iterable[tuple[int, float | None]] = ()) -> None:
    """Last-resort teardown: cleanup through the library, then stop whatever is still alive."""
    run_dir = Path(run_dir)
    seen = list(extra) + recorded_processes(run_dir)
    if run_dir.exists():
        try:
            cleanup_run(run_dir, run_id)
        except Exception as exc:  # noqa: BLE001 - keep going: the processes must die anyway
            print(f"reap: cleanup of {run_dir} failed: {exc}", file=sys.stderr)
    for pid, created in seen + recorded_processes(run_dir):
        stop_process(pid, created, grace=2.0)
    if run_id:
        for hog in hogs_of(run_id):
            stop_process(hog.pid, hog.create_time(), grace=1.0)


def proc_status(pid: int, created: float | None) -> str | None:
    p = same_process(pid, created)
    return p.status() if p is not None else None


# -------------------------------------------------------------------------------- ledger and journal
def ledger_rows(run_dir: Path) -> list[Any]:
    path = RunDir(run_dir).ledger
    if not path.exists():
        return []
    with Ledger(path) as ledger:
        return ledger.entries()


def journal(run_dir: Path, kind: str | None = None) -> list[Any]:
    path = RunDir(run_dir).journal
    return read_events(path, kind) if path.exists() else []


# -------------------------------------------------------------------------------- the real CLI
def cli_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update({"GAMEDAY_HOME": str(home), "PYTHONUNBUFFERED": "1", "COLUMNS": "200", "NO_COLOR": "1",
                "TERM": "dumb"})
    env.pop("GAMEDAY_DEBUG", None)
    return env


def gameday(home: Path, *args: str, timeout: float = 120.0, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m simulator ARGS`` (the real CLI) with ``GAMEDAY_HOME=home``."""
    return subprocess.run([PYTHON, "-m", "simulator", *args], cwd=cwd or REPO, env=cli_env(home),
                          capture_output=True, text=True, timeout=timeout)


# -------------------------------------------------------------------------------- helper scripts
def start_script(name: str, *args: str, home: Path, log: Path, new_session: bool = False) -> subprocess.Popen[str]:
    """Start ``python scripts/NAME ARGS`` with ``GAMEDAY_HOME=home``; stdout piped, stderr to ``log``."""
    with open(log, "ab") as err:
        return subprocess.Popen([PYTHON, str(HERE / "scripts" / name), *args], cwd=REPO, env=cli_env(home),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, text=True,
                                start_new_session=new_session)


def read_json_line(proc: subprocess.Popen[str], timeout: float, log: Path | None = None) -> dict[str, Any]:
    """The first JSON line the process prints, or fail with the tail of its stderr ``log``."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if sel.select(timeout=0.2):
                line = proc.stdout.readline()
                if line.strip().startswith("{"):
                    return json.loads(line)
                if not line:
                    break
            elif proc.poll() is not None:
                break
    proc.kill()
    proc.communicate(timeout=10)
    tail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
    raise AssertionError(f"{proc.args} printed no JSON line within {timeout:g}s (exit {proc.returncode}): {tail}")


def kill_script(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=10)
