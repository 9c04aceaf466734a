"""The Prometheus + Alertmanager monitoring plane (``--monitor prometheus``), the embedded engine's alert rules
as Prometheus alerting rules, a team's own rule files, and ``promtool``.

Public surface::

    render(scenario, Clock(time_scale, step)) -> str   the rule file (YAML), deterministic
    rule_file(scenario, clock) -> dict                  the same, as data
    embedded_rules(scenario) -> [EmbeddedRule]          the rules and labels the embedded engine evaluates
    check(path) -> Verdict                              ``promtool check rules`` (exit 3 when missing)
    Inexpressible, locate(error, path)                  a rule PromQL cannot say, located in its file (exit 2)
    Clock                                               time scale, evaluation step, rate window
    signals                                             the metric contract: series names, PromQL per metric path
    plane.Plane, exporter.Exporter                      the live plane (imported from their modules: they start
                                                        servers)
    load_rule_files, load_team_rules, RuleFiles         a team's own rule files (``userrules``)

Imports are lazy (PEP 562), as in :mod:`simulator.monitor`: ``promtool`` and ``userrules`` (what ``gameday
validate`` needs) load without the monitor, httpx or psutil.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "Clock": "simulator.monitor.prometheus.compile",
    "Inexpressible": "simulator.monitor.prometheus.compile",
    "alerting_rule": "simulator.monitor.prometheus.compile",
    "EmbeddedRule": "simulator.monitor.prometheus.export",
    "embedded_rules": "simulator.monitor.prometheus.export",
    "locate": "simulator.monitor.prometheus.export",
    "render": "simulator.monitor.prometheus.export",
    "rule_file": "simulator.monitor.prometheus.export",
    "INSTALL": "simulator.monitor.prometheus.promtool",
    "Verdict": "simulator.monitor.prometheus.promtool",
    "check": "simulator.monitor.prometheus.promtool",
    "RuleFiles": "simulator.monitor.prometheus.userrules",
    "load_rule_files": "simulator.monitor.prometheus.userrules",
    "load_team_rules": "simulator.monitor.prometheus.userrules",
}

__all__ = ["INSTALL", "Clock", "EmbeddedRule", "Inexpressible", "RuleFiles", "Verdict", "alerting_rule", "check",
           "embedded_rules", "load_rule_files", "load_team_rules", "locate", "render", "rule_file", "signals"]

if TYPE_CHECKING:
    from simulator.monitor.prometheus import signals
    from simulator.monitor.prometheus.compile import Clock, Inexpressible, alerting_rule
    from simulator.monitor.prometheus.export import EmbeddedRule, embedded_rules, locate, render, rule_file
    from simulator.monitor.prometheus.promtool import INSTALL, Verdict, check
    from simulator.monitor.prometheus.userrules import RuleFiles, load_rule_files, load_team_rules


def __getattr__(name: str) -> Any:
    if name == "signals":
        return importlib.import_module("simulator.monitor.prometheus.signals")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'simulator.monitor.prometheus' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
