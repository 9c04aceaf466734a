"""The Prometheus + Alertmanager monitoring plane (``--monitor prometheus``) and the embedded engine's alert rules
as Prometheus alerting rules.

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
"""

from simulator.monitor.prometheus import signals
from simulator.monitor.prometheus.compile import Clock, Inexpressible, alerting_rule
from simulator.monitor.prometheus.export import (
    INSTALL,
    EmbeddedRule,
    Verdict,
    check,
    embedded_rules,
    locate,
    render,
    rule_file,
)

__all__ = ["INSTALL", "Clock", "EmbeddedRule", "Inexpressible", "Verdict", "alerting_rule", "check",
           "embedded_rules", "locate", "render", "rule_file", "signals"]
