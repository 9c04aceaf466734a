"""Injection and revert latency of the fault library on real targets, against a no-op ops round trip.

    PYTHONPATH=. .venv/bin/python bench/faults_latency.py [--json] [--repeat N] [--kinds proxy.latency,app.release,...]

Starts payments + gateway under the local backend (its own temporary GAMEDAY_HOME and run folder,
always torn down), then for each fault kind, N times:

* **inject latency**: from the moment the fault is scheduled (just before ``FaultEngine.inject``) until
  the effect is observed: the start of the first probe that sees it. Probes run back to back once
  ``inject`` returns, so the figure is the whole path -- validation, the ledger row (SQLite, fsync),
  the ops/proxy/signal call -- confirmed by the target's observable behaviour:
  ``proxy.latency``: a GET through the target's URL takes the added latency; ``proxy.down``: the link
  proxy refuses connections; ``app.release``/``app.flag``/``app.config``: ``/ops/state`` shows the
  change; ``process.pause``: a request times out; ``process.kill``: the process is gone;
  ``process.cpu_hog``: the hog process exists (and, as a separate figure, when it has burnt 50 ms of
  CPU); ``process.memory_hog``: the hog holds the memory (the library waits for its "allocated").
* **revert latency**: the same, from ``FaultEngine.revert`` until the probe sees normal behaviour again.

Baseline, measured in the same run: a bare no-op ops round trip (``GET /ops/state`` on a kept-alive
connection, as the fault library makes its ops calls); each kind's inject p50/p99 is printed as a ratio
of it. Goals: inject p99 < 50 ms; revert < 1 s for every fault.
Exit code is 0 either way (figures, not a test); bounded by --budget seconds (default 100).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from simulator.cleanup import cleanup_run
from simulator.faults.engine import FaultEngine
from simulator.procs import same_process
from simulator.targets.backends.local import LocalBackend
from simulator.targets.spec import specs_from_scenario
from simulator.targets.view import TargetsView

GOAL_INJECT_P99_MS = 50.0
GOAL_REVERT_MS = 1000.0
PROBE_DEADLINE_S = 10.0
LATENCY_MS = 100
PAUSE_PROBE_TIMEOUT_S = 0.25
MEMORY_HOG = 32 * 1024 * 1024


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _summary(ms: list[float]) -> dict[str, float]:
    return {"n": len(ms), "p50_ms": round(_pct(ms, 0.5), 2), "p99_ms": round(_pct(ms, 0.99), 2),
            "max_ms": round(max(ms), 2) if ms else float("nan"),
            "mean_ms": round(statistics.fmean(ms), 2) if ms else float("nan")}


# Built once: constructing an httpx client costs tens of ms (its SSL context), which would swamp the
# figures. Ops probes and the baseline keep their connection alive, as the fault library's ops calls
# do; probes through a (faulted) proxy open a new connection each time, as a new client would.
_KEEP = httpx.Client(trust_env=False)
_FRESH = httpx.Client(trust_env=False, limits=httpx.Limits(max_keepalive_connections=0))


def _get(url: str, timeout: float = 5.0, fresh: bool = False) -> httpx.Response:
    return (_FRESH if fresh else _KEEP).get(url, timeout=timeout)


def until(probe: Callable[[], bool], deadline_s: float = PROBE_DEADLINE_S) -> float:
    """Run ``probe`` back to back until it returns True; the perf_counter time that probe *started*."""
    end = time.perf_counter() + deadline_s
    while True:
        started = time.perf_counter()
        if probe():
            return started
        if started > end:
            raise TimeoutError("the effect was never observed")


@dataclass
class Case:
    kind: str
    target: str
    params: dict[str, Any]
    injected: Callable[[TargetsView, Any], bool]  # (view, entry) -> effect visible?
    reverted: Callable[[TargetsView, Any], bool]
    repeat: int | None = None  # cap (process.kill: each one spends a restart of the policy's budget)
    # a further figure, then settle before the next repetition: (view, entry, scheduled) -> (name, ms since scheduled)
    after: Callable[[TargetsView, Any, float], tuple[str, float]] | None = None
    inject_ms: list[float] = field(default_factory=list)
    call_ms: list[float] = field(default_factory=list)
    revert_ms: list[float] = field(default_factory=list)
    extra: dict[str, list[float]] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------- probes
def _ops(view: TargetsView, target: str) -> dict[str, Any]:
    return _get(f"{view.target(target).ops_url}/ops/state").json()


def _health_ms(url: str) -> float | None:
    start = time.perf_counter()
    try:
        if _get(f"{url}/healthz", timeout=5, fresh=True).status_code != 200:
            return None
    except httpx.HTTPError:
        return None
    return (time.perf_counter() - start) * 1000


def _slow(view: TargetsView, _entry: Any) -> bool:
    took = _health_ms(view.target("gateway").url or "")
    return took is not None and took >= 0.9 * LATENCY_MS


def _fast(view: TargetsView, _entry: Any) -> bool:
    took = _health_ms(view.target("gateway").url or "")
    return took is not None and took < 0.5 * LATENCY_MS


def _link_refused(view: TargetsView, _entry: Any) -> bool:
    try:
        _get(f"{view.links['gateway->payments']['url']}/healthz", timeout=2, fresh=True)
    except httpx.HTTPError:
        return True
    return False


def _link_ok(view: TargetsView, _entry: Any) -> bool:
    try:
        return _get(f"{view.links['gateway->payments']['url']}/healthz", timeout=2, fresh=True).status_code == 200
    except httpx.HTTPError:
        return False


def _hangs(view: TargetsView, _entry: Any) -> bool:
    try:
        _get(f"{view.target('payments').ops_url}/healthz", timeout=PAUSE_PROBE_TIMEOUT_S, fresh=True)
    except httpx.TimeoutException:
        return True
    return False


def _answers(view: TargetsView, _entry: Any) -> bool:
    try:
        return _get(f"{view.target('payments').ops_url}/healthz", timeout=5, fresh=True).status_code == 200
    except httpx.HTTPError:
        return False


def _hogs_alive(entry: Any, min_rss: int = 0) -> bool:
    hogs = entry.revert.get("hogs", [])
    for h in hogs:
        p = same_process(h["pid"], h["create_time"])
        if p is None or (min_rss and p.memory_info().rss < min_rss):
            return False
    return bool(hogs)


def _hogs_gone(entry: Any) -> bool:
    return all(same_process(h["pid"], h["create_time"]) is None for h in entry.revert.get("hogs", []))


def _pid_gone(entry: Any) -> bool:
    p = same_process(entry.revert["pid"], entry.revert["create_time"])
    try:
        return p is None or p.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _restarted(view: TargetsView, entry: Any, scheduled: float) -> tuple[str, float]:
    """After a kill: until the supervisor has the target back and it answers through its URL."""
    def back() -> bool:
        t = view.refresh().target("payments")
        return t.status == "running" and t.pid != entry.revert["pid"] and _health_ms(t.url or "") is not None

    seen = until(back, 60)
    view.refresh()
    return "answers_again_ms", (seen - scheduled) * 1000


def _burning(view: TargetsView, entry: Any, scheduled: float) -> tuple[str, float]:
    """After a CPU hog is spawned: until it has used 50 ms of CPU (its interpreter start included)."""
    def burnt() -> bool:
        total = 0.0
        for h in entry.revert["hogs"]:
            p = same_process(h["pid"], h["create_time"])
            if p is None:
                return False
            times = p.cpu_times()
            total += times.user + times.system
        return total >= 0.05

    seen = until(burnt, 10)
    return "burning_ms", (seen - scheduled) * 1000


def cases() -> list[Case]:
    leaky, good = "v2.4.0-leaky", "v2.3.1"
    return [
        Case("proxy.latency", "gateway", {"latency": LATENCY_MS}, _slow, _fast),
        Case("proxy.down", "gateway->payments", {}, _link_refused, _link_ok),
        Case("app.release", "payments", {"version": leaky},
             lambda v, e: _ops(v, "payments")["release"] == leaky, lambda v, e: _ops(v, "payments")["release"] == good),
        Case("app.flag", "payments", {"name": "fallback_processor", "value": True},
             lambda v, e: _ops(v, "payments")["flags"]["fallback_processor"] is True,
             lambda v, e: _ops(v, "payments")["flags"]["fallback_processor"] is False),
        Case("app.config", "gateway", {"values": {"tiers.major.rate": 2}},
             lambda v, e: _ops(v, "gateway")["config"]["tiers"]["major"]["rate"] == 2,
             lambda v, e: _ops(v, "gateway")["config"]["tiers"]["major"]["rate"] == 200),
        Case("process.pause", "payments", {}, _hangs, _answers),
        Case("process.cpu_hog", "payments", {"workers": 1}, lambda v, e: _hogs_alive(e), lambda v, e: _hogs_gone(e),
             after=_burning),
        Case("process.memory_hog", "payments", {"size": MEMORY_HOG}, lambda v, e: _hogs_alive(e, int(MEMORY_HOG * 0.9)),
             lambda v, e: _hogs_gone(e)),
        Case("process.kill", "payments", {"signal": "SIGKILL"}, lambda v, e: _pid_gone(e), lambda v, e: True,
             repeat=3, after=_restarted),
    ]


# ---------------------------------------------------------------------------------------------- run
def baseline(view: TargetsView, n: int) -> list[float]:
    url = f"{view.target('payments').ops_url}/ops/state"
    out = []
    for _ in range(n):
        start = time.perf_counter()
        _get(url).raise_for_status()
        out.append((time.perf_counter() - start) * 1000)
    return out


def measure(view: TargetsView, engine: FaultEngine, case: Case, n: int, deadline: float) -> None:
    for _ in range(min(n, case.repeat or n)):
        if time.monotonic() > deadline:
            break
        view.refresh()
        scheduled = time.perf_counter()
        entry = engine.inject(case.kind, case.target, dict(case.params))
        returned = time.perf_counter()
        seen = until(lambda e=entry: case.injected(view, e))
        case.inject_ms.append((max(seen, returned) - scheduled) * 1000)
        case.call_ms.append((returned - scheduled) * 1000)
        if case.after is not None:
            name, ms = case.after(view, entry, scheduled)
            case.extra.setdefault(name, []).append(ms)
        start = time.perf_counter()
        engine.revert(entry.id, by="bench")
        back = time.perf_counter()
        seen = until(lambda e=entry: case.reverted(view, e))
        case.revert_ms.append((max(seen, back) - start) * 1000)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="repetitions per fault kind (default 20)")
    parser.add_argument("--kinds", default="", help="comma-separated fault kinds (default: all measured)")
    parser.add_argument("--budget", type=float, default=100.0, help="seconds for the measurements (default 100)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    selected = [c for c in cases() if not args.kinds or c.kind in args.kinds.split(",")]

    work = Path(tempfile.mkdtemp(prefix="gameday-bench-faults-"))
    os.environ["GAMEDAY_HOME"] = str(work / "home")
    run_id = "bench-faults-latency"
    run_dir = work / run_id
    specs = [s for s in specs_from_scenario(None) if s["name"] in ("payments", "gateway")]
    started = time.monotonic()
    view = LocalBackend().up(specs, run_dir, run_id, owner_pid=os.getpid())
    up_s = time.monotonic() - started
    engine = FaultEngine(view)
    deadline = time.monotonic() + args.budget
    try:
        base = baseline(view, max(50, args.repeat * 2))
        for case in selected:
            measure(view, engine, case, args.repeat, deadline)
    finally:
        engine.revert_all(by="bench")
        engine.close()
        cleanup_run(run_dir, run_id)
        shutil.rmtree(work, ignore_errors=True)

    b = _summary(base)
    report: dict[str, Any] = {
        "baseline": {"what": "GET /ops/state on a kept-alive connection (as the fault library calls)", **b},
        "targets_up_s": round(up_s, 2),
        "goals": {"inject_p99_ms": GOAL_INJECT_P99_MS, "revert_ms": GOAL_REVERT_MS},
        "kinds": {},
    }
    for case in selected:
        if not case.inject_ms:
            continue
        inj, rev = _summary(case.inject_ms), _summary(case.revert_ms)
        entry = {
            "inject": inj, "inject_call": _summary(case.call_ms), "revert": rev,
            "inject_p50_vs_baseline": round(inj["p50_ms"] / b["p50_ms"], 1),
            "inject_p99_vs_baseline": round(inj["p99_ms"] / b["p99_ms"], 1),
            "inject_goal_met": inj["p99_ms"] < GOAL_INJECT_P99_MS,
            "revert_goal_met": rev["max_ms"] < GOAL_REVERT_MS,
        }
        for name, values in case.extra.items():
            entry[name] = _summary(values)
        report["kinds"][case.kind] = entry

    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"fault injection / revert latency (local backend, payments + gateway, up in {up_s:.1f}s)")
    print(f"baseline: no-op ops round trip (GET /ops/state, kept-alive)  p50 {b['p50_ms']:.2f} ms  "
          f"p99 {b['p99_ms']:.2f} ms  "
          f"(n={b['n']})")
    print(f"goals: inject p99 < {GOAL_INJECT_P99_MS:g} ms; revert < {GOAL_REVERT_MS:g} ms every time\n")
    head = (f"{'kind':<20}{'n':>3}  {'inject p50':>10} {'p99':>8} {'x base':>7}  {'call p50':>8}  "
            f"{'revert p50':>10} {'max':>8}  goals")
    print(head)
    print("-" * len(head))
    for kind, e in report["kinds"].items():
        inj, rev = e["inject"], e["revert"]
        ok = ("ok" if e["inject_goal_met"] else "INJECT>50ms") + ("" if e["revert_goal_met"] else " REVERT>1s")
        print(f"{kind:<20}{inj['n']:>3}  {inj['p50_ms']:>10.1f} {inj['p99_ms']:>8.1f} "
              f"{e['inject_p50_vs_baseline']:>6.1f}x  {e['inject_call']['p50_ms']:>8.1f}  {rev['p50_ms']:>10.1f} "
              f"{rev['max_ms']:>8.1f}  {ok}")
        if "answers_again_ms" in e:
            print(f"{'':<25}kill -> restarted by the supervisor and answering again: p50 "
                  f"{e['answers_again_ms']['p50_ms']:.0f} ms")
        if "burning_ms" in e:
            print(f"{'':<25}spawned -> hog has burnt 50 ms of CPU (interpreter start included): p50 "
                  f"{e['burning_ms']['p50_ms']:.0f} ms")
    print("\n(ms; 'x base' = inject p50 / baseline p50; 'call' = the inject call alone, before the probe)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
