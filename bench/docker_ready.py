"""Time to ready, local vs docker, and time to revert each container fault (real engine).

    PYTHONPATH=. .venv/bin/python bench/docker_ready.py [--json] [--repeat N]

* **time to ready**: from ``backend.up()`` being called until every target (payments, gateway,
  auth) answers /healthz through its front proxy, for the local backend (the baseline) and the
  docker backend (image already built: ``make images``), alternating, N times each, in the same
  run. Printed as medians and the docker/local ratio. Goals: docker < 15 s and within 5x of local.
* **time to revert**, per container fault on auth: from ``FaultEngine.revert`` until auth answers
  /healthz through its front proxy again (the revert call's own duration is shown too).

Its own temporary GAMEDAY_HOME and run folders, always torn down. Exit code 0 either way (figures,
not a test); 3 when there is no engine or no image, with the fix.
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
from pathlib import Path
from typing import Any

import httpx

from simulator.errors import EnvironmentProblem
from simulator.faults.engine import FaultEngine
from simulator.targets.backends.docker import DockerBackend, check_image, docker_client, remove_run_resources
from simulator.targets.backends.local import LocalBackend
from simulator.targets.spec import specs_from_scenario

GOAL_READY_S = 15.0
GOAL_RATIO = 5.0
FAULTS = [("container.pause", {}), ("container.stop", {}), ("container.kill", {"signal": "SIGKILL"}),
          ("container.restart", {}), ("container.remove", {}), ("container.update", {"memory": "300MiB", "cpus": 0.5})]


def _healthy(url: str) -> bool:
    try:
        with httpx.Client(trust_env=False, timeout=1) as c:
            return c.get(f"{url}/healthz").status_code == 200
    except httpx.HTTPError:
        return False


def _wait_healthy(url: str, timeout: float = 30.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if _healthy(url):
            return time.perf_counter()
        time.sleep(0.01)
    raise RuntimeError(f"{url} did not become healthy within {timeout}s")


def time_ready(backend, base: Path, name: str) -> float:
    run_id = f"bench-{name}-{os.urandom(2).hex()}"
    run_dir = base / run_id
    start = time.perf_counter()
    try:
        view = backend.up(specs_from_scenario(None), run_dir, run_id, owner_pid=os.getpid())
        done = max(_wait_healthy(t.url) for t in view.targets())
        return done - start
    finally:
        backend.down(run_dir)
        if isinstance(backend, DockerBackend):
            remove_run_resources(run_id, None)


def time_reverts(base: Path) -> dict[str, dict[str, float]]:
    backend = DockerBackend()
    run_id = f"bench-faults-{os.urandom(2).hex()}"
    run_dir = base / run_id
    out: dict[str, dict[str, float]] = {}
    view = backend.up(specs_from_scenario(None), run_dir, run_id, owner_pid=os.getpid())
    engine = FaultEngine(view)
    try:
        url = view.target("auth").url
        for kind, params in FAULTS:
            t0 = time.perf_counter()
            entry = engine.inject(kind, "auth", params)
            t1 = time.perf_counter()
            engine.revert(entry.id)
            t2 = time.perf_counter()
            healthy_at = _wait_healthy(url)
            out[kind] = {"inject_ms": round((t1 - t0) * 1000, 1), "revert_call_ms": round((t2 - t1) * 1000, 1),
                         "revert_to_healthy_ms": round((healthy_at - t1) * 1000, 1)}
    finally:
        engine.revert_all(by="bench")
        engine.close()
        backend.down(run_dir)
        remove_run_resources(run_id, None)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        check_image(docker_client())
    except EnvironmentProblem as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    base = Path(tempfile.mkdtemp(prefix="gameday-bench-docker-"))
    previous_home = os.environ.get("GAMEDAY_HOME")
    os.environ["GAMEDAY_HOME"] = str(base / "home")
    try:
        local, docker = [], []
        for _ in range(args.repeat):
            local.append(time_ready(LocalBackend(), base, "local"))
            docker.append(time_ready(DockerBackend(), base, "docker"))
        reverts = time_reverts(base)
    finally:
        if previous_home is None:
            os.environ.pop("GAMEDAY_HOME", None)
        else:
            os.environ["GAMEDAY_HOME"] = previous_home
        shutil.rmtree(base, ignore_errors=True)
    lm, dm = statistics.median(local), statistics.median(docker)
    result: dict[str, Any] = {
        "ready_s": {"local": {"median": round(lm, 3), "all": [round(x, 3) for x in local]},
                    "docker": {"median": round(dm, 3), "all": [round(x, 3) for x in docker]}},
        "ratio_docker_over_local": round(dm / lm, 2),
        "goals": {"docker_ready_s": GOAL_READY_S, "ratio": GOAL_RATIO,
                  "met": dm < GOAL_READY_S and dm / lm <= GOAL_RATIO},
        "container_fault_revert": reverts,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"time to ready (3 targets, all healthy through their front proxies), median of {args.repeat}:")
    print(f"  local  (baseline) {lm:7.2f} s   {' '.join(f'{x:.2f}' for x in local)}")
    print(f"  docker            {dm:7.2f} s   {' '.join(f'{x:.2f}' for x in docker)}")
    print(f"  ratio docker/local {dm / lm:6.2f}x   goal: docker < {GOAL_READY_S:g} s and <= {GOAL_RATIO:g}x local "
          f"-> {'met' if result['goals']['met'] else 'NOT met'}")
    print("container faults on auth (ms): inject | revert call | revert until healthy through the front proxy")
    for kind, f in reverts.items():
        print(f"  {kind:20s} {f['inject_ms']:8.1f} | {f['revert_call_ms']:8.1f} | {f['revert_to_healthy_ms']:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
