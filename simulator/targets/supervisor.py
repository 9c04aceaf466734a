"""The local backend's supervisor: a detached process that keeps a run's targets alive.

``python -m simulator.targets.supervisor RUN_DIR`` reads ``RUN_DIR/targets.spec.json`` and:

* starts the fault proxy (``python -m simulator.proxy``), then each target in
  dependency order as ``python -m simulator.targets.apps.<app>`` on a free 127.0.0.1 port, or, for your
  own service (``command:``), its command (``simulator.targets.command``: placeholders, health path, its
  ops API answered here under ``/targets/<name>/ops/...``, releases and levers carried out for real);
* puts a *front proxy* named after the target in front of each one (the target's public URL),
  and a *link proxy* ``a->b`` on each dependency edge (what ``a`` calls to reach ``b``), so
  network faults can hit a service or one of its dependencies;
* starts a *standby* beside a target that declares one and answers ``failover`` (``simulator.targets.failover``:
  the front proxy and a route proxy on each link to it switch to the standby or back);
* restarts crashed targets per their restart policy, OOM-kills a target whose RSS passes its
  memory limit (then restarts it), and journals every start, crash and restart;
* answers a small control API on 127.0.0.1 (restart, start, stop, set memory limit, shutdown);
* writes ``RUN_DIR/targets.json`` atomically on every change: what ``gameday targets status``,
  the fault library and the monitor read.

The children die with the supervisor (PR_SET_PDEATHSIG), so even a ``kill -9`` of the
supervisor leaves no orphan; ``gameday cleanup`` handles the rest from the files.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil

from simulator.durations import parse_duration
from simulator.errors import EnvironmentProblem, GamedayError
from simulator.http import http_client
from simulator.journal import Journal
from simulator.procs import Child, start_listening, start_time, stop_process
from simulator.proxy.client import ProxyClient
from simulator.proxy.process import control_url, start_proxy
from simulator.rundir import RunDir
from simulator.runs import read_json, write_json_atomic
from simulator.targets import command, cpulimit, failover
from simulator.targets.apps import APPS
from simulator.targets.apps.common.clock import time_scale_env
from simulator.targets.order import topo_order

HOST = "127.0.0.1"
TICK = 0.2


@dataclass
class Managed:
    spec: dict[str, Any]
    child: Child | None = None
    status: str = "starting"  # starting, running, crashed, stopped, failed
    restarts: int = 0
    oom_kills: int = 0
    last_exit: dict[str, Any] | None = None
    memory_limit: int | None = None
    restart_at: float | None = None
    stopped_on_purpose: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    #: a command target's ops API (None for a bundled app, which answers its own)
    ops: command.CommandOps | None = None
    #: the target's standby instance (``targets[].standby``), itself a Managed named ``<name>.standby``
    standby: Managed | None = None

    @property
    def name(self) -> str:
        return self.spec["name"]

    @property
    def owner(self) -> str:  # the target this instance is: its own name, or for a standby the primary's
        return self.spec.get("standby_of") or self.name


class Supervisor:
    #: which address of a dependency link a target is configured with (a container reaches it elsewhere)
    link_url_key = "url"

    def __init__(self, run_dir: Path):
        self.run_dir = run_dir
        self.folder = RunDir(run_dir)
        self.spec = read_json(self.folder.targets_spec)
        self.run_id: str = self.spec["run_id"]
        self.journal = Journal(self.folder.journal)
        self.targets: dict[str, Managed] = {}
        self.links: dict[str, dict[str, Any]] = {}
        self.proxy: Child | None = None
        self.proxy_client: ProxyClient | None = None
        self.requests: queue.Queue[tuple[str, dict[str, Any], Future]] = queue.Queue()
        self.stop = threading.Event()
        self.status = "starting"
        self.error: str | None = None
        self.control: ThreadingHTTPServer | None = None
        self.cpu = cpulimit.Groups(self.run_id)  # targets[].cpus: the kernel's CPU limit for their processes

    # ------------------------------------------------------------------ state file
    def snapshot(self) -> dict[str, Any]:
        targets = {}
        for m in self.targets.values():
            app = m.ops.info if m.ops is not None else APPS[m.spec["app"]]
            targets[m.name] = {
                "name": m.name, "app": m.spec.get("app") or command.KIND, "tier": m.spec.get("tier") or app.tier,
                "status": m.status, "url": m.extra.get("url"), "internal_url": m.extra.get("internal_url"),
                "pid": m.child.pid if m.child else None,
                "create_time": m.child.create_time if m.child else None,
                "restarts": m.restarts, "oom_kills": m.oom_kills, "last_exit": m.last_exit,
                "memory_limit": m.memory_limit, "cpus": self.cpu.limits.get(m.name, m.spec.get("cpus")),
                "depends_on": m.spec.get("depends_on", []),
                "state_file": str(self._state_file(m.name)), "log": str(self._log(m.name)),
            }
            if m.standby is not None:
                targets[m.name].update(serving=m.extra.get("serving", "primary"),
                                       standby=failover.entry(m.standby, self._log(m.standby.name)))
            if m.ops is not None:
                cmd = command.runtime(m.spec)
                targets[m.name].update({
                    "ops_url": f"http://{HOST}:{self.control.server_address[1]}/targets/{m.name}"
                    if self.control else None, "health_path": cmd.get("health", "/health"),
                    "metrics_path": cmd.get("metrics"), "pgid": m.child.pid if m.child else None})
        return {
            "run_id": self.run_id, "backend": "local", "status": self.status, "error": self.error,
            "updated": time.time(),
            "supervisor": {"pid": os.getpid(), "create_time": start_time(os.getpid()),
                           "url": f"http://{HOST}:{self.control.server_address[1]}" if self.control else None},
            "proxy": {"pid": self.proxy.pid if self.proxy else None,
                      "create_time": self.proxy.create_time if self.proxy else None,
                      "url": control_url(self.proxy) if self.proxy else None},
            "targets": targets, "links": self.links,
        }

    def save(self) -> None:
        write_json_atomic(self.folder.targets_json, self.snapshot())

    def _state_file(self, name: str) -> Path:
        return self.folder.target_state(name)

    def _log(self, name: str) -> Path:
        return self.folder.log(name)

    # ------------------------------------------------------------------ starting
    def start_all(self) -> None:
        self.proxy = start_proxy(self._log("proxy"), seed=self.spec.get("seed", 0))
        self.proxy_client = ProxyClient(control_url(self.proxy))
        for spec in topo_order(self.spec["targets"]):
            m = Managed(spec, memory_limit=spec.get("memory_limit"))
            self.targets[m.name] = m
            if command.is_command(spec):
                m.ops = self._command_ops(m)
            for dep in spec.get("depends_on", []):
                d = self.targets[dep]
                self.links[f"{m.name}->{dep}"] = failover.create_link(
                    self.proxy_client, m.name, dep, d.extra["internal_addr"],
                    d.standby.extra["internal_addr"] if d.standby else None)
            self._spawn(m)
            info = self.proxy_client.create_proxy(m.name, f"{HOST}:0", m.extra["internal_addr"])
            m.extra["url"] = f"http://{HOST}:{info.listen_port}"
            self._apply_initial_state(m)
            self.journal.write("target.started", name=m.name, app=spec.get("app") or command.KIND,
                               url=m.extra["url"], pid=m.child.pid if m.child else None)
            if spec.get("standby"):
                self._start_standby(m)
            self.save()
        self.status = "ready"
        self.save()

    def _start_standby(self, m: Managed) -> None:
        """Start ``m``'s standby: the same app or command on its own port, reaching the same dependencies."""
        s = Managed(failover.standby_spec(m.spec), memory_limit=m.memory_limit)
        m.standby = s
        self.folder.target_data(s.name).mkdir(parents=True, exist_ok=True)  # its own ops state file
        if m.ops is not None:
            s.ops = self._command_ops(s)
        self._spawn(s)
        self._apply_initial_state(s)
        self.journal.write("target.started", name=s.name, app=m.spec.get("app") or command.KIND,
                           url=s.extra["internal_url"], pid=s.child.pid if s.child else None, standby_of=m.name)

    def instances(self) -> list[Managed]:
        """Every process the supervisor keeps: each target and its standby."""
        return [i for m in self.targets.values() for i in (m, m.standby) if i is not None]

    def _config_for(self, m: Managed) -> dict[str, Any]:
        config = dict(m.spec.get("config") or {})
        app = APPS[m.spec["app"]]
        for dep in app.dependencies:
            targets = [d for d in m.spec.get("depends_on", []) if self.targets[d].spec["app"] == dep.upstream]
            if targets:
                config[dep.config_key] = self.links[f"{m.owner}->{targets[0]}"][self.link_url_key]
        return config

    def time_scale(self, m: Managed) -> float:
        """The game seconds per wall second the target's physics run at: its own (shared targets of a drill
        whose parts run at different speeds), else the run's, else 1."""
        return float(m.spec.get("time_scale") or self.spec.get("time_scale") or 1.0)

    def _command_ops(self, m: Managed) -> command.CommandOps:
        """A command target's ops API: the ops state in its state file; a release switch restarts it."""
        self.folder.target_data(m.name).mkdir(parents=True, exist_ok=True)

        def restart(release: str) -> None:
            self._restart(m, reason=f"release {release}", counted=False)
            if m.status != "running":
                why = (m.last_exit or {}).get("error", "see its log")
                raise EnvironmentProblem(f"{m.name}: release {release} did not start: {why} (log: {self._log(m.name)})")

        return command.CommandOps(m.spec, self._state_file(m.name), restart, lambda: m.extra["internal_url"])

    def _spawn(self, m: Managed) -> None:
        if m.ops is not None:
            links = {dep: self.links[f"{m.owner}->{dep}"]["url"] for dep in m.spec.get("depends_on", [])}
            m.child = command.start(m.spec, m.ops.release, self._log(m.name), links, self.folder.command_data(m.name),
                                    cgroup=self.cpu.leaf(m.name, m.spec.get("cpus")))
        else:
            app = APPS[m.spec["app"]]
            data_dir = self.folder.target_data(m.owner)  # a standby shares its primary's data (its database)
            data_dir.mkdir(parents=True, exist_ok=True)
            args = ["-m", app.module, "--port", "0", "--state-file", str(self._state_file(m.name)),
                    "--data-dir", str(data_dir), "--config", json.dumps(self._config_for(m))]
            m.child = start_listening(args, self._log(m.name), env=time_scale_env(self.time_scale(m)),
                                      cgroup=self.cpu.leaf(m.name, m.spec.get("cpus")))
        m.status = "running"
        m.extra["internal_addr"] = f"{HOST}:{m.child.port}"
        m.extra["internal_url"] = f"http://{HOST}:{m.child.port}"
        primary = self.targets[m.owner]
        if "url" in primary.extra and self.proxy_client:  # a restart: point the proxies at the new port
            failover.point(self.proxy_client, primary, self.links)
        if m.ops is not None:
            m.ops.reapply()  # a new process: its flags and settings, set again through its levers

    def _stop_child(self, m: Managed, grace: float) -> None:
        """Stop the target's process (a command's whole process group) and reap it."""
        if m.child is None:
            return
        if m.ops is not None:
            command.stop(m.child, grace=grace)
        elif m.child.proc.poll() is None:
            stop_process(m.child.pid, m.child.create_time, grace=grace)
            m.child.proc.wait(5)

    def _apply_initial_state(self, m: Managed) -> None:
        if m.ops is not None:
            for name, value in (m.spec.get("flags") or {}).items():
                m.ops.state.set_flag(name, value)
            return
        app = APPS[m.spec["app"]]
        base = m.extra["internal_url"]
        with http_client(timeout=10) as client:
            release = m.spec.get("release")
            if release and release != app.good_release:
                client.post(f"{base}/ops/deploy", json={"version": release}).raise_for_status()
            for name, value in (m.spec.get("flags") or {}).items():
                client.post(f"{base}/ops/flags", json={"name": name, "value": value}).raise_for_status()

    # ------------------------------------------------------------------ watching
    def check(self) -> None:
        now = time.monotonic()
        changed = False
        for m in self.instances():
            if m.child is not None and m.status == "running":
                code = m.child.proc.poll()
                if code is None and m.memory_limit:
                    try:
                        rss = command.rss(m.child) if m.ops else psutil.Process(m.child.pid).memory_info().rss
                    except psutil.NoSuchProcess:
                        rss = 0
                    if rss > m.memory_limit:
                        m.child.proc.kill()
                        m.child.proc.wait(5)
                        m.oom_kills += 1
                        self._crashed(m, -signal.SIGKILL, oom=True, rss=rss)
                        changed = True
                        continue
                if code is not None:
                    self._crashed(m, code, oom=False)
                    changed = True
            if m.status == "crashed" and m.restart_at is not None and now >= m.restart_at:
                self._restart(m, reason="policy")
                changed = True
        if changed:
            self.save()

    def _crashed(self, m: Managed, code: int, oom: bool, rss: int | None = None) -> None:
        if m.ops is not None and m.child is not None:
            command.stop(m.child, grace=1.0)  # whatever the command had started goes with it
        sig = -code if code < 0 else None
        m.last_exit = {"code": code, "signal": signal.Signals(sig).name if sig else None, "oom_killed": oom,
                       "at": time.time()}
        self.journal.write("target.crashed", name=m.name, exit_code=code, signal=m.last_exit["signal"],
                           oom_killed=oom, rss_bytes=rss, memory_limit=m.memory_limit)
        policy = m.spec.get("restart") or {}
        kind = policy.get("policy", "on-failure")
        wants = kind == "always" or (kind == "on-failure" and code != 0)
        if wants and m.restarts < policy.get("max_restarts", 5):
            m.status = "crashed"
            # the spec carries the scenario's Duration as dumped ("1s"), or seconds
            m.restart_at = time.monotonic() + parse_duration(policy.get("backoff", 1.0))
        else:
            m.status = "stopped" if code == 0 else "failed"
            m.restart_at = None

    def _restart(self, m: Managed, reason: str, counted: bool = True) -> None:
        """Stop and start the target again; ``counted=False`` for a command target's release switch (a deploy,
        not a restart its restart policy's ``max_restarts`` counts)."""
        old = m.child.pid if m.child else None
        self._stop_child(m, grace=3.0)
        m.restart_at = None
        try:
            self._spawn(m)
        except GamedayError as exc:
            m.status = "failed"
            m.last_exit = {**(m.last_exit or {}), "error": str(exc)}
            self.journal.write("target.crashed", name=m.name, error=str(exc))
            return
        m.restarts += 1 if counted else 0
        self.journal.write("target.restarted", name=m.name, reason=reason, old_pid=old, pid=m.child.pid,
                           restarts=m.restarts)

    # ------------------------------------------------------------------ control requests
    def handle(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        if action == "shutdown":
            self.stop.set()
            return {"ok": True}
        name = body.get("target")
        if name not in self.targets:
            raise KeyError(f"unknown target {name!r}; targets of this run: {', '.join(self.targets)}")
        m = self.targets[name]
        if action == "ops":
            if m.ops is None:
                raise KeyError(f"target {name!r} answers its own ops API (a bundled app)")
            result = m.ops.handle(body.get("method", "GET"), body.get("path", ""), body.get("body") or {})
            self.save()
            return result
        if action == "restart":
            self._restart(m, reason=body.get("reason", "ops"))
        elif action == "start":
            if m.status != "running":
                self._restart(m, reason=body.get("reason", "start"))
        elif action == "stop":
            self._stop_child(m, grace=3.0)
            m.status = "stopped"
            m.restart_at = None
            self.journal.write("target.stopped", name=m.name, reason=body.get("reason", "ops"))
        elif action == "memory_limit":
            m.memory_limit = int(body["bytes"]) if body.get("bytes") else None
            if m.standby is not None:  # added resources are the service's: both instances
                m.standby.memory_limit = m.memory_limit
        elif action == "cpus":  # added resources are the service's: both instances
            for i in (m, m.standby) if m.standby is not None else (m,):
                pids = sorted({i.child.pid, *(p.pid for p in command.group(i.child))}) if i.child is not None else []
                self.cpu.set(i.name, float(body["cpus"]) if body.get("cpus") else None, pids)
        elif action == "failover":  # the front proxy and the links' routes to the side named (checked first)
            side = str(body.get("to") or "standby")
            to, before = failover.switch(m, side), m.extra.get("serving", "primary")
            m.extra["serving"] = side
            assert self.proxy_client is not None
            done = {"serving": side, "before": before, "instance": to.name,
                    "links_routed": failover.point(self.proxy_client, m, self.links)}
            self.save()
            return {**self.snapshot()["targets"][name], "failover": done}
        else:
            raise KeyError(f"unknown action {action!r}")
        self.save()
        return self.snapshot()["targets"][name]

    def serve_control(self) -> None:
        supervisor = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _send(self, code: int, data: Any) -> None:
                body = json.dumps(data).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                if self.path.startswith("/targets/"):
                    self._ask(*_ops_request("GET", self.path, {}))
                    return
                self._send(200, supervisor.snapshot())

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    self._send(422, {"error": "body is not JSON"})
                    return
                if self.path.startswith("/targets/"):
                    self._ask(*_ops_request("POST", self.path, body))
                    return
                self._ask(self.path.strip("/"), body)

            def _ask(self, action: str, body: dict[str, Any]) -> None:
                """Hand the request to the main loop and answer with what it did."""
                future: Future = Future()
                supervisor.requests.put((action, body, future))
                try:
                    self._send(200, future.result(timeout=60))
                except KeyError as exc:
                    self._send(404, {"error": str(exc.args[0])})
                except GamedayError as exc:  # a command target's ops API answers as a bundled app's does
                    self._send(command.http_status(exc), {"error": str(exc)})
                except Exception as exc:  # noqa: BLE001 - reported to the caller, supervisor keeps going
                    self._send(500, {"error": f"{type(exc).__name__}: {exc}"})

        self.control = ThreadingHTTPServer((HOST, 0), Handler)
        self.control.daemon_threads = True
        threading.Thread(target=self.control.serve_forever, daemon=True).start()

    # ------------------------------------------------------------------ main loop
    def run(self) -> int:
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        signal.signal(signal.SIGINT, lambda *_: self.stop.set())
        self.serve_control()
        try:
            self.start_all()
        except Exception as exc:  # noqa: BLE001 - recorded in targets.json for the waiting CLI
            self.status = "failed"
            self.error = str(exc) if isinstance(exc, GamedayError) else f"{type(exc).__name__}: {exc}"
            self.save()
            self.shutdown()
            return 3
        while not self.stop.is_set():
            try:
                action, body, future = self.requests.get(timeout=TICK)
                try:
                    future.set_result(self.handle(action, body))
                except Exception as exc:  # noqa: BLE001
                    future.set_exception(exc)
            except queue.Empty:
                pass
            try:
                self.check()
            except Exception as exc:  # noqa: BLE001 - a bug in one check must not take every target down
                print(f"supervisor: check failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        self.shutdown()
        return 0

    def shutdown(self) -> None:
        self.stop_targets()
        self.cpu.close()
        if self.proxy is not None:
            stop_process(self.proxy.pid, self.proxy.create_time, grace=3.0)
        if self.status != "failed":
            self.status = "stopped"
        self.save()
        if self.control is not None:
            self.control.shutdown()
        self.journal.close()

    def stop_targets(self) -> None:
        """Stop every target, dependents first (the backend-specific part of shutdown)."""
        for m in reversed(self.instances()):
            if m.child is not None and m.child.proc.poll() is None:
                self._stop_child(m, grace=5.0)
                self.journal.write("target.stopped", name=m.name, reason="down")
            m.status = "stopped"


def _ops_request(method: str, path: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``/targets/<name>/ops/...`` -> the main loop's ``ops`` action for that target."""
    _, _, name, *rest = path.split("?", 1)[0].split("/")
    return "ops", {"target": name, "method": method, "path": "/" + "/".join(rest), "body": body}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m simulator.targets.supervisor RUN_DIR", file=sys.stderr)
        return 2
    return Supervisor(Path(args[0])).run()


if __name__ == "__main__":
    sys.exit(main())
