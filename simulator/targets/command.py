"""Your own service as a target of the local backend: start its command, know it is up, switch releases, pull
its levers.

The supervisor calls ``start`` for a target with ``command:`` where a bundled app would be started with
``start_listening``: a free port on 127.0.0.1 goes into the ``{port}`` placeholders (and ``port_env``), the
command runs in its own process group (dying with the supervisor, like the apps), and the target is up once a
GET of its health path answers 2xx (``health: tcp``: once its port accepts a TCP connection, for a database).
``{data}`` is the target's data folder in the run folder (``RunDir.command_data``): it survives the service's
restarts and is removed with ``remove_data`` when the run's targets stop. A command that exits first, or a
health check that never passes, is one ``EnvironmentProblem`` naming what to fix; the process group is stopped.
A service listening anywhere but loopback is stopped and refused.

``CommandOps`` is the ops API of such a target (``/ops/state``, ``deploy``, ``rollback``, ``flags``,
``config``), answered by the supervisor since the service has none: the ops state is the bundled apps' own
(``OpsState``: release trail, undo, config versions, persisted in the target's state file) over an
``AppInfo`` made from the target's ``releases`` and ``levers``; a change is carried out for real: a release
switch restarts the process with the other variant of the command, a flag or config change is the
service's own admin call (its lever). A restarted process gets the flags and settings that differ from
their defaults again, as the bundled apps keep theirs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from simulator.durations import parse_duration
from simulator.errors import Conflict, EnvironmentProblem, GamedayError, InputError, NotFound
from simulator.http import HTTPError, server_message, shared_client
from simulator.netbind import free_port, is_loopback_ip
from simulator.procs import Child, log_tail, same_process, spawn, start_time, started_since, stop_process, wait_until
from simulator.rundir import RunDir
from simulator.scenario.service import IMPLICIT_RELEASE, PLACEHOLDER, STARTUP_TIMEOUT, TCP_HEALTH, render
from simulator.targets.apps.catalog import AppInfo, ConfigKey, FlagInfo, ReleaseInfo
from simulator.targets.apps.common.state import OpsChange, OpsState

HOST = "127.0.0.1"
#: what a command target is called where a bundled app's name goes (targets.json's ``app``, the stream's)
KIND = "command"
_TYPES = {bool: "bool", int: "int", float: "float", str: "str"}


def is_command(spec: dict[str, Any]) -> bool:
    return bool(spec.get("command"))


def is_container(spec: dict[str, Any]) -> bool:
    """Your own service as a container (``image:`` or ``build:``, the Docker backend's)."""
    return bool(spec.get("image") or spec.get("build"))


def runtime(spec: dict[str, Any]) -> dict[str, Any]:
    """Your own service's runtime block: its ``command``, ``image`` or ``build`` ({} for a bundled app)."""
    return spec.get("command") or spec.get("image") or spec.get("build") or {}


def refuse_on(backend: str, targets: list[dict[str, Any]]) -> None:
    """Your own service runs where its form says: ``command:`` on the local backend, ``image:``/``build:`` on the
    Docker backend. InputError naming the first target that cannot run on ``backend``."""
    for t in targets:
        if backend == "docker" and is_command(t):
            raise InputError(f"target {t['name']}: 'command:' runs on the local backend; for the Docker backend give "
                             f"it 'image:' (an image in the engine) or 'build:' (a Dockerfile context) instead, or "
                             f"run with --backend local")
        if backend == "local" and is_container(t):
            key = "image" if t.get("image") else "build"
            raise InputError(f"target {t['name']}: '{key}:' runs on the Docker backend; run with --backend docker "
                             f"(or give it 'command:' for the local backend)")


def app_info(spec: dict[str, Any]) -> AppInfo:
    """The target as the ops state knows an app: its releases, flags and settings (from its levers)."""
    releases = spec.get("releases") or {IMPLICIT_RELEASE: {"good": True}}
    infos = tuple(ReleaseInfo(name, bool(r.get("good", True)), str(r.get("notes", "")), r.get("fixes"))
                  for name, r in releases.items())
    levers = spec.get("levers") or {}
    flags = {name: FlagInfo(name, bool(lever.get("default", False)), str(lever.get("description", "")))
             for name, lever in (levers.get("flags") or {}).items()}
    config = {name: ConfigKey(name, _TYPES[type(lever["default"])], lever["default"],
                              str(lever.get("description", "")))
              for name, lever in (levers.get("config") or {}).items()}
    good = next(r.version for r in infos if r.good)  # the model holds one good release at least
    return AppInfo(name=spec["name"], tier=spec.get("tier") or "standard", module="", description="your own service",
                   releases=infos, good_release=good, flags=flags, config=config)


def variant(spec: dict[str, Any], release: str) -> tuple[list[str], dict[str, str]]:
    """The argv and env (templates) of ``release``: the command's (or container's), with the release's changes. An
    empty argv: the container runs its image's own command."""
    base = runtime(spec)
    changes = (spec.get("releases") or {}).get(release) or {}
    return list(changes.get("argv") or base.get("argv") or []), {**base.get("env", {}), **changes.get("env", {})}


def fill(text: str, port: int, links: dict[str, str], data: Path | str | None = None, host: str = HOST) -> str:
    """A command's placeholders filled in: {port}, {host}, {python}, {url:DEPENDENCY}, {addr:DEPENDENCY},
    {data} (a container's: its own ``host``, the links as it reaches them and its data folder inside it)."""
    def one(m: Any) -> str:
        name, arg = m.group(1), m.group(2)
        if name == "url":
            return links[arg]
        if name == "addr":
            return links[arg].split("://", 1)[-1].rstrip("/")
        if name == "data" and data is not None:
            return str(data)
        return {"port": str(port), "host": host, "python": sys.executable}.get(name, m.group(0))
    return PLACEHOLDER.sub(one, text)


def health_url(base: str, health: str) -> str:
    """Where a target at ``base`` says it is up: its ``health`` path under ``base``, or ``tcp://HOST:PORT`` for
    ``health: tcp``."""
    return "tcp://" + base.split("://", 1)[-1].rstrip("/") if health == TCP_HEALTH else base + health


def health_path(spec: dict[str, Any]) -> str:
    return runtime(spec).get("health", "/health")


def healthy(url: str) -> tuple[bool, str]:
    """Does a GET of ``url`` answer 2xx (a ``tcp://host:port`` URL: does the port accept a connection)? And,
    when not, what it answered."""
    if url.startswith("tcp://"):
        host, _, port = url[len("tcp://"):].rpartition(":")
        try:
            with socket.create_connection((host, int(port)), timeout=2.0):
                return True, "TCP connection accepted"
        except (OSError, ValueError) as exc:
            return False, f"TCP {type(exc).__name__}"
    try:
        r = shared_client().get(url, timeout=2.0)
    except HTTPError as exc:
        return False, type(exc).__name__
    return 200 <= r.status_code < 300, f"HTTP {r.status_code}"


def start(spec: dict[str, Any], release: str, log: Path, links: dict[str, str], data: Path | None = None,
          cgroup: Path | None = None) -> Child:
    """Start the target's command as ``release`` and wait until its health check passes (``data``: the folder
    ``{data}`` names, created here; ``cgroup``: the CPU-limit group it runs in)."""
    name, command = spec["name"], spec["command"]
    port = free_port(HOST)
    if data is not None:
        data.mkdir(parents=True, exist_ok=True)
    argv_t, env_t = variant(spec, release)
    argv = [fill(a, port, links, data) for a in argv_t]
    env = {**os.environ, **{k: fill(v, port, links, data) for k, v in env_t.items()}}
    if command.get("port_env"):
        env[command["port_env"]] = str(port)
    cwd = command.get("cwd") or None
    with open(log, "ab") as fh:
        fh.write(f"$ {' '.join(argv)}  (release {release}, port {port})\n".encode())
    try:
        proc = spawn(argv, log, env=env, cwd=cwd, die_with_parent=True, process_group=0, cgroup=cgroup)
    except OSError as exc:
        raise EnvironmentProblem(f"target {name}: cannot run {argv[0]!r} ({exc.strerror or exc}); fix "
                                 f"command.argv (the program) or command.cwd ({cwd})") from None
    child = Child(proc, port, start_time(proc.pid))
    url = health_url(f"http://{HOST}:{port}", command.get("health", "/health"))
    last = ["no answer"]

    def up() -> bool:
        ok, last[0] = healthy(url)
        return ok

    timeout = parse_duration(command.get("startup_timeout", STARTUP_TIMEOUT))
    if not wait_until(up, timeout, 0.1, unless=lambda: proc.poll() is not None):
        code = proc.poll()
        stop(child)
        tail = log_tail(log) or "no output"
        if code is not None:
            health = command.get("health", "/health")
            waited = "its port accepted a connection" if health == TCP_HEALTH else f"{health} answered"
            raise EnvironmentProblem(f"target {name}: its command exited with code {code} before "
                                     f"{waited}: {tail} (log: {log}); fix "
                                     f"command.argv/env/cwd so it runs and listens on {{port}}")
        check = f"GET {url} did not answer 2xx" if url.startswith("http") else f"{url} accepted no connection"
        raise EnvironmentProblem(f"target {name}: {check} within {timeout:g}s (last: "
                                 f"{last[0]}); fix command.health, make the service listen on {{port}} "
                                 f"(or port_env), or raise command.startup_timeout (log: {log})")
    wide = exposed(child)
    if wide:
        stop(child)
        raise EnvironmentProblem(f"target {name} listens on {', '.join(wide)}: gameday services bind 127.0.0.1 "
                                 f"only; make it bind {{host}} (127.0.0.1)")
    return child


def group(child: Child) -> list[psutil.Process]:
    """The processes of the target's process group (the command and whatever it started), leader first."""
    out = []
    for p in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error, OSError, TypeError):
            if os.getpgid(p.pid) == child.pid and started_since(p, child.create_time):
                out.append(p)
    return sorted(out, key=lambda p: p.pid != child.pid)


