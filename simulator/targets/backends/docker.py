"""The docker backend: the run's targets as containers of ``gameday/targets`` on a real engine, and your own service
(``image:``/``build:``) as a container of its own image (``docker_own``: checked or built before anything starts).

Shape of a run (everything labelled ``gameday.run=<run_id>``):

* one bridge network ``gameday-<run_id>``;
* one container per target, ``gameday-<run_id>-<target>`` (label ``gameday.target=<name>``),
  with the scenario's memory/CPU limits (``mem_limit`` = ``memswap_limit``: no swap, so the
  limit is real and going over it is a kernel OOM kill, ``State.OOMKilled``), Docker's own
  restart policy, and port 8000 published on the host's **127.0.0.1 only**;
* on the host, a detached supervisor (``docker_supervisor``) that holds the fault proxy (front
  proxies on 127.0.0.1 in front of each container's published port, link proxies ``a->b``),
  one relay per dependency edge so a container can reach its link proxy (see ``docker_relay``),
  a watcher journalling crashes, OOM kills and restarts from the engine's events, and the same
  control API as the local supervisor (``TargetsView.supervisor`` works unchanged).

``up()``/``down()`` have the local backend's interface. ``down()`` asks the supervisor to stop
(it collects every container's log into ``RUN_DIR/logs/<target>.log`` and removes the run's
containers and network), then removes whatever still carries the run's label (after a kill -9).

The engine is found the way the docker CLI finds it: ``DOCKER_HOST``, else the current docker
context, else the local socket.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Any

from simulator.durations import parse_duration
from simulator.errors import EnvironmentProblem, SafetyViolation
from simulator.http import HTTPError, shared_client
from simulator.procs import log_tail, same_process, stop_process, wait_until
from simulator.rundir import RunDir
from simulator.runs import read_json, unregister
from simulator.scenario.service import STARTUP_TIMEOUT
from simulator.targets.backends import docker_own
from simulator.targets.backends.docker_image import BUILD_HINT, IMAGE, SOURCES_LABEL, sources_hash
from simulator.targets.backends.local import launch_supervisor, run_id_of
from simulator.targets.command import refuse_on, runtime
from simulator.targets.view import TargetsView

LABEL_RUN = "gameday.run"
LABEL_TARGET = "gameday.target"
LABEL_ROLE = "gameday.role"
LABEL_HOME = "gameday.home"  # the run registry ($GAMEDAY_HOME) the run belongs to
ALLOW_ENV = "GAMEDAY_DOCKER_ALLOW_LABEL"
#: policy default: how long (wall seconds) one answer of the engine may take while your service's image builds
BUILD_TIMEOUT = 600  # "key=value": containers with this label may be faulted too

START_ENGINE_HINT = ("start one (Debian: 'apt-get install -y docker.io && dockerd > /tmp/dockerd.log 2>&1 &', "
                     "or 'systemctl start docker'), or point DOCKER_HOST or 'docker context use' at a running engine")


def _engine_url() -> str | None:
    """DOCKER_HOST, else the current docker context's endpoint (None: the SDK's default socket)."""
    if os.environ.get("DOCKER_HOST"):
        return os.environ["DOCKER_HOST"]
    try:
        from docker.context import ContextAPI

        ctx = ContextAPI.get_current_context()
        host = ctx.Host if ctx is not None else None
        return host if host and ctx.Name != "default" else None
    except Exception:  # noqa: BLE001 - no usable context: the default socket
        return None


def docker_client(timeout: int = 60):
    """A connected client, or EnvironmentProblem saying how to get an engine."""
    try:
        from docker.errors import DockerException

        import docker
    except ImportError:  # pragma: no cover - a dependency of the package
        raise EnvironmentProblem("the docker SDK is not installed: pip install 'docker>=7'") from None
    url = _engine_url()
    where = url or "unix:///var/run/docker.sock"
    try:
        client = docker.DockerClient(base_url=url, timeout=timeout) if url else docker.from_env(timeout=timeout)
        client.ping()
    except DockerException as exc:
        reason = str(exc).split("\n")[0]
        if "No such file" in reason or "FileNotFoundError" in reason:
            raise EnvironmentProblem(f"no Docker engine at {where}: {START_ENGINE_HINT}") from None
        raise EnvironmentProblem(f"Docker engine at {where} is unreachable ({reason}); {START_ENGINE_HINT}") from None
    return client


def check_image(client, image: str = IMAGE) -> str | None:
    """Raise if the image is missing; return a warning if it is older than the sources."""
    from docker.errors import ImageNotFound

    try:
        img = client.images.get(image)
    except ImageNotFound:
        raise EnvironmentProblem(f"image {image} not found on the Docker engine: {BUILD_HINT}") from None
    built = (img.labels or {}).get(SOURCES_LABEL)
    if built and built != sources_hash():
        return f"image {image} was built from other sources than this checkout's; rebuild with 'make images'"
    return None


def run_filters(run_id: str | None) -> dict[str, Any]:
    return {"label": f"{LABEL_RUN}={run_id}" if run_id else LABEL_RUN}


def collect_logs(container, path: Path) -> None:
    with contextlib.suppress(Exception):
        path.parent.mkdir(parents=True, exist_ok=True)
        data = container.logs(stdout=True, stderr=True, timestamps=False)
        with open(path, "ab") as f:
            f.write(data)


def remove_run_resources(run_id: str | None, run_dir: Path | None = None, client=None) -> dict[str, list[str]]:
    """Remove every container, network and volume (your own service's ``{data}``) carrying the run's label (any
    gameday run's when ``run_id`` is None), saving container logs into ``run_dir/logs`` first. Idempotent."""
    from docker.errors import APIError, NotFound

    client = client or docker_client()
    removed: dict[str, list[str]] = {"containers": [], "networks": [], "volumes": []}
    for c in client.containers.list(all=True, filters=run_filters(run_id)):
        target = c.labels.get(LABEL_TARGET) or c.labels.get(LABEL_ROLE) or c.name
        if run_dir is not None:
            collect_logs(c, RunDir(run_dir).log(target))
        with contextlib.suppress(NotFound):
            c.remove(force=True)
            removed["containers"].append(c.name)
    for n in client.networks.list(filters=run_filters(run_id)):
        with contextlib.suppress(NotFound, APIError):
            n.remove()
            removed["networks"].append(n.name)
    for v in client.volumes.list(filters=run_filters(run_id)):
        with contextlib.suppress(NotFound, APIError):
            v.remove(force=True)
            removed["volumes"].append(v.name)
    return removed


def leftover_runs(client=None) -> set[str]:
    """Run ids that still have containers or networks on the engine."""
    client = client or docker_client()
    runs = {c.labels.get(LABEL_RUN) for c in client.containers.list(all=True, filters=run_filters(None))}
    runs |= {(n.attrs.get("Labels") or {}).get(LABEL_RUN) for n in client.networks.list(filters=run_filters(None))}
    return {r for r in runs if r}


def sweep_orphans(active: set[str], home: str, client=None) -> dict[str, dict[str, list[str]]]:
    """Remove containers and networks of runs of this registry (``home``) that the registry no
    longer knows (``active`` is the set of run ids it does know). Skipped without an engine."""
    if client is None:
        try:
            client = docker_client(timeout=10)
        except EnvironmentProblem:
            return {}
    found: set[str] = set()
    for c in client.containers.list(all=True, filters={"label": f"{LABEL_HOME}={home}"}):
        found.add(c.labels.get(LABEL_RUN, ""))
    for n in client.networks.list(filters={"label": f"{LABEL_HOME}={home}"}):
        found.add((n.attrs.get("Labels") or {}).get(LABEL_RUN, ""))
    for v in client.volumes.list(filters={"label": f"{LABEL_HOME}={home}"}):
        found.add((v.attrs.get("Labels") or {}).get(LABEL_RUN, ""))
    return {run: remove_run_resources(run, None, client) for run in sorted(found - active - {""})}


def allowed_labels() -> dict[str, str]:
    raw = os.environ.get(ALLOW_ENV, "").strip()
    out = {}
    for item in filter(None, (s.strip() for s in raw.split(","))):
        key, _, value = item.partition("=")
        out[key] = value
    return out


def check_container_safe(container, run_id: str) -> None:
    """Only containers of this run (or carrying a label the user allowlisted) may be faulted."""
    labels = container.labels or {}
    if labels.get(LABEL_RUN) == run_id:
        return
    for key, value in allowed_labels().items():
        if key in labels and (not value or labels[key] == value):
            return
    raise SafetyViolation(f"container {container.name} does not carry label {LABEL_RUN}={run_id}; gameday only "
                          f"faults containers of its own run (allowlist others explicitly with {ALLOW_ENV}=key=value)")


def container_stats(view: TargetsView, client=None) -> dict[str, dict[str, Any]]:
    """One sample per target container: CPU %, memory, restarts, OOM kills (monitor-ready)."""
    client = client or docker_client()
    out: dict[str, dict[str, Any]] = {}
    for t in view.targets():
        if not t.container:
            continue
        try:
            c = client.containers.get(t.container)
            check_container_safe(c, view.run_id)
            state = c.attrs.get("State", {})
            sample: dict[str, Any] = {"status": state.get("Status"), "oom_killed": bool(state.get("OOMKilled")),
                                      "restarts": c.attrs.get("RestartCount", 0) + t.raw.get("recreated", 0),
                                      "oom_kills": t.oom_kills,
                                      "memory_limit": c.attrs["HostConfig"].get("Memory") or None}
            if state.get("Running") and not state.get("Paused"):
                s = c.stats(stream=False)
                cpu, pre = s.get("cpu_stats", {}), s.get("precpu_stats", {})
                delta = cpu.get("cpu_usage", {}).get("total_usage", 0) - pre.get("cpu_usage", {}).get("total_usage", 0)
                system = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
                ncpu = cpu.get("online_cpus") or len(cpu.get("cpu_usage", {}).get("percpu_usage") or [1])
                mem = s.get("memory_stats", {})
                sample.update(cpu_percent=round(100.0 * delta / system * ncpu, 2) if system > 0 else 0.0,
                              memory_bytes=mem.get("usage", 0) - (mem.get("stats") or {}).get("cache", 0),
                              memory_max_bytes=mem.get("max_usage"))
            out[t.name] = sample
        except Exception as exc:  # noqa: BLE001 - a gone container is a sample too
            out[t.name] = {"status": "missing", "error": str(exc).split("\n")[0]}
    return out


class DockerBackend:
    name = "docker"

    def up(self, targets: list[dict[str, Any]], run_dir: Path, run_id: str, seed: int = 0,
           scenario: str = "", timeout: float = 60.0, owner_pid: int | None = None,
           time_scale: float = 1.0) -> TargetsView:
        """``time_scale``: the run's game seconds per wall second, handed to every app (``GAMEDAY_TIME_SCALE``)."""
        refuse_on(self.name, targets)
        run_dir = Path(run_dir).resolve()
        run_dir.mkdir(parents=True, exist_ok=True)
        client = docker_client(timeout=BUILD_TIMEOUT)
        try:
            if any(t.get("app") for t in targets):  # the bundled apps' image; your own service brings its own
                warning = check_image(client)
                if warning:
                    print(f"warning: {warning}", file=sys.stderr)
            targets = [dict(t) for t in targets]
            docker_own.prepare(client, targets, run_dir)  # every release's image there (built), before any start
        finally:
            client.close()
        startup = max([parse_duration(runtime(t).get("startup_timeout", STARTUP_TIMEOUT)) for t in targets
                       if runtime(t)] + [timeout])
        spec = {"run_id": run_id, "seed": seed, "targets": targets, "image": IMAGE, "timeout": timeout,
                "time_scale": time_scale}
        state = launch_supervisor("simulator.targets.backends.docker_supervisor", spec, run_dir, self.name, scenario,
                                  owner_pid, startup + 15)
        if state.get("status") != "ready":
            error = state.get("error") or log_tail(RunDir(run_dir).supervisor_log) or "did not become ready"
            self.down(run_dir)
            raise EnvironmentProblem(f"docker targets did not start: {error}")
        return TargetsView(run_dir, state)

    def down(self, run_dir: Path, timeout: float = 30.0) -> bool:
        """Stop and remove the run's containers and network. True if anything was running."""
        run_dir = Path(run_dir)
        path = RunDir(run_dir).targets_json
        run_id = run_id_of(run_dir)
        was_running = False
        if path.exists():
            state = RunDir(run_dir).targets_state()
            run_id = state.get("run_id") or run_id
            sup = state.get("supervisor") or {}
            if same_process(sup.get("pid", -1), sup.get("create_time")) is not None:
                was_running = True
                if sup.get("url"):
                    with contextlib.suppress(HTTPError):
                        shared_client().post(f"{sup['url']}/shutdown", json={}, timeout=5)
                    wait_until(lambda: same_process(sup["pid"], sup.get("create_time")) is None, timeout, 0.1)
                stop_process(sup["pid"], sup.get("create_time"), grace=3.0)
            proxy = state.get("proxy") or {}
            if proxy.get("pid") and stop_process(proxy["pid"], proxy.get("create_time"), grace=2.0):
                was_running = True
        try:
            removed = remove_run_resources(run_id, run_dir)
            was_running = was_running or bool(removed["containers"])
        except EnvironmentProblem:
            if path.exists() and (read_json(path).get("targets") or {}):
                unregister(run_id)
                raise
        unregister(run_id)
        return was_running
