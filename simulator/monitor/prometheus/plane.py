"""The Prometheus + Alertmanager monitoring plane: a real Prometheus evaluates the rules, a real Alertmanager
routes the alerts into the run's tracker.

``Plane.start()`` (from the runner's thread, so both servers die with it: ``PR_SET_PDEATHSIG``):

1. starts the gameday exporter (:mod:`.exporter`: the load generator's figures, process figures, trend
   baselines) on 127.0.0.1;
2. writes, in the run folder's ``prometheus/``: the scenario's rules exported exactly as ``gameday rules
   export`` writes them (at the run's time scale, evaluated every monitor interval), the team's own rule files
   (``prometheus_rules``, ``--rules``), ``prometheus.yml`` (scrape every target's ``/metrics`` with
   ``service="<target>"`` and the exporter, every interval; ``run_id`` as an external label; Alertmanager) and
   ``alertmanager.yml`` (one route, grouped as the embedded sender groups, to the tracker's Alertmanager
   endpoint and any extra receivers, resolved alerts too);
   Prometheus scrapes and evaluates twice per monitor interval (``Plane.every``).
3. starts Alertmanager (``--cluster.listen-address=`` so it runs alone) and Prometheus on free loopback ports,
   waits until both are ready and Prometheus has loaded every rule group.

Each interval the monitor calls :meth:`Plane.poll`: Prometheus' ``/api/v1/alerts``, compared with the last
poll, gives the alerts' transitions (pending, firing, resolved) on the game clock, journaled like the embedded
engine's. The firing moment is Prometheus' ``activeAt`` plus the rule's ``for`` (what Prometheus itself
compares); a resolution is seen at the first poll without the alert.

A missing binary is exit 3 with the install line; neither server ever binds anything but 127.0.0.1, and every
receiver must be a loopback URL.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil
import yaml

from simulator.bounded import load_json
from simulator.errors import EnvironmentProblem, SafetyViolation
from simulator.http import http_client
from simulator.journal import Journal
from simulator.monitor.engine import AlertState, AlertStatus, Transition, fingerprint
from simulator.monitor.prometheus.compile import Clock
from simulator.monitor.prometheus.export import render, rule_file
from simulator.monitor.prometheus.exporter import HOST, Exporter
from simulator.monitor.prometheus.signals import duration
from simulator.monitor.prometheus.userrules import RuleFiles
from simulator.monitor.scrape import metrics_url
from simulator.monitor.webhook import DEFAULT_GROUP_BY
from simulator.netbind import free_port, loopback_only
from simulator.procs import spawn, start_time, stop_process, wait_until
from simulator.rundir import RunDir
from simulator.runs import write_json_atomic
from simulator.scenario.model import Scenario

INSTALL = "apt-get install prometheus prometheus-alertmanager"
PROMETHEUS = ("prometheus",)
ALERTMANAGER = ("prometheus-alertmanager", "alertmanager")  # Debian's name, upstream's
#: policy default: how long the two servers get to become ready (and Prometheus to load its rules)
READY_SECONDS = 60.0
SCENARIO_RULES = "gameday.rules.yml"


def binary(names: Sequence[str], what: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise EnvironmentProblem(f"--monitor prometheus needs {what}, which is not installed: {INSTALL}")


def require() -> tuple[str, str]:
    """Both servers' executables, or exit 3 with the install line (said before anything starts)."""
    return binary(PROMETHEUS, "Prometheus"), binary(ALERTMANAGER, "Alertmanager")


@dataclass(frozen=True)
class RuleSource:
    """One rule file the plane loads: where it came from (``scenario``: exported from the scenario's rules;
    ``user``: the team's own) and its alerting rules (group, name)."""

    path: Path
    origin: str
    rules: tuple[tuple[str, str], ...]


def alert_names(data: Any) -> tuple[tuple[str, str], ...]:
    """A rule file's alerting rules as (group, alert) pairs (recording rules are not alerts)."""
    out: list[tuple[str, str]] = []
    for group in (data or {}).get("groups") or []:
        for rule in group.get("rules") or []:
            if isinstance(rule, dict) and rule.get("alert"):
                out.append((str(group.get("name", "")), str(rule["alert"])))
    return tuple(out)