def rss(child: Child) -> int:
    """The resident memory of the command and the processes it started (what its memory limit is held to)."""
    leader = psutil.Process(child.pid)
    total = leader.memory_info().rss
    for p in leader.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def exposed(child: Child) -> list[str]:
    """Addresses the target's processes listen on that are not loopback."""
    wide = []
    for p in group(child):
        with contextlib.suppress(psutil.Error):
            for c in p.net_connections(kind="inet"):
                if c.status == psutil.CONN_LISTEN and not is_loopback_ip(c.laddr.ip):
                    wide.append(f"{c.laddr.ip}:{c.laddr.port}")
    return wide


def stop(child: Child, grace: float = 5.0) -> None:
    """Stop the command and every process it started (its process group), each by pid and start time."""
    members = [(p.pid, start_time(p.pid)) for p in group(child) if _known(p)]
    if child.proc.poll() is None:
        stop_process(child.pid, child.create_time, grace=grace)
    for pid, created in members:
        if pid != child.pid:
            stop_process(pid, created, grace=1.0)
    with contextlib.suppress(Exception):
        child.proc.wait(5)


def stop_leftovers(pgid: Any, create_time: Any) -> bool:
    """After the supervisor is gone: stop what is left of a command's process group (by pid and start time).
    True if anything was running."""
    if not isinstance(pgid, int) or isinstance(pgid, bool) or pgid <= 1 or not isinstance(create_time, float | int):
        return False
    found = False
    for p in psutil.process_iter(["pid"]):
        with contextlib.suppress(psutil.Error, OSError, TypeError):
            if os.getpgid(p.pid) == pgid and started_since(p, create_time):
                found = stop_process(p.pid, start_time(p.pid), grace=2.0) or found
    return found


