"""How a run ended: the one list of outcome names, whether each is ok, and the CLI's exit code."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    RUNNING = "running"
    RECOVERED = "recovered"  # the steady state was lost, came back and held for the cooldown
    NO_IMPACT = "no_impact"  # the steady state held through every fault (or an accepted mitigation came first)
    MAX_DURATION = "max_duration"  # time ran out (the run itself worked; scoring judges the response)
    ABORTED = "aborted"  # a stop condition: impact beyond the hard limit
    BASELINE_FAILED = "baseline_failed"  # the steady state did not hold before any fault
    INTERRUPTED = "interrupted"  # Ctrl-C, SIGTERM or a facilitator's stop
    ENVIRONMENT = "environment"  # the machine could not run it (a service or Locust did not start)
    ERROR = "error"  # anything else that went wrong

    @property
    def ok(self) -> bool:
        """The run worked (whatever the team's score)."""
        return self in (Outcome.RECOVERED, Outcome.NO_IMPACT, Outcome.MAX_DURATION)

    @property
    def exit_code(self) -> int:
        """``gameday run``'s exit code: 0 ok, 1 the run did not hold, 3 environment, 130 interrupted."""
        if self.ok:
            return 0
        return {Outcome.INTERRUPTED: 130, Outcome.ENVIRONMENT: 3}.get(self, 1)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(o.value for o in cls)