_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(text: str | None) -> float | None:
    """Prometheus' RFC 3339 time (nanoseconds, ``Z``) as Unix seconds; ``None`` for Go's zero time."""
    if not text or text.startswith("0001-"):
        return None
    with contextlib.suppress(ValueError):
        return datetime.fromisoformat(_FRACTION.sub(r"\1", text).replace("Z", "+00:00")).timestamp()
    return None


@dataclass
class _Seen:
    labels: dict[str, str]
    annotations: dict[str, str]
    state: AlertState
    value: float | None
    active_wall: float | None
    fired_wall: float | None = None
    for_: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class Plane:
    def __init__(self, run_dir: Path, scenario: Scenario, targets: Mapping[str, str | None], *, run_id: str,
                 time_scale: float, interval: float, receivers: Sequence[str], journal: Journal | None = None,
                 user_rules: RuleFiles | None = None):
        for url in receivers:
            host = urlsplit(url).hostname or ""
            if not loopback_only(host):
                raise SafetyViolation(f"alert receiver {url!r}: Alertmanager sends only to loopback addresses "
                                      "(127.0.0.1)")
        self.folder = RunDir(run_dir).plane
        self.scenario, self.targets, self.run_id = scenario, dict(targets), run_id
        self.time_scale, self.interval = time_scale, interval
        self.receivers = list(receivers)
        self.journal = journal
        self.user_rules = user_rules or RuleFiles()  # validated (userrules.load_team_rules) before anything starts
        self.exporter = Exporter(self.targets)
        self.prometheus_url = self.alertmanager_url = ""
        self.sources: list[RuleSource] = []
        self._procs: dict[str, Any] = {}
        self._started: dict[str, dict[str, float]] = {}
        self._client = http_client(timeout=2.0)
        self._seen: dict[str, _Seen] = {}
        self._for: dict[str, float] = {}
        self.errors: deque[str] = deque(maxlen=100)  # the latest polls that failed (Prometheus gone, a timeout)

    # ---- start
    def start(self) -> None:
        prometheus, alertmanager = require()
        self.folder.mkdir(parents=True, exist_ok=True)
        export_port = self.exporter.start()
        am_port, prom_port = free_port(HOST), free_port(HOST)
        self.alertmanager_url, self.prometheus_url = f"http://{HOST}:{am_port}", f"http://{HOST}:{prom_port}"
        rule_paths = self._write_rules()
        (self.folder / "alertmanager.yml").write_text(yaml.safe_dump(self.alertmanager_config(), sort_keys=False))
        (self.folder / "prometheus.yml").write_text(yaml.safe_dump(
            self.prometheus_config(export_port, am_port, rule_paths), sort_keys=False))
        run = RunDir(self.folder.parent)
        self._spawn("alertmanager", [
            alertmanager, f"--config.file={self.folder / 'alertmanager.yml'}",
            f"--storage.path={self.folder / 'alertmanager-data'}", f"--web.listen-address={HOST}:{am_port}",
            "--cluster.listen-address=", f"--web.external-url={self.alertmanager_url}"], run.log("alertmanager"))
        self._spawn("prometheus", [
            prometheus, f"--config.file={self.folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.folder / 'prometheus-data'}", f"--web.listen-address={HOST}:{prom_port}",
            "--storage.tsdb.retention.time=1d", f"--web.external-url={self.prometheus_url}"],
            run.log("prometheus"))
        self._ready("alertmanager", self.alertmanager_url, run.log("alertmanager"))
        self._ready("prometheus", self.prometheus_url, run.log("prometheus"))
        self._rules_loaded(run.log("prometheus"))
        if self.journal is not None:
            self.journal.write("monitor.plane", plane="prometheus", prometheus_url=self.prometheus_url,
                               alertmanager_url=self.alertmanager_url, exporter_port=export_port,
                               rules=[{"name": name, "group": group, "file": str(s.path), "origin": s.origin}
                                      for s in self.sources for group, name in s.rules])

    def _write_rules(self) -> list[Path]:
        rules = self.folder / "rules"
        rules.mkdir(exist_ok=True)
        # a rate reads the last four scrapes (Prometheus' rule of thumb), as ``gameday rules export`` does at its step
        clock = Clock(time_scale=self.time_scale, step=self.interval, evaluation=self.every, resolution=4 * self.every)
        own = rules / SCENARIO_RULES
        own.write_text(render(self.scenario, clock, source=self.scenario.metadata.name))
        self.sources = [RuleSource(own, "scenario", alert_names(rule_file(self.scenario, clock)))]
        paths = [own]
        for index, team in enumerate(self.user_rules.files):
            path = Path(team.path)
            paths.append(rules / f"user-{index}-{path.name}")
            shutil.copyfile(path, paths[-1])
            self.sources.append(RuleSource(path, "user", tuple((r.group, r.name) for r in team.alerts)))
        return paths

    @property
    def every(self) -> float:
        """Scrape and evaluation interval: half the monitor interval (policy default), so a change reaches
        Prometheus' verdict within the interval in which the embedded engine sees it."""
        return self.interval / 2

    def prometheus_config(self, export_port: int, am_port: int, rule_paths: Sequence[Path]) -> dict[str, Any]:
        step = duration(self.every)
        scrapes: list[dict[str, Any]] = [{"job_name": "gameday", "honor_labels": True,
                                          "static_configs": [{"targets": [f"{HOST}:{export_port}"]}]}]
        for name, url in sorted(self.targets.items()):
            if not url:
                continue
            parts = urlsplit(metrics_url(url))
            scrapes.append({"job_name": name, "metrics_path": parts.path or "/metrics", "scheme": parts.scheme,
                            "static_configs": [{"targets": [parts.netloc], "labels": {"service": name}}]})
        return {"global": {"scrape_interval": step, "scrape_timeout": step, "evaluation_interval": step,
                           "external_labels": {"run_id": self.run_id}},
                "rule_files": [str(p) for p in rule_paths],
                "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"{HOST}:{am_port}"]}]}]},
                "scrape_configs": scrapes}

    def alertmanager_config(self) -> dict[str, Any]:
        return {"route": {"receiver": "gameday", "group_by": list(DEFAULT_GROUP_BY), "group_wait": "0s",
                          "group_interval": duration(max(self.interval, 1.0)), "repeat_interval": "4h"},
                "receivers": [{"name": "gameday", "webhook_configs": [
                    {"url": url, "send_resolved": True} for url in self.receivers]}]}

    def _spawn(self, name: str, argv: list[str], log: Path) -> None:
        proc = spawn(argv, log, die_with_parent=True)
        self._procs[name] = proc
        with contextlib.suppress(psutil.Error):
            self._record(name, proc.pid, start_time(proc.pid))

    def _record(self, name: str, pid: int, create_time: float) -> None:
        """``plane.json``: every server started so far, written before the next one starts (for cleanup)."""
        self._started[name] = {"pid": pid, "create_time": create_time}
        write_json_atomic(RunDir(self.folder.parent).plane_json, self._started)

    def _tail(self, log: Path) -> str:
        with contextlib.suppress(OSError):
            lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
            return lines[-1][-300:] if lines else ""
        return ""

    def _ready(self, name: str, url: str, log: Path) -> None:
        proc = self._procs[name]

        def ready() -> bool:
            try:
                return self._client.get(f"{url}/-/ready").status_code == 200
            except httpx.HTTPError:
                return False
        if not wait_until(ready, READY_SECONDS, 0.1, unless=lambda: proc.poll() is not None):
            raise EnvironmentProblem(f"{name} did not become ready on {url} (log {log}): {self._tail(log)}")

    def _rules_loaded(self, log: Path) -> None:
        wanted = sum(len(s.rules) for s in self.sources)

        def loaded() -> bool:
            try:
                groups = self._client.get(f"{self.prometheus_url}/api/v1/rules").json()["data"]["groups"]
            except (httpx.HTTPError, ValueError, KeyError, TypeError):
                return False
            found = [r for g in groups for r in g.get("rules", []) if r.get("type") == "alerting"]
            for rule in found:
                self._for[rule["name"]] = max(self._for.get(rule["name"], 0.0), float(rule.get("duration") or 0))
            return len(found) >= wanted
        if not wait_until(loaded, READY_SECONDS, 0.1):
            raise EnvironmentProblem(f"Prometheus did not load the {wanted} alerting rules (log {log}): "
                                     f"{self._tail(log)}")

    # ---- each interval
    def poll(self, game_time: float, wall: float) -> list[Transition]:
        """Prometheus' alerts now, as transitions since the last poll (journaled by the caller)."""
        try:
            resp = self._client.get(f"{self.prometheus_url}/api/v1/alerts")
            alerts = resp.json()["data"]["alerts"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            self.errors.append(f"prometheus alerts: {type(exc).__name__}: {exc}")
            return []

        def game(at: float | None) -> float | None:
            return None if at is None else round(game_time - (wall - at) * self.time_scale, 3)

        now: dict[str, _Seen] = {}
        for alert in alerts:
            labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
            labels.setdefault("run_id", self.run_id)
            state = AlertState.FIRING if alert.get("state") == "firing" else AlertState.PENDING
            value = None
            with contextlib.suppress(TypeError, ValueError):
                value = float(alert.get("value"))
            active = parse_time(alert.get("activeAt"))
            now[fingerprint(labels)] = _Seen(labels, {str(k): str(v) for k, v in (alert.get("annotations") or
                                                                                   {}).items()},
                                             state, value, active, for_=self._for.get(labels.get("alertname", ""),
                                                                                      0.0))
        out: list[Transition] = []
        for fp, seen in now.items():
            before = self._seen.get(fp)
            old = before.state if before is not None else AlertState.INACTIVE
            if seen.state == AlertState.FIRING:
                seen.fired_wall = (before.fired_wall if before is not None and before.fired_wall is not None
                                   else min(wall, (seen.active_wall or wall) + seen.for_))
            if old != seen.state:
                out.append(self._transition(fp, seen, old, seen.state, game_time, wall, game))
        for fp, before in self._seen.items():
            if fp not in now and before.state == AlertState.FIRING:
                out.append(self._transition(fp, before, AlertState.FIRING, AlertState.RESOLVED, game_time, wall,
                                            game, resolved=True))
        self._seen = now
        return out

    def _transition(self, fp: str, seen: _Seen, old: AlertState, new: AlertState, game_time: float, wall: float,
                    game: Any, resolved: bool = False) -> Transition:
        return Transition(
            alertname=seen.labels.get("alertname", ""), target=seen.labels.get("service", ""), fingerprint=fp,
            labels=dict(seen.labels), annotations=dict(seen.annotations), from_state=old, to_state=new,
            at=game_time, wall=wall, value=seen.value, active_at=game(seen.active_wall),
            fired_at=game(seen.fired_wall), fired_wall=seen.fired_wall,
            resolved_at=game_time if resolved else None, resolved_wall=wall if resolved else None,
            for_=seen.for_ * self.time_scale)

    def states(self) -> list[AlertStatus]:
        return [AlertStatus(alertname=s.labels.get("alertname", ""), target=s.labels.get("service", ""),
                            severity=s.labels.get("severity", ""), state=s.state, labels=dict(s.labels),
                            fingerprint=fp, value=s.value, active_at=s.active_wall, fired_at=s.fired_wall,
                            resolved_at=None, last_eval=None) for fp, s in self._seen.items()]

    # ---- stop
    def close(self) -> None:
        for name in ("prometheus", "alertmanager"):
            proc = self._procs.pop(name, None)
            if proc is None:
                continue
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except Exception:  # noqa: BLE001 - then it is killed
                    proc.kill()
                    proc.wait(5)
        self.exporter.close()
        self._client.close()


def stop_leftovers(run_dir: Path) -> int:
    """``gameday cleanup``: stop the Prometheus and Alertmanager a killed run left (by pid and start time)."""
    try:
        data = load_json(RunDir(run_dir).plane_json)  # a run folder is input: bounded, never a traceback
    except (OSError, ValueError):
        return 0
    stopped = 0
    for entry in data.values() if isinstance(data, dict) else []:
        if isinstance(entry, dict):
            stopped += int(stop_process(entry.get("pid"), entry.get("create_time"), 5.0))
    return stopped

