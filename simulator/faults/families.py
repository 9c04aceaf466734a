"""Inject and revert, per fault family. Each family has three steps:

* ``prepare(ctx, target, params) -> revert`` captures what undoing needs, *before* anything is
  applied (it is written to the ledger first);
* ``apply(ctx, target, params, revert) -> revert`` applies the fault (and may add to ``revert``,
  e.g. the pids of a hog);
* ``revert(ctx, target, revert)`` undoes it. Idempotent, and it respects what the team already
  did: a release the team has rolled back is not rolled back again;
* ``verify(ctx, target, revert) -> problem | None`` looks at the target as it is now and says what of the
  fault is still there (None: its effect is gone). The engine marks a fault ``reverted`` only when this
  says so; otherwise the ledger row is ``failed`` with the problem, and ``gameday cleanup`` retries it.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from typing import Any

import psutil

from simulator.errors import EnvironmentProblem, InputError
from simulator.faults.container import FAMILY as CONTAINER
from simulator.faults.context import Context, Family
from simulator.procs import same_process, spawn, start_time, stop_process, wait_until
from simulator.rundir import RunDir
from simulator.targets import cpulimit
from simulator.targets.processes import hog_marker


def _get(config: dict[str, Any], dotted: str) -> Any:
    node: Any = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


class AppFamily:
    """Through the target's ops API, as a bad deploy or config push would arrive."""

    def prepare(self, ctx, target, kind, params):
        state = ctx.ops(target, "GET", "/ops/state")
        if kind == "app.release":
            if params["version"] not in state.get("releases", []):
                raise InputError(f"{target}: unknown release {params['version']!r}; known: "
                                 f"{', '.join(state.get('releases', []))}")
            return {"previous_release": state["release"], "version": params["version"]}
        if kind == "app.flag":
            if params["name"] not in state.get("flags", {}):
                raise InputError(f"{target}: unknown flag {params['name']!r}; flags: "
                                 f"{', '.join(state.get('flags', {})) or 'none'}")
            return {"flag": params["name"], "old": state["flags"][params["name"]], "new": params["value"]}
        values = _config_values(kind, params)
        return {"old": {k: _get(state["config"], k) for k in values}, "new": values}

    def apply(self, ctx, target, kind, params, revert):
        if kind == "app.release":
            ctx.ops(target, "POST", "/ops/deploy", {"version": params["version"]})
        elif kind == "app.flag":
            ctx.ops(target, "POST", "/ops/flags", {"name": params["name"], "value": params["value"]})
        else:
            ctx.ops(target, "POST", "/ops/config", {"values": _config_values(kind, params),
                                                    "good": bool(params.get("good", False))})
        return revert

    def revert(self, ctx, target, kind, revert):
        state = ctx.ops(target, "GET", "/ops/state")
        if kind == "app.release":
            if state["release"] == revert["version"] and revert["previous_release"] != revert["version"]:
                ctx.ops(target, "POST", "/ops/deploy", {"version": revert["previous_release"]})
        elif kind == "app.flag":
            if state["flags"].get(revert["flag"]) != revert["old"]:
                ctx.ops(target, "POST", "/ops/flags", {"name": revert["flag"], "value": revert["old"]})
        else:
            restore = {k: v for k, v in revert["old"].items() if _get(state["config"], k) != v}
            if restore:
                ctx.ops(target, "POST", "/ops/config", {"values": restore, "good": True})

    def verify(self, ctx, target, kind, revert):
        state = ctx.ops(target, "GET", "/ops/state")
        if kind == "app.release":
            if state.get("release") == revert["version"] and revert["previous_release"] != revert["version"]:
                return f"{target} still runs release {revert['version']}"
        elif kind == "app.flag":
            if (state.get("flags") or {}).get(revert["flag"]) != revert["old"]:
                return f"{target}: flag {revert['flag']} is not back to {revert['old']}"
        else:
            left = [k for k, v in revert["old"].items() if _get(state.get("config") or {}, k) != v]
            if left:
                return f"{target}: config {', '.join(left)} not back to the value before the fault"
        return None