def remove_data(run_dir: Path, names: Any) -> None:
    """Remove the ``{data}`` folders of the run's command targets ``names`` (once their processes are stopped)."""
    for name in names:
        if isinstance(name, str) and name and "/" not in name and name not in (".", ".."):
            shutil.rmtree(RunDir(run_dir).command_data(name), ignore_errors=True)


def _known(p: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        return same_process(p.pid, start_time(p.pid)) is not None
    return False


class CommandOps:
    """The ops API of a command target (``handle``), over the bundled apps' ``OpsState``.

    ``restart(release)`` restarts the process as that release (the supervisor's); ``base_url()`` is where the
    service answers now (it moves with every restart)."""

    def __init__(self, spec: dict[str, Any], state_file: Path, restart: Callable[[str], None],
                 base_url: Callable[[], str]):
        self.spec = spec
        self.info = app_info(spec)
        self.levers = spec.get("levers") or {}
        self.state = OpsState(self.info, state_file=state_file)
        first = spec.get("release")
        if first and first != self.state.release and len(self.state.snapshot()["history"]) == 1:
            self.state.deploy(first)  # starts as a bad release, as a bundled app deployed one: a rollback undoes it
        self._restart = restart
        self._base_url = base_url
        self.state.subscribe(self._carry_out)

    @property
    def release(self) -> str:
        return self.state.release

    def handle(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "GET" and path == "/ops/state":
            return self.state.snapshot()
        if method != "POST":
            raise InputError(f"{method} {path}: the ops API takes GET /ops/state and POST to the levers")
        if path == "/ops/deploy":
            return self.state.deploy(str(body.get("version", "")))
        if path == "/ops/rollback":
            return self.state.rollback(body.get("what"))
        if path == "/ops/flags":
            value = body.get("value")
            if not isinstance(value, bool):
                raise InputError(f"flag value must be true or false, got {value!r}")
            return self.state.set_flag(str(body.get("name", "")), value)
        if path == "/ops/config":
            return self.state.push_config(body.get("values") or {}, good=bool(body.get("good", True)))
        raise InputError(f"unknown ops call {path!r}; the ops API: /ops/state, /ops/deploy, /ops/rollback, "
                         f"/ops/flags, /ops/config")

    def _carry_out(self, change: OpsChange) -> None:
        if change.release_changed:
            self._restart(self.state.release)  # the restart sets the flags and settings again
            return
        if change.flags_changed:
            for name, value in self.state.flags.items():
                self._pull("flags", name, value)
        if change.config_changed:
            old = change.old_config or {}
            for name, value in self.state.config.items():
                if old.get(name) != value:
                    self._pull("config", name, value)

    def reapply(self) -> None:
        """After a (re)start: the flags and settings that differ from the service's defaults, set again."""
        for name, value in self.state.flags.items():
            if value != self.info.flags[name].default:
                self._pull("flags", name, value)
        for name, value in self.state.config.items():
            if value != self.info.config[name].default:
                self._pull("config", name, value)

    def _pull(self, kind: str, name: str, value: Any) -> None:
        """One admin call of the service: the lever for flag or setting ``name``."""
        lever = self.levers[kind][name]
        path = render(lever["path"], name, value, as_json=False)
        body = render(lever["body"], name, value, as_json=True) if lever.get("body") else None
        url = self._base_url() + path
        try:
            r = shared_client().request(lever.get("method", "POST"), url, content=body, timeout=10.0,
                                        headers={"Content-Type": "application/json"} if body else None)
        except HTTPError as exc:
            raise EnvironmentProblem(f"{self.spec['name']}: lever {kind}.{name} ({lever.get('method', 'POST')} "
                                     f"{path}) got no answer ({type(exc).__name__})") from None
        if not 200 <= r.status_code < 300:
            raise EnvironmentProblem(f"{self.spec['name']}: lever {kind}.{name} ({lever.get('method', 'POST')} "
                                     f"{path}) answered {r.status_code}: {server_message(r)}")


def http_status(exc: BaseException) -> int:
    """The status the supervisor's ops API answers a failed ops call with (as a bundled app's would)."""
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, InputError):
        return 422
    if isinstance(exc, GamedayError):
        return 503
    return 500

