"""The docker backend's supervisor: a detached host process that owns one run's containers.

``python -m simulator.targets.backends.docker_supervisor RUN_DIR`` reads ``targets.spec.json``
and, like the local supervisor (whose control loop and API it reuses):

* starts the fault proxy on the host; creates the run's network and, in dependency order, one
  container per target (port 8000 published on 127.0.0.1 on a port chosen up front, so it stays
  the same across restarts); puts a front proxy on 127.0.0.1 in front of each published port
  and a link proxy ``a->b`` per dependency edge, which ``a`` reaches through a relay on the run
  network's gateway address (``docker_relay``); waits until every container answers /healthz;
* watches the engine's events for the run's label (``docker_events.EngineEvents``): a ``die`` is
  journalled as ``target.crashed`` (with ``oom_killed``), a start after it as ``target.restarted``;
  Docker's own restart policy does the restarting;
* answers restart / start (re-creating a removed container) / stop / memory_limit / cpus /
  shutdown on 127.0.0.1, and writes ``targets.json`` on every change;
* for your own service (``docker_own``): its release's image, its health path, its ops API (the local backend's
  ``CommandOps``; a release switch is blue-green: the new image's container takes over once it answers; with
  ``{data}`` one container at a time on its data volume);
* on shutdown saves every container's log into ``RUN_DIR/logs/<target>.log`` and removes the
  run's containers and network.
"""

from __future__ import annotations

import contextlib
import json
import queue
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from simulator.durations import parse_duration
from simulator.errors import EnvironmentProblem, GamedayError
from simulator.netbind import free_port
from simulator.procs import start_time
from simulator.proxy.client import ProxyClient
from simulator.proxy.process import control_url, start_proxy
from simulator.rundir import TARGET_STATE, RunDir
from simulator.runs import gameday_home, write_json_atomic
from simulator.scenario.service import STARTUP_TIMEOUT
from simulator.targets import command, failover
from simulator.targets.apps.common.clock import time_scale_env
from simulator.targets.backends import docker_own
from simulator.targets.backends.docker import (
    LABEL_HOME,
    LABEL_ROLE,
    LABEL_RUN,
    LABEL_TARGET,
    collect_logs,
    docker_client,
    remove_run_resources,
)
from simulator.targets.backends.docker_events import EngineEvents, restart_policy
from simulator.targets.backends.docker_relay import Relay
from simulator.targets.order import topo_order
from simulator.targets.supervisor import HOST, Managed, Supervisor

PORT = 8000
LINK_PORT_BASE = 9100  # in a container, dependency N is reached on 127.0.0.1:9100+N (a relay)


