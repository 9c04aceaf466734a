"""The ops console: the mitigation levers a team pulls during a drill.

Every action goes through the target's ops API (or the backend's supervisor for restarts,
memory limits and failovers), is journaled as ``ops.<verb>``, and returns what changed. An action is an
``OpsAction`` (``simulator.domain.ops_action``: the compact string form, e.g. ``rollback:payments``,
``flag:payments.fallback_processor=on``, parsed in that one place).
"""

from __future__ import annotations

import json
import time
from typing import Any

from simulator.domain.ops_action import OpsAction
from simulator.durations import parse_size
from simulator.errors import GamedayError, InputError
from simulator.journal import Journal
from simulator.rundir import RunDir
from simulator.scenario import load_scenario
from simulator.scenario.model import Owner
from simulator.targets import processes as host
from simulator.targets.view import TargetInfo, TargetsView


def _scalar(value: str | None) -> Any:
    try:
        return json.loads(value or "")
    except ValueError:
        return value


class OpsConsole:
    def __init__(self, view: TargetsView, journal: Journal | None = None, actor: str = "cli", tracker: Any = None,
                 run_id: str | None = None):
        """``tracker`` (a TrackerClient) also records each action on the run's open incident timeline."""
        self.view = view
        self.journal = journal
        self.actor = actor
        self.tracker = tracker
        self.run_id = run_id

    def _ops(self, target: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.view.ops(target, "POST", path, body)

    def run(self, action: OpsAction | str) -> dict[str, Any]:
        a = (OpsAction.parse(action) if isinstance(action, str) else action).runnable()
        target = self.view.target(a.target)  # only targets of this run
        started = time.time()  # journaled as started_wall: reports place the action when it began
        if a.verb == "rollback":
            what = a.key if a.key in ("release", "config") else None
            result = self._ops(a.target, "/ops/rollback", {"what": what})
            summary = f"now release {result.get('release')}, config v{result.get('config_version')}"
        elif a.verb == "deploy":
            version = a.value or a.key
            if not version:
                raise InputError("deploy needs a version, e.g. deploy:payments=v2.4.1")
            result = self._ops(a.target, "/ops/deploy", {"version": version})
            summary = f"deployed {result.get('release')}"
        elif a.verb == "flag":
            if not a.key:
                raise InputError("flag needs a name, e.g. flag:payments.fallback_processor=on")
            result = self._ops(a.target, "/ops/flags", {"name": a.key, "value": a.switch()})
            summary = f"flag {a.key} {'on' if a.switch() else 'off'}"
        elif a.verb == "config":
            several = {k: _scalar(v) if isinstance(v, str) else v for k, v in (a.params.get("values") or {}).items()}
            values = several or ({a.key: _scalar(a.value)} if a.key else {})
            if not values:
                raise InputError("config needs key=value, e.g. config:gateway.tiers.major.rate=200")
            result = self._ops(a.target, "/ops/config", {"values": values, "good": True})
            summary = f"config v{result.get('config_version')}: {values}"
        elif a.verb == "restart":
            result = self.view.supervisor("restart", target=a.target, reason=f"ops by {self.actor}")
            summary = f"restarted (pid {result.get('pid')})"
        elif a.verb == "scale":
            if a.key == "memory_limit":
                limit = parse_size(a.value)
                result = self.view.supervisor("memory_limit", target=a.target, bytes=limit)
                summary = f"memory limit {limit} bytes"
            elif a.key == "cpus":
                cpus = _cpus(a.value)
                result = self.view.supervisor("cpus", target=a.target, cpus=cpus)
                summary = f"CPU limit {cpus:g} CPUs" if cpus else "no CPU limit"
            elif a.key:
                result = self._ops(a.target, "/ops/config", {"values": {a.key: _scalar(a.value)}, "good": True})
                summary = f"{a.key} = {a.value}"
            else:
                raise InputError("scale needs what to scale, e.g. scale:payments.pool_size=20")
        elif a.verb == "failover":
            result, summary = self._failover(target, a.value or "standby")
        elif a.verb == "kill":
            result, summary, a = self._kill(a)
        elif a.verb == "escalate":
            result, summary = self._escalate(a)
        else:  # OpsAction.parse only lets OPS_VERBS through
            raise InputError(f"unknown ops action {a.verb!r}")
        extra = {k: result[k] for k in ("pid", "team", "fixes_after") if k in result} \
            if a.verb in ("kill", "escalate") else {}
        if self.journal is not None:
            self.journal.write(f"ops.{a.verb}", action=str(a), target=a.target, actor=self.actor, summary=summary,
                               started_wall=round(started, 6), **extra)
        out = {"action": str(a), "target": a.target, "summary": summary, "result": result,
               "incident": self._record_on_incident(a, summary)}
        return out

    def _failover(self, target: TargetInfo, side: str) -> tuple[dict[str, Any], str]:
        """Send the target's traffic to its standby (or back to the primary): ``simulator.targets.failover``."""
        if target.standby is None:
            raise InputError(f"{target.name} has no standby to fail over to: declare it in the scenario "
                             f"(targets[].standby: true, local backend)")
        instance = target.standby if side == "standby" else target.raw
        if instance.get("status") != "running":
            raise InputError(f"{target.name}: its {side} is {instance.get('status')}, not running: failing over to "
                             f"it would send traffic nowhere")
        result = self.view.supervisor("failover", target=target.name, to=side)
        done = result.get("failover") or {}
        was = " (already)" if done.get("before") == side else ""
        return result, (f"{target.name} now served by its {side}{was}: front proxy and {done.get('links_routed', 0)} "
                        f"link(s) switched, new connections go to {done.get('instance', side)}")

    def processes(self) -> list[host.ProcessRow]:
        """The processes the run started on its targets' host, busiest first (what ``top`` shows)."""
        return host.processes(self.view)

    def _kill(self, a: OpsAction) -> tuple[dict[str, Any], str, OpsAction]:
        """``kill:auth.pid=N``; recorded as what it killed: ``kill:auth.runaway`` or ``kill:auth.service``."""
        if a.key != "pid":
            raise InputError(f"kill names a process by its pid: look with 'gameday ops ps', then "
                             f"kill:{a.target}.pid=<pid>; got {a}")
        done = host.kill(self.view, a.target, int(a.value or 0))
        summary = (f"killed pid {done.pid} ({done.command}, {done.cpu_seconds:g} s CPU, "
                   f"{done.rss / 2**20:.0f} MiB resident)")
        return {"pid": done.pid, "what": done.what}, summary, OpsAction("kill", a.target, done.what)

    def _escalate(self, a: OpsAction) -> tuple[dict[str, Any], str]:
        """Page the team owning ``a.target`` (the scenario's ``targets[].owner``); the run applies their fix."""
        owners = run_owners(self.view.run_dir)
        owner = owners.get(a.target)
        if owner is None:
            named = ", ".join(f"{t} ({o.team})" for t, o in owners.items()) or "none"
            raise InputError(f"{a.target} has no owning team in this run's scenario (targets[].owner); owned: {named}")
        return ({"team": owner.team, "fixes_after": owner.fixes_after},
                f"escalated to {owner.team}, the team that owns {a.target}")

    def _record_on_incident(self, a: OpsAction, summary: str) -> str | None:
        return record_on_incident(self.tracker, self.run_id, a.target, a.verb, summary, self.actor,
                                  {"action": str(a)})


def record_on_incident(tracker: Any, run_id: str | None, target: str, action: str, summary: str, actor: str,
                       params: dict[str, Any]) -> str | None:
    """Put an action (``rollback``, ..., or ``owner.fixed``) on the timeline of the run's open incident (the
    target's, if it has one); its ref, or None when there is no tracker or no open incident."""
    if tracker is None:
        return None
    try:
        found = tracker.list_incidents(run_id=run_id, open_only=True)
        if not found:
            return None
        mine = [i for i in found if i.get("service") == target] or found
        ref = mine[0]["ref"]
        tracker.ops_action(ref, action, target=target, params=params, result=summary, actor=actor)
        return ref
    except GamedayError:
        return None


def run_owners(run_dir: Any) -> dict[str, Owner]:
    """The owning teams the run's scenario names, by target (none when the run has no scenario)."""
    path = RunDir(run_dir).scenario
    if not path.exists():
        return {}
    return {t.name: t.owner for t in load_scenario(path).targets if t.owner is not None}


def _cpus(value: str | None) -> float | None:
    """``scale:<t>.cpus=N``: N CPUs (0 or "none": no limit)."""
    if value in (None, "", "none", "0"):
        return None
    try:
        cpus = float(str(value))
    except ValueError:
        cpus = float("nan")
    if not 0 < cpus <= 64:
        raise InputError(f"scale:<target>.cpus=N takes a number of CPUs above 0 and at most 64 (or none), "
                         f"got {value!r}")
    return cpus
