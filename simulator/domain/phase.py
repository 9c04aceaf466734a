"""The phases of a run, in order."""

from __future__ import annotations

from typing import Literal, get_args

Phase = Literal["init", "targets_up", "ready", "ramp", "baseline", "faults", "watch", "verify", "teardown",
                "summary"]
PHASES: tuple[str, ...] = get_args(Phase)[1:]  # what a run goes through ("init" is before the journal)
#: phases in which a run can still be steered (the facilitator's commands)
RUNNING_PHASES: tuple[str, ...] = ("ready", "ramp", "baseline", "faults", "watch", "verify")
