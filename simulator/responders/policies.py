"""Response policies: each turns the scenario's runbook into the steps a responder takes on the primary
incident. Every policy but those in ``SOLO_POLICIES`` also works the run's other incidents the careful
way (``simulator.responders.others``); a flawed policy keeps its flaw there too (``slow`` acknowledges
them late)."""

from __future__ import annotations

from collections.abc import Callable

from simulator.domain.ops_action import OpsAction
from simulator.domain.responders import POLICY_NAMES
from simulator.domain.severity import SEVERITY_CODES, severity_rank
from simulator.scenario.model import RunbookStep, Scenario


def _runbook(s: Scenario) -> list[RunbookStep]:
    return list(s.responder.runbook)


def _slow(s: Scenario) -> list[RunbookStep]:
    """Everything happens, but each step takes eight times as long."""
    return [step.model_copy(update={"after": step.after * 8}) for step in s.responder.runbook]


def _wrong_severity(s: Scenario) -> list[RunbookStep]:
    """Declares two levels too low (a P1 treated as a P3): under-classification."""
    out = []
    for step in s.responder.runbook:
        if step.do == "declare" and step.severity:
            low = SEVERITY_CODES[min(len(SEVERITY_CODES) - 1, severity_rank(step.severity) + 2)]
            step = step.model_copy(update={"severity": low})
        out.append(step)
    return out


def _no_postmortem(s: Scenario) -> list[RunbookStep]:
    """Mitigates and resolves, then never writes the post-mortem or its action items."""
    return [step for step in s.responder.runbook if step.do not in ("postmortem", "action_item")]


def _restart_storm(s: Scenario) -> list[RunbookStep]:
    """Restarts the service three times (into the retry storm) before doing the right thing."""
    out = []
    for step in s.responder.runbook:
        action = OpsAction.parse(step.action) if step.do == "ops" and step.action else None
        if action is not None and action.verb != "restart":
            restart = OpsAction("restart", action.target).format()
            for i in range(3):
                out.append(RunbookStep(after=step.after if i == 0 else 30.0, do="ops", action=restart))
            out.append(step.model_copy(update={"after": 60.0}))
        else:
            out.append(step)
    return out


def _tunnel_vision(s: Scenario) -> list[RunbookStep]:
    """The runbook on the primary incident, and nothing on any other (see ``SOLO_POLICIES``)."""
    return list(s.responder.runbook)


#: the policies by name; the names are the domain's (``POLICY_NAMES``), in its order
POLICIES: dict[str, Callable[[Scenario], list[RunbookStep]]] = {
    "runbook": _runbook,
    "slow": _slow,
    "wrong-severity": _wrong_severity,
    "no-postmortem": _no_postmortem,
    "restart-storm": _restart_storm,
    "tunnel-vision": _tunnel_vision,
}
#: policies that work the primary incident only and leave every other incident of the run untouched
SOLO_POLICIES: frozenset[str] = frozenset({"tunnel-vision"})
assert tuple(POLICIES) == POLICY_NAMES, "every policy the domain names has a function here, and no other"


def plan(scenario: Scenario, policy: str) -> list[RunbookStep]:
    return POLICIES[policy](scenario)
