"""Automated responders: policies that work a run's incidents through the tracker API and the ops
console, as people would. ``runbook`` follows the scenario's runbook on the primary incident and
works every other one (linked to the primary, or closed as a false alarm); ``slow``,
``wrong-severity``, ``no-postmortem``, ``restart-storm`` and ``tunnel-vision`` (the primary only) are
deliberately flawed, so tests can show that the score card tells a good response from a bad one."""

from simulator.responders.policies import POLICIES, SOLO_POLICIES, plan
from simulator.responders.runner import AutoResponder

__all__ = ["POLICIES", "SOLO_POLICIES", "AutoResponder", "plan"]
