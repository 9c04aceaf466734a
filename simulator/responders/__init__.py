"""Automated responders: policies that work an incident through the tracker API and the ops
console, as people would. ``runbook`` follows the scenario's runbook; ``slow``,
``wrong-severity``, ``no-postmortem`` and ``restart-storm`` are deliberately flawed, so tests can
show that the score card tells a good response from a bad one."""

from simulator.responders.policies import POLICIES, plan
from simulator.responders.runner import AutoResponder

__all__ = ["POLICIES", "AutoResponder", "plan"]
