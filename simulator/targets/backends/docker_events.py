"""The docker supervisor's watch on the engine (``EngineEvents``, a part of ``DockerSupervisor``): the engine's
events for the run's label, pumped from a thread into a queue and handled in the supervisor's loop (``check``): a
``die`` is journalled as ``target.crashed`` (``oom_killed`` from the ``oom`` event or ``State.OOMKilled``), a start
after it as ``target.restarted`` (Docker's restart policy does the restarting), pause and unpause as the container's
state says; what the supervisor does itself (a release switch, a recreate) is expected (``_expect``) and not
journalled as a crash. Your own service's container gets its non-default flags and settings again once it answers
after any start (``_reapply_pending``).
"""

from __future__ import annotations

import contextlib
import queue
import signal
import sys
import threading
import time
from typing import Any

from simulator.errors import GamedayError
from simulator.targets import command
from simulator.targets.backends.docker import LABEL_RUN, LABEL_TARGET
from simulator.targets.supervisor import Managed


def restart_policy(spec: dict[str, Any]) -> dict[str, Any]:
    policy = spec.get("restart") or {}
    kind = policy.get("policy", "on-failure")
    if kind == "always":
        return {"Name": "always"}
    if kind in ("never", "no"):
        return {"Name": "no"}
    return {"Name": "on-failure", "MaximumRetryCount": int(policy.get("max_restarts", 5))}


class EngineEvents:
    """The engine's events of one run's containers (a mixin of ``DockerSupervisor``, which gives it the client, the
    targets, the journal, ``_refresh``, ``_health_url`` and ``save``)."""

    client: Any
    events: queue.Queue[dict[str, Any]]
    _events_stream: Any
    run_id: str
    status: str
    targets: dict[str, Managed]
    journal: Any

    def _start_event_watch(self) -> None:
        stream = self.client.events(decode=True, since=int(time.time()) - 1,
                                    filters={"type": "container", "label": f"{LABEL_RUN}={self.run_id}"})
        self._events_stream = stream

        def pump() -> None:
            with contextlib.suppress(Exception):
                for event in stream:
                    self.events.put(event)

        threading.Thread(target=pump, daemon=True, name="docker-events").start()

    def check(self) -> None:
        changed = False
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                break
            attrs = (event.get("Actor") or {}).get("Attributes") or {}
            m = self.targets.get(attrs.get(LABEL_TARGET, ""))
            if m is None or self.status != "ready":
                continue
            action = event.get("status") or event.get("Action", "")
            container = event.get("id") or (event.get("Actor") or {}).get("ID")
            current = m.extra.get("container_id")
            if container and current and container != current:
                # a container the target had before (removed, then recreated; the old side of a release switch):
                # its late die or destroy is not the current one's; an expectation set for it is used up
                self._expected(m, action)
                continue
            changed = self._on_event(m, action, attrs) or changed
        self._reapply_pending()
        if changed:
            self.save()

    def _reapply_pending(self) -> None:
        """Your service restarted inside its container (a crash, a kill, a restart): once its health path answers,
        its non-default flags and settings are set again through its levers, as after a local restart."""
        for m in self.targets.values():
            if m.ops is None or not m.extra.get("reapply") or m.status != "running":
                continue
            if not command.healthy(self._health_url(m, self._refresh(m)))[0]:
                continue
            m.extra.pop("reapply")
            try:
                m.ops.reapply()
            except GamedayError as exc:
                print(f"supervisor: {m.name}: setting its flags and settings again failed: {exc}", file=sys.stderr,
                      flush=True)

    def _expected(self, m: Managed, action: str) -> bool:
        pending = m.extra.setdefault("expect", {})
        if pending.get(action, 0) > 0:
            pending[action] -= 1
            return True
        return False

    def _on_event(self, m: Managed, action: str, attrs: dict[str, Any]) -> bool:
        if action == "oom":
            m.extra["oom_seen"] = True
            return False
        if action == "die":
            if self._expected(m, "die"):
                return False
            code = int(attrs.get("exitCode", 0) or 0)
            info = self._refresh(m)
            oom = bool(m.extra.pop("oom_seen", False) or (info.get("State") or {}).get("OOMKilled"))
            if oom:
                m.oom_kills += 1
            sig = code - 128 if code > 128 else None
            signame = signal.Signals(sig).name if sig and sig in signal.Signals._value2member_map_ else None
            m.last_exit = {"code": code, "signal": signame, "oom_killed": oom, "at": time.time()}
            self.journal.write("target.crashed", name=m.name, exit_code=code, signal=signame, oom_killed=oom,
                               memory_limit=m.memory_limit, container=m.extra.get("container"))
            restarting = bool((info.get("State") or {}).get("Restarting")) or self._will_restart(m, code)
            m.status = "crashed" if restarting else ("stopped" if code == 0 else "failed")
            return True
        if action == "start":
            if m.ops is not None:  # a fresh process in the container: its flags and settings, once it answers
                m.extra["reapply"] = True
            if self._expected(m, "start"):
                return False
            self._refresh(m)
            if m.status in ("crashed", "failed", "stopped"):
                m.restarts += 1
                self.journal.write("target.restarted", name=m.name, reason="policy", pid=m.extra.get("pid"),
                                   restarts=m.restarts, container=m.extra.get("container"))
            m.status = "running"
            return True
        if action in ("pause", "unpause"):
            # events arrive a little late: trust the container's state now, not the event's name
            state = self._refresh(m).get("State") or {}
            if state.get("Paused"):
                m.status = "paused"
            elif state.get("Running") and m.status in ("paused", "running"):
                m.status = "running"
            return True
        if action == "destroy":
            if self._expected(m, "destroy"):
                return False
            m.status = "removed"
            m.extra.update(pid=None, create_time=None)
            self.journal.write("target.stopped", name=m.name, reason="container removed",
                               container=m.extra.get("container"))
            return True
        return False

    def _will_restart(self, m: Managed, code: int) -> bool:
        policy = restart_policy(m.spec)
        if policy["Name"] == "always":
            return True
        return policy["Name"] == "on-failure" and code != 0 and \
            m.extra.get("docker_restarts", 0) < policy.get("MaximumRetryCount", 0)

    def _expect(self, m: Managed, *actions: str) -> None:
        pending = m.extra.setdefault("expect", {})
        for a in actions:
            pending[a] = pending.get(a, 0) + 1
