"""A run's targets as the rest of gameday sees them: read from ``RUN_DIR/targets.json``.

The backend writes that file; faults, ops, the monitor and ``gameday targets status`` read it.
Only targets listed here -- ones a gameday run started -- can be faulted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.errors import EnvironmentProblem, InputError, NotFound, SafetyViolation
from simulator.http import json_body, send, server_message
from simulator.procs import same_process
from simulator.rundir import RunDir
from simulator.targets.command import health_url


@dataclass(frozen=True)
class TargetInfo:
    name: str
    app: str
    tier: str
    status: str
    url: str | None
    internal_url: str | None
    pid: int | None
    create_time: float | None
    restarts: int = 0
    oom_kills: int = 0
    memory_limit: int | None = None
    depends_on: tuple[str, ...] = ()
    container: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def ops_url(self) -> str:
        """Ops calls go straight to the service, not through its (possibly faulted) front proxy; your own service's
        (a command target) to the ops API the supervisor answers for it."""
        url = self.raw.get("ops_url") or self.internal_url or self.url
        if not url:
            raise EnvironmentProblem(f"target {self.name} has no URL (status {self.status})")
        return url

    @property
    def health_url(self) -> str | None:
        """Where a GET answers 2xx while the target is up (through its front proxy); ``tcp://HOST:PORT`` for your
        own service with ``health: tcp`` (its port accepts a connection while it is up)."""
        return health_url(self.url, self.raw.get("health_path", "/healthz")) if self.url else None

    @property
    def standby(self) -> dict[str, Any] | None:
        """The target's standby instance (``targets[].standby``: status, pid, its own ``url``), None without one."""
        return self.raw.get("standby")

    @property
    def serving(self) -> str:
        """Which instance the target's proxies send traffic to: ``primary`` or ``standby`` (``ops failover``)."""
        return self.raw.get("serving", "primary")

    @property
    def standby_health_url(self) -> str | None:
        """The standby's health URL (straight to it: its front proxy is the target's, serving the primary)."""
        url = (self.standby or {}).get("url")
        return health_url(url, self.raw.get("health_path", "/healthz")) if url else None

    @property
    def metrics_url(self) -> str | None:
        """Where the monitor scrapes the target's Prometheus metrics (through its front proxy); None when it has
        none (a command target without ``metrics:``)."""
        path = self.raw.get("metrics_path", "/metrics")
        return self.url + path if self.url and path else None


@dataclass
class TargetsView:
    run_dir: Path
    data: dict[str, Any]

    @classmethod
    def load(cls, run_dir: Path) -> TargetsView:
        path = RunDir(run_dir).targets_json
        if not path.exists():
            raise NotFound(f"{run_dir}: no targets.json (no targets were started for this run)")
        return cls(Path(run_dir), RunDir(run_dir).targets_state())

    def refresh(self) -> TargetsView:
        self.data = RunDir(self.run_dir).targets_state()
        return self

    def _current(self) -> dict[str, Any]:
        """The backend rewrites targets.json on every change (a restart moves a target to a new port):
        re-read it when it changed, so nobody calls a port that is gone."""
        path = RunDir(self.run_dir).targets_json
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            return self.data
        if stamp != getattr(self, "_stamp", None):
            try:
                self.data = RunDir(self.run_dir).targets_state()
                self._stamp = stamp
            except ValueError:  # caught mid-write by another process: keep what we had
                pass
        return self.data

    @property
    def run_id(self) -> str:
        return self.data["run_id"]

    @property
    def backend(self) -> str:
        return self.data.get("backend", "local")

    @property
    def status(self) -> str:
        return self.data.get("status", "unknown")

    def alive(self) -> bool:
        """Is the backend process that keeps these targets still running?"""
        sup = self.data.get("supervisor") or {}
        if not sup.get("pid"):
            return self.backend != "local"
        return same_process(sup["pid"], sup.get("create_time")) is not None

    @property
    def names(self) -> list[str]:
        return list(self.data.get("targets", {}))

    @property
    def links(self) -> dict[str, dict[str, Any]]:
        return self.data.get("links", {})

    def targets(self) -> list[TargetInfo]:
        return [self.target(n) for n in self.names]

    def target(self, name: str) -> TargetInfo:
        t = self._current().get("targets", {}).get(name)
        if t is None:
            raise SafetyViolation(f"target {name!r} was not started by run {self.run_id}; "
                                  f"its targets: {', '.join(self.names) or 'none'}")
        return TargetInfo(name=name, app=t["app"], tier=t["tier"], status=t["status"], url=t.get("url"),
                          internal_url=t.get("internal_url"), pid=t.get("pid"), create_time=t.get("create_time"),
                          restarts=t.get("restarts", 0), oom_kills=t.get("oom_kills", 0),
                          memory_limit=t.get("memory_limit"), depends_on=tuple(t.get("depends_on", [])),
                          container=t.get("container"), raw=t)

    def proxy_name(self, target: str) -> str:
        """The proxy a network fault on ``target`` goes to: its front proxy, or a link 'a->b'."""
        if target in self.links:
            return self.links[target]["proxy"]
        if target in self.names:
            return target
        raise SafetyViolation(f"{target!r} is neither a target nor a link of run {self.run_id}; "
                              f"targets: {', '.join(self.names)}; links: {', '.join(self.links) or 'none'}")

    @property
    def proxy_url(self) -> str:
        url = (self.data.get("proxy") or {}).get("url")
        if not url:
            raise EnvironmentProblem(f"run {self.run_id} has no fault proxy running")
        return url

    def supervisor(self, action: str, **body: Any) -> dict[str, Any]:
        """Ask the backend's supervisor to act on a target (restart, start, stop, memory_limit)."""
        url = (self.data.get("supervisor") or {}).get("url")
        if not url:
            raise EnvironmentProblem(f"run {self.run_id} has no supervisor; is it still up? "
                                     f"('gameday targets status')")
        r = send("POST", f"{url}/{action}", json=body, timeout=70,
                 unreachable=lambda exc: f"the supervisor of run {self.run_id} at {url} is unreachable ({exc}); "
                                         f"run 'gameday cleanup --run {self.run_id}'")
        if r.status_code == 404:
            raise NotFound((json_body(r) or {}).get("error", "not found"))
        if r.status_code != 200:
            raise EnvironmentProblem(f"supervisor: {server_message(r)}")
        return r.json()

    def ops(self, target: str, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call ``target``'s ops API (``/ops/...``, straight to the service): what the ops console's levers and
        the app faults both do. 409/422 are ``InputError`` (the service's message); other failures
        ``EnvironmentProblem``."""
        url = self.target(target).ops_url + path
        r = send(method, url, json=body, timeout=30,
                 unreachable=lambda exc: f"{target}: ops API unreachable at {url} ({exc})")
        if r.status_code in (409, 422):
            raise InputError(f"{target}: {server_message(r)}")
        if r.status_code >= 400:
            raise EnvironmentProblem(f"{target}: {method} {path} answered {r.status_code}: {server_message(r)}")
        return r.json()