class DockerSupervisor(EngineEvents, Supervisor):
    link_url_key = "container_url"  # inside the container: the relay on its loopback

    def __init__(self, run_dir: Path):
        super().__init__(run_dir)
        self.image: str = self.spec.get("image", "gameday/targets:latest")
        self.client = docker_client()
        self.network = None
        self.gateway_ip: str | None = None
        self.relay = None
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._events_stream = None
        self.home = str(gameday_home())

    # ------------------------------------------------------------------ state file
    def snapshot(self) -> dict[str, Any]:
        data = super().snapshot()
        data["backend"] = "docker"
        data["network"] = self.network.name if self.network is not None else None
        data["image"] = self.image
        for name, t in data["targets"].items():
            m = self.targets[name]
            t.update(pid=m.extra.get("pid"), create_time=m.extra.get("create_time"),
                     container=m.extra.get("container"), container_id=m.extra.get("container_id"),
                     cpus=m.extra.get("cpus"), recreated=m.extra.get("recreated", 0),
                     host_port=m.extra.get("host_port"), log=str(self._log(name)))
            t.pop("state_file", None)
            if m.ops is not None:  # your own service's container
                t.update(app=docker_own.KIND, image=m.extra.get("image"))
        return data

    # ------------------------------------------------------------------ starting
    def start_all(self) -> None:
        self.proxy = start_proxy(self._log("proxy"), seed=self.spec.get("seed", 0))
        self.proxy_client = ProxyClient(control_url(self.proxy))
        labels = {LABEL_RUN: self.run_id, LABEL_ROLE: "network", LABEL_HOME: self.home}
        self.network = self.client.networks.create(f"gameday-{self.run_id}", driver="bridge", labels=labels,
                                                   check_duplicate=True)
        self.network.reload()
        self.gateway_ip = self.network.attrs["IPAM"]["Config"][0]["Gateway"]
        self.relay = Relay()
        self._start_event_watch()
        order = topo_order(self.spec["targets"])
        for spec in order:
            m = Managed(spec, memory_limit=spec.get("memory_limit"))
            if command.is_container(spec):
                m.ops = self._command_ops(m)  # its ops API answered here; a release switch recreates the container
            m.extra["cpus"] = spec.get("cpus")
            m.extra["host_port"] = free_port()
            m.extra["internal_addr"] = f"{HOST}:{m.extra['host_port']}"
            m.extra["internal_url"] = f"http://{HOST}:{m.extra['host_port']}"
            self.targets[m.name] = m
            for dep in spec.get("depends_on", []):
                link, proxy = f"{m.name}->{dep}", f"{m.name}--{dep}"
                info = self.proxy_client.create_proxy(proxy, f"{HOST}:0", self.targets[dep].extra["internal_addr"])
                relay_port = self.relay.add(self.gateway_ip, info.listen_port)
                local_port = LINK_PORT_BASE + len([k for k in self.links if self.links[k]["from"] == m.name])
                self.links[link] = {"url": f"http://{HOST}:{info.listen_port}", "from": m.name, "to": dep,
                                    "proxy": proxy, "relay": f"{self.gateway_ip}:{relay_port}",
                                    "container_url": f"http://127.0.0.1:{local_port}"}
            info = self.proxy_client.create_proxy(m.name, f"{HOST}:0", m.extra["internal_addr"])
            m.extra["url"] = f"http://{HOST}:{info.listen_port}"
            self._create(m)
        # all containers start at once; then each must answer its health path (health-gated start)
        started = time.monotonic()
        for m in self.targets.values():
            self._wait_healthy(m, started + self._startup_timeout(m))
            self._apply_initial_state(m)
            self.journal.write("target.started", name=m.name, app=m.spec.get("app") or docker_own.KIND,
                               url=m.extra["url"], pid=m.extra.get("pid"), container=m.extra["container"],
                               image=m.extra.get("image"))
        self.status = "ready"
        self.save()

    def _create(self, m: Managed, suffix: str = "") -> None:
        """Create and start the target's container (again, after a remove: same name, same port); ``suffix``: the
        next one of a release switch, beside the running one until it takes over."""
        spec = m.spec
        name = f"gameday-{self.run_id}-{m.name}{suffix}"
        kwargs: dict[str, Any] = {}
        if m.memory_limit:
            kwargs.update(mem_limit=int(m.memory_limit), memswap_limit=int(m.memory_limit))
        if m.extra.get("cpus"):
            kwargs["nano_cpus"] = int(float(m.extra["cpus"]) * 1e9)
        if m.ops is not None:  # your own service: the release's image, its command and env, its data volume
            links = {link["to"]: f"http://{link['relay']}" for link in self.links.values() if link["from"] == m.name}
            volume = docker_own.data_volume(self.client, f"gameday-{self.run_id}-{m.name}-data", {
                LABEL_RUN: self.run_id, LABEL_TARGET: m.name, LABEL_ROLE: "data", LABEL_HOME: self.home,
            }) if docker_own.uses_data(spec) else None
            run = docker_own.run_args(spec, m.ops.release, links, volume)
            port = docker_own.container_port(spec)
        else:
            relays = [f"{link['container_url'].rsplit(':', 1)[1]}={link['relay']}"
                      for link in self.links.values() if link["from"] == m.name]
            run = {"image": self.image, "command": [
                "python", "-m", "simulator.targets.backends.docker_entry", spec["app"], "--port", str(PORT),
                "--state-file", f"/data/{TARGET_STATE}", "--data-dir", "/data",
                "--config", json.dumps(self._config_for(m))],
                "environment": {"GAMEDAY_RELAYS": ",".join(relays), **time_scale_env(self.time_scale(m))}}
            port = PORT
        try:  # create, then start: never a pull (no registry), whatever image has gone missing since
            c = self.client.containers.create(
                **run, name=name, hostname=m.name,
                labels={LABEL_RUN: self.run_id, LABEL_TARGET: m.name, LABEL_ROLE: "target", LABEL_HOME: self.home},
                network=self.network.name, ports={f"{port}/tcp": (HOST, m.extra["host_port"])},
                restart_policy=restart_policy(spec), stop_signal="SIGTERM", **kwargs)
            m.extra.update(container=name, container_id=c.id, image=run["image"])
            c.start()
        except Exception as exc:  # the engine's message, one line
            reason = str(exc).splitlines()[0]
            raise EnvironmentProblem(f"{m.name}: could not start container {name} from image {run['image']}: "
                                     f"{reason}") from None
        m.status = "running"
        self._refresh(m)

    def _refresh(self, m: Managed) -> dict[str, Any]:
        try:
            attrs = self.client.api.inspect_container(m.extra["container_id"])
        except Exception:  # noqa: BLE001 - removed
            m.extra.update(pid=None, create_time=None)
            return {}
        state = attrs.get("State", {})
        pid = state.get("Pid") or None
        if pid != m.extra.get("pid"):
            created = None
            with contextlib.suppress(psutil.Error):
                created = start_time(pid) if pid else None
            m.extra.update(pid=pid, create_time=created)
        m.extra["docker_restarts"] = attrs.get("RestartCount", 0)
        m.extra["paused"] = bool(state.get("Paused"))
        return attrs

    def _startup_timeout(self, m: Managed) -> float:
        """How long the target has to answer its health path: your service's ``startup_timeout``, else the run's."""
        if m.ops is not None:
            return parse_duration(command.runtime(m.spec).get("startup_timeout", STARTUP_TIMEOUT))
        return float(self.spec.get("timeout", 60))

    def _health_url(self, m: Managed, attrs: dict[str, Any]) -> str:
        """Where the supervisor checks the target is up (``attrs``: its container's, for its address)."""
        if m.ops is None:
            return f"{m.extra['internal_url']}/healthz"
        networks = (attrs.get("NetworkSettings") or {}).get("Networks") or {}
        ip = (networks.get(self.network.name) or {}).get("IPAddress") if self.network is not None else None
        return docker_own.health_check_url(m.spec, m.extra["internal_url"], ip or None)

    def _wait_healthy(self, m: Managed, deadline: float) -> None:
        attrs = self._refresh(m)
        url = self._health_url(m, attrs)
        last, exited = "no answer", None
        while time.monotonic() < deadline:
            ok, last = command.healthy(url)
            if ok:
                self._refresh(m)
                return
            attrs = self._refresh(m)
            url = self._health_url(m, attrs)
            state = attrs.get("State", {})
            if state.get("Status") in ("exited", "dead") and not state.get("Restarting"):
                exited = state.get("ExitCode")
                break
            time.sleep(0.1)
        tail = ""
        with contextlib.suppress(Exception):
            tail = self.client.containers.get(m.extra["container_id"]).logs(tail=3).decode(errors="replace")
        said = f": {' | '.join(tail.strip().splitlines())}" if tail.strip() else ""
        if m.ops is None:
            raise EnvironmentProblem(f"{m.name}: container {m.extra['container']} did not answer {url} in time{said}")
        raise docker_own.not_up(m.spec, exited, last, said, self._startup_timeout(m))

    # ------------------------------------------------------------------ control requests
    def _container(self, m: Managed):
        from docker.errors import NotFound

        try:
            return self.client.containers.get(m.extra["container_id"])
        except NotFound:
            return None

    def handle(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        if action == "shutdown":
            self.stop.set()
            return {"ok": True}
        name = body.get("target")
        if name not in self.targets:
            raise KeyError(f"unknown target {name!r}; targets of this run: {', '.join(self.targets)}")
        if action == "ops":  # your own service's ops API (a bundled app answers its own)
            return super().handle(action, body)
        m = self.targets[name]
        reason = body.get("reason", action)
        c = self._container(m)
        if action == "restart":
            if c is None:
                self._recreate(m, reason)
            else:
                if c.status == "running":
                    self._expect(m, "die")
                self._expect(m, "start")
                if c.status == "paused":
                    c.unpause()
                c.restart(timeout=3)
                m.restarts += 1
                m.status = "running"
                self.journal.write("target.restarted", name=m.name, reason=reason, restarts=m.restarts,
                                   container=m.extra["container"])
        elif action == "start":
            if c is None:
                self._recreate(m, reason)
            elif c.status == "paused":
                c.unpause()
                m.status = "running"
            elif c.status != "running":
                self._expect(m, "start")
                c.start()
                m.restarts += 1
                m.status = "running"
                self.journal.write("target.restarted", name=m.name, reason=reason, restarts=m.restarts,
                                   container=m.extra["container"])
        elif action == "stop":
            if c is not None and c.status in ("running", "paused", "restarting"):
                self._expect(m, "die")
                if c.status == "paused":
                    c.unpause()
                c.stop(timeout=3)
            m.status = "stopped"
            self.journal.write("target.stopped", name=m.name, reason=reason, container=m.extra["container"])
        elif action == "memory_limit":
            m.memory_limit = int(body["bytes"]) if body.get("bytes") else None
            if c is not None:
                # the engine cannot lift a limit once set: "no limit" is the engine's whole memory
                limit = m.memory_limit or int(self.client.info()["MemTotal"])
                c.update(mem_limit=limit, memswap_limit=limit)
        elif action == "cpus":
            m.extra["cpus"] = float(body["cpus"]) if body.get("cpus") else None
            if c is not None:
                # as for memory: "no limit" is every CPU of the engine
                nano = int((m.extra["cpus"] or self.client.info()["NCPU"]) * 1e9)
                self.client.api._post_json(self.client.api._url("/containers/{0}/update", c.id),
                                           data={"NanoCpus": nano}).raise_for_status()
        else:
            raise KeyError(f"unknown action {action!r}")
        self._refresh(m)
        self.save()
        return self.snapshot()["targets"][name]

    def _recreate(self, m: Managed, reason: str) -> None:
        """A new container for the target after a remove: same name, port and network."""
        from docker.errors import NotFound

        with contextlib.suppress(NotFound):  # a stopped leftover by the same name
            self.client.containers.get(f"gameday-{self.run_id}-{m.name}").remove(force=True)
        self._expect(m, "start")  # its start event is this one: the status is set here
        self._create(m)
        self._wait_healthy(m, time.monotonic() + self._startup_timeout(m))
        m.status = "running"
        if m.ops is not None:
            m.extra.pop("reapply", None)
            m.ops.reapply()  # a new container: its non-default flags and settings, set again
        else:
            self._apply_initial_state(m)
        m.restarts += 1
        m.extra["recreated"] = m.extra.get("recreated", 0) + 1
        self.journal.write("target.restarted", name=m.name, reason=reason, restarts=m.restarts, recreated=True,
                           container=m.extra["container"], image=m.extra.get("image"))

    def _restart(self, m: Managed, reason: str, counted: bool = True) -> None:
        """Your service as another release (its ops API's restart), blue-green: a container of that release's image
        starts beside the running one; once it answers its health path and has its flags and settings, the front
        proxy and the links switch to it, the old container stops and goes, and the new one takes the target's
        container name. A switch drops no request. A release that does not come up is removed and the old container
        keeps serving; the ops call says why. A service with ``{data}`` runs one container at a time on its data
        volume (a database locks its files): the old one stops first (an outage while the new one starts) and
        starts again when the new one does not come up."""
        keys = ("host_port", "internal_addr", "internal_url", "container", "container_id", "image")
        before, old = {k: m.extra.get(k) for k in keys}, self._container(m)
        exclusive = old is not None and docker_own.uses_data(m.spec)
        if exclusive:
            self._stop_for_switch(m, old)
        port = free_port()
        m.extra.update(host_port=port, internal_addr=f"{HOST}:{port}", internal_url=f"http://{HOST}:{port}")
        try:
            self._expect(m, "start")
            self._create(m, suffix="-next")
            self._wait_healthy(m, time.monotonic() + self._startup_timeout(m))
            if m.ops is not None:
                m.ops.reapply()  # its flags and settings before it takes any traffic
        except GamedayError as exc:
            new = self._container(m) if m.extra.get("container_id") != before["container_id"] else None
            if new is not None:
                self._remove(m, new)
            m.extra.update(before)
            if exclusive:
                self._restore(m, old)
            self._refresh(m)
            self.journal.write("target.crashed", name=m.name, error=str(exc), container=m.extra.get("container"))
            self.save()
            raise EnvironmentProblem(f"{m.name}: {reason} did not come up, {before['image']} keeps serving: "
                                     f"{exc}") from None
        failover.point(self.proxy_client, m, self.links)  # the front proxy and the links, to the new container
        if old is not None:
            old.reload()  # stopped already when exclusive: no 'die' to come
            self._remove(m, old)
        name = f"gameday-{self.run_id}-{m.name}"
        self.client.api.rename(m.extra["container_id"], name)
        m.extra.update(container=name)
        m.extra.pop("reapply", None)
        m.restarts += 1 if counted else 0
        self.journal.write("target.restarted", name=m.name, reason=reason, restarts=m.restarts, recreated=True,
                           container=name, image=m.extra.get("image"))
        self.save()

    def _stop_for_switch(self, m: Managed, old: Any) -> None:
        """Stop the running container of a service with ``{data}`` before its next release starts (gracefully: a
        database shuts down cleanly); a paused one is unpaused first. Its events are ours, not a crash."""
        from docker.errors import APIError

        with contextlib.suppress(APIError):
            if old.status == "paused":
                old.unpause()
            if old.status in ("running", "paused", "restarting"):
                self._expect(m, "die")
                old.stop(timeout=10)

    def _restore(self, m: Managed, old: Any) -> None:
        """The stopped container of a release that stays (its successor did not come up): started again, with its
        flags and settings once it answers."""
        self._expect(m, "start")
        with contextlib.suppress(Exception):
            old.start()
        with contextlib.suppress(GamedayError):
            self._wait_healthy(m, time.monotonic() + self._startup_timeout(m))
            if m.ops is not None:
                m.ops.reapply()

    def _remove(self, m: Managed, c: Any) -> None:
        """Stop (gracefully: in-flight requests finish) and remove one of the target's containers; its events are
        ours, not a crash."""
        from docker.errors import APIError, NotFound

        self._expect(m, *(("die",) if c.status in ("running", "paused", "restarting") else ()), "destroy")
        with contextlib.suppress(NotFound, APIError):
            if c.status == "running":
                c.stop(timeout=3)
        with contextlib.suppress(NotFound):
            c.remove(force=True)

    # ------------------------------------------------------------------ stopping
    def stop_targets(self) -> None:
        """Save each container's log, remove the run's containers and network, close the relays."""
        for m in reversed(list(self.targets.values())):
            c = self._container(m)
            if c is not None:
                collect_logs(c, self._log(m.name))
                with contextlib.suppress(Exception):
                    c.remove(force=True)
                self.journal.write("target.stopped", name=m.name, reason="down", container=m.extra.get("container"))
            m.status = "stopped"
        with contextlib.suppress(Exception):
            if self.network is not None:
                self.network.remove()
        with contextlib.suppress(Exception):  # anything else carrying the label (a half-created container)
            remove_run_resources(self.run_id, self.run_dir, self.client)
        if self._events_stream is not None:
            with contextlib.suppress(Exception):
                self._events_stream.close()
        if self.relay is not None:
            self.relay.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m simulator.targets.backends.docker_supervisor RUN_DIR", file=sys.stderr)
        return 2
    try:
        supervisor = DockerSupervisor(Path(args[0]))
    except GamedayError as exc:
        write_json_atomic(RunDir(args[0]).targets_json, {"status": "failed", "error": str(exc), "targets": {}})
        return exc.exit_code
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