def _config_values(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    if kind == "app.leak_rate":
        return {"leak_bytes_per_request": params["bytes_per_request"]}
    return dict(params["values"])


class ProxyFamily:
    """Toxics on the target's front proxy, or on a link proxy 'a->b'."""

    def prepare(self, ctx, target, kind, params):
        return {"proxy": ctx.view.proxy_name(target), "toxic": ctx.fault_id}

    def apply(self, ctx, target, kind, params, revert):
        toxic = kind.split(".", 1)[1]
        if toxic == "down":
            ctx.proxy.set_enabled(revert["proxy"], False)
        else:
            attrs = params.get("attributes") or {}
            ctx.proxy.add_toxic(revert["proxy"], toxic, name=revert["toxic"], stream=params.get("stream", "downstream"),
                                toxicity=params.get("toxicity", 1.0), **attrs)
        return revert

    def revert(self, ctx, target, kind, revert):
        if kind == "proxy.down":
            ctx.proxy.set_enabled(revert["proxy"], True)
        else:
            ctx.proxy.remove_toxic(revert["proxy"], revert["toxic"])

    def verify(self, ctx, target, kind, revert):
        if kind == "proxy.down":
            if not ctx.proxy.proxy(revert["proxy"]).enabled:
                return f"proxy {revert['proxy']} is still disabled"
        elif any(t.name == revert["toxic"] for t in ctx.proxy.toxics(revert["proxy"])):
            return f"toxic {revert['toxic']} is still on proxy {revert['proxy']}"
        return None


class ProcessFamily:
    """Signals to the target's process, restarts through the supervisor, hogs beside it."""

    def prepare(self, ctx, target, kind, params):
        t = ctx.view.target(target)
        if kind in ("process.pause", "process.kill") and not t.pid:
            raise EnvironmentProblem(f"{target} has no running process (status {t.status})")
        return {"pid": t.pid, "create_time": t.create_time, "hogs": []}

    def apply(self, ctx, target, kind, params, revert):
        if kind == "process.pause":
            proc = same_process(revert["pid"], revert["create_time"])
            if proc is None:
                raise EnvironmentProblem(f"{target}: process {revert['pid']} is gone")
            proc.send_signal(signal.SIGSTOP)
        elif kind == "process.kill":
            proc = same_process(revert["pid"], revert["create_time"])
            if proc is None:
                raise EnvironmentProblem(f"{target}: process {revert['pid']} is gone")
            proc.send_signal(_signal(params.get("signal", "SIGKILL")))
        elif kind == "process.restart":
            ctx.view.supervisor("restart", target=target, reason=f"fault {ctx.fault_id}")
        elif kind in ("process.cpu_hog", "process.memory_hog"):
            marker = hog_marker(ctx.view.run_id, ctx.fault_id)
            log = RunDir(ctx.view.run_dir).hog_log(ctx.fault_id)
            # on the target's host: inside its CPU-limit group when it has one (targets[].cpus, local backend), so
            # the runaway process competes for the target's CPUs on any machine; else for the machine's
            host = cpulimit.existing(ctx.view.run_id, target)
            if kind == "process.cpu_hog":
                for _ in range(params.get("workers", 1)):
                    p = spawn([sys.executable, "-m", "simulator.faults.hog", "cpu", "--seconds", str(ctx.lifetime),
                               "--marker", marker], log, detached=True, cgroup=host)
                    revert["hogs"].append(_ident(p.pid))
                    _shows_marker(p, marker, log)
            else:
                p = spawn([sys.executable, "-m", "simulator.faults.hog", "memory", "--bytes", str(params["size"]),
                           "--seconds", str(ctx.lifetime), "--marker", marker], log, stdout=subprocess.PIPE,
                          detached=True, cgroup=host)
                revert["hogs"].append(_ident(p.pid))
                if p.stdout is not None and p.stdout.readline().strip() != b"allocated":
                    raise EnvironmentProblem(f"memory hog failed to allocate {params['size']} bytes (log: {log})")
        return revert

    def revert(self, ctx, target, kind, revert):  # a hog the team killed (``ops kill``) is gone: nothing to stop
        if kind in ("process.pause", "process.kill"):
            # a kill recorded before stop signals were refused may have frozen the process: continue it too
            proc = same_process(revert["pid"], revert["create_time"])
            if proc is not None and (kind == "process.pause" or _stopped(proc)):
                proc.send_signal(signal.SIGCONT)
        if kind in ("process.kill", "process.restart"):
            try:
                t = ctx.view.refresh().target(target)
                if t.status not in ("running", "crashed"):
                    ctx.view.supervisor("start", target=target, reason=f"revert {ctx.fault_id}")
            except EnvironmentProblem:
                pass  # no supervisor: the run is down, nothing left to bring back
        for hog in revert.get("hogs", []):
            stop_process(hog["pid"], hog["create_time"], grace=2.0)

    def verify(self, ctx, target, kind, revert):
        if kind in ("process.pause", "process.kill"):
            proc = same_process(revert["pid"], revert["create_time"])
            if proc is not None and _stopped(proc):
                return f"{target}: process {revert['pid']} is still stopped"
        if kind in ("process.kill", "process.restart") and ctx.view.alive():
            # the supervisor brings the target back (its restart policy, or the revert's start)
            status = ctx.view.refresh().target(target).status
            if status != "running":
                return f"{target} is {status}, not running"
        alive = [h["pid"] for h in revert.get("hogs", []) if same_process(h["pid"], h["create_time"]) is not None]
        if alive:
            return f"resource hog process(es) {', '.join(map(str, alive))} still running"
        return None


def _stopped(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_STOPPED
    except psutil.Error:
        return False


def _shows_marker(proc: subprocess.Popen[bytes], marker: str, log: Any) -> None:
    """Wait until a hog's command line (with its marker) is readable, so cleanup and ``ops ps`` find it once it is
    injected: ``Popen`` returns when the exec closed its pipe, a moment before the kernel sets the new program's
    arguments up (an empty ``/proc/<pid>/cmdline`` for that moment, seen under load)."""
    def shows() -> bool:
        with contextlib.suppress(psutil.Error):
            return marker in " ".join(psutil.Process(proc.pid).cmdline())
        return False

    if not wait_until(shows, 10.0, 0.005, unless=lambda: proc.poll() is not None):
        raise EnvironmentProblem(f"resource hog {proc.pid} did not start (exit code {proc.poll()}; log: {log})")


def _ident(pid: int) -> dict[str, Any]:
    try:
        return {"pid": pid, "create_time": start_time(pid)}
    except psutil.NoSuchProcess:
        return {"pid": pid, "create_time": None}


def _signal(name: str) -> signal.Signals:
    try:
        return signal.Signals[name.upper() if name.upper().startswith("SIG") else "SIG" + name.upper()]
    except KeyError:
        raise InputError(f"unknown signal {name!r}; e.g. SIGKILL, SIGTERM, SIGINT") from None


FAMILIES: dict[str, Family] = {"app": AppFamily(), "proxy": ProxyFamily(), "process": ProcessFamily(),
                               "container": CONTAINER}

__all__ = ["FAMILIES", "Context", "Family"]
