"""Container faults (docker backend): pause, stop, kill, restart, remove, update of limits.

Every step first checks the container carries this run's label (``gameday.run=<run_id>``, or a
label the user allowlisted with ``GAMEDAY_DOCKER_ALLOW_LABEL``): anything else is a
SafetyViolation. Engine calls go through the Docker SDK; actions the run's supervisor must know
about (stop, restart, re-create, new limits) go through its control API, so its state and the
journal stay right. Reverts are idempotent: they look at the container as it is now.

* ``container.pause``   docker pause            revert: unpause if still paused
* ``container.stop``    supervisor stop         revert: start if not running
* ``container.kill``    docker kill -s SIGNAL   revert: start if not running. The engine treats a
  kill as a manual stop, so its restart policy does not bring the container back (an OOM kill
  or a crash inside the container does get restarted by the policy).
* ``container.restart`` supervisor restart      revert: start if not running
* ``container.remove``  docker rm -f            revert: the supervisor re-creates it (same name, port)
* ``container.update``  new memory/CPU limits   revert: the limits from before (the engine cannot
  lift a limit, so "none" comes back as the engine's whole memory / every CPU)
"""

from __future__ import annotations

import functools
from typing import Any

from simulator.errors import EnvironmentProblem
from simulator.faults.context import Context
from simulator.targets.backends.docker import check_container_safe, docker_client


@functools.cache
def _client():
    return docker_client()


def _container(ctx: Context, target: str, ident: str | None = None):
    """The target's container (None if removed), after the label check."""
    from docker.errors import NotFound

    t = ctx.view.target(target)  # SafetyViolation for a target this run did not start
    ident = ident or t.raw.get("container_id") or t.container
    if not ident:
        raise EnvironmentProblem(f"{target} has no container (status {t.status}); is this a docker run?")
    try:
        c = _client().containers.get(ident)
    except NotFound:
        return None
    check_container_safe(c, ctx.view.run_id)
    return c


def _ensure_running(ctx: Context, target: str, revert: dict[str, Any]) -> None:
    c = _container(ctx, target, revert.get("container"))
    if c is not None and c.status in ("running", "restarting", "paused"):
        if c.status == "paused" and revert.get("status_before") != "paused":
            c.unpause()
        return
    try:
        ctx.view.supervisor("start", target=target, reason=f"revert {ctx.fault_id}")
    except EnvironmentProblem:
        if c is not None:  # no supervisor (the run is going down): start it directly
            c.start()


class ContainerFamily:
    def prepare(self, ctx, target, kind, params):
        c = _container(ctx, target)
        if c is None:
            raise EnvironmentProblem(f"{target}: its container is gone; nothing to fault")
        host = c.attrs.get("HostConfig") or {}
        revert: dict[str, Any] = {"container": c.name, "status_before": c.status}
        if kind == "container.update":
            revert.update(memory=host.get("Memory") or None, cpus=(host.get("NanoCpus") or 0) / 1e9 or None)
        return revert

    def apply(self, ctx, target, kind, params, revert):
        c = _container(ctx, target, revert["container"])
        if c is None:
            raise EnvironmentProblem(f"{target}: container {revert['container']} is gone")
        reason = f"fault {ctx.fault_id}"
        if kind == "container.pause":
            if c.status != "paused":
                c.pause()
        elif kind == "container.stop":
            ctx.view.supervisor("stop", target=target, reason=reason)
        elif kind == "container.kill":
            c.kill(signal=params.get("signal", "SIGKILL"))
        elif kind == "container.restart":
            ctx.view.supervisor("restart", target=target, reason=reason)
        elif kind == "container.remove":
            c.remove(force=True)
        elif kind == "container.update":
            if params.get("memory") is not None:
                ctx.view.supervisor("memory_limit", target=target, bytes=int(params["memory"]), reason=reason)
            if params.get("cpus") is not None:
                ctx.view.supervisor("cpus", target=target, cpus=float(params["cpus"]), reason=reason)
        return revert

    def revert(self, ctx, target, kind, revert):
        if kind == "container.pause":
            c = _container(ctx, target, revert["container"])
            if c is not None and c.status == "paused":
                c.unpause()
        elif kind == "container.update":
            c = _container(ctx, target, revert["container"])
            if c is None:
                return
            host = c.attrs.get("HostConfig") or {}
            info = _client().info()  # "no limit" after an update is the engine's whole memory / every CPU
            memory, cpus = host.get("Memory") or None, (host.get("NanoCpus") or 0) / 1e9 or None
            try:
                if memory != revert.get("memory") and not (revert.get("memory") is None
                                                           and memory == info["MemTotal"]):
                    ctx.view.supervisor("memory_limit", target=target, bytes=revert.get("memory"))
                if cpus != revert.get("cpus") and not (revert.get("cpus") is None and cpus == info["NCPU"]):
                    ctx.view.supervisor("cpus", target=target, cpus=revert.get("cpus"))
            except EnvironmentProblem:
                pass  # the run is down: its containers are going with it
        else:
            _ensure_running(ctx, target, revert)

    def verify(self, ctx, target, kind, revert):
        c = _container(ctx, target, revert["container"] if kind != "container.remove" else None)
        if kind == "container.update":
            return None if c is None or _limits_back(c, revert) else f"{target}: container limits not restored"
        if c is None:
            return f"{target}: its container is gone"
        if c.status == "paused" and revert.get("status_before") != "paused":
            return f"{target}: container {c.name} is still paused"
        if kind != "container.pause" and c.status not in ("running", "restarting"):
            return f"{target}: container {c.name} is {c.status}, not running"
        return None


def _limits_back(c, revert: dict[str, Any]) -> bool:
    host = c.attrs.get("HostConfig") or {}
    info = _client().info()
    memory, cpus = host.get("Memory") or None, (host.get("NanoCpus") or 0) / 1e9 or None
    return (memory == revert.get("memory") or (revert.get("memory") is None and memory == info["MemTotal"])) and \
        (cpus == revert.get("cpus") or (revert.get("cpus") is None and cpus == info["NCPU"]))


FAMILY = ContainerFamily()
