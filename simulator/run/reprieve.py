"""A recovery that is only a restart's reprieve: the run's targets were OOM-killed, the supervisor
restarted them, and nobody has acted since.

A leak that is still deployed leaks again after a restart: the steady state comes back for a while
(fresh memory), then the next OOM kill takes it away (a kill loop). Ending the run as "recovered" then
would stop the story at its first act. ``Reprieve`` follows the run's journal (incrementally: only new
lines, and only two kinds of them parsed) for OOM kills of the run's targets (``target.crashed`` with
``oom_killed``, written by the supervisor) and for any ops action (``ops.*``: a rollback, a deploy, a
restart, more memory, from the responder, a person's ``gameday ops`` or the web UI).

It also notes the first ops action that is one of the scenario's accepted mitigations (with its game time):
a team that mitigates before the steady state ever breaks (a rollback on a trend alert, days before the
leak would OOM-kill anything) has ended the incident, though no fault reverted by itself.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from simulator.domain.ops_action import first_match

OOM_MARK = '"kind":"target.crashed"'
OPS_MARK = '"kind":"ops.'


class Reprieve:
    def __init__(self, journal: str | os.PathLike[str], targets: set[str], accepted: Iterable[str] = ()):
        """``accepted``: the scenario's accepted mitigations (``truth.accepted_mitigations`` patterns)."""
        self.path = Path(journal)
        self.targets = targets
        self.accepted = list(accepted)
        self.mitigations: list[tuple[str, float, float | None]] = []  # accepted ones taken: action, wall, game
        self.last_oom: float | None = None  # wall
        self.last_action: float | None = None  # wall
        self._offset = 0

    def holds(self) -> bool:
        """True while the latest OOM kill of our targets has no ops action after it."""
        self._follow()
        return self.last_oom is not None and (self.last_action is None or self.last_action < self.last_oom)

    def acted(self) -> bool:
        """Someone has taken an ops action in this run."""
        self._follow()
        return self.last_action is not None

    def mitigated(self, since_wall: float) -> tuple[str, float | None] | None:
        """The first accepted mitigation anyone took at or after ``since_wall`` and its game time (None when its
        journal line has none: a person's ``gameday ops`` in another process), if one was taken."""
        self._follow()
        return next(((a, g) for a, w, g in self.mitigations if w >= since_wall), None)

    def _follow(self) -> None:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self._offset)
                data = fh.read()
        except OSError:
            return
        end = data.rfind(b"\n") + 1  # whole lines only: a line being written is read next time
        self._offset += end
        for raw in data[:end].decode("utf-8", "replace").splitlines():
            if OOM_MARK not in raw and OPS_MARK not in raw:
                continue
            try:
                record = json.loads(raw)
                kind, wall, payload = record["kind"], float(record["wall"]), record.get("data") or {}
            except (ValueError, KeyError, TypeError):
                continue
            if kind == "target.crashed" and payload.get("oom_killed") and payload.get("name") in self.targets:
                self.last_oom = max(self.last_oom or wall, wall)
            elif kind.startswith("ops."):
                self.last_action = max(self.last_action or wall, wall)
                action, game = payload.get("action"), record.get("game")
                if isinstance(action, str) and first_match(action, self.accepted):
                    self.mitigations.append((action, wall, float(game) if isinstance(game, (int, float)) else None))
