"""A scenario's alert rules as a Prometheus rule file (``promtool.check`` gives Prometheus' verdict on it).

The rules are exactly the set the embedded engine evaluates for the scenario (as loaded, its variant applied):
they are built by the same :class:`simulator.monitor.Monitor` the runner builds, from the same target
figures (name, tier, app, memory limit) and the scenario's ``alerts:`` and ``monitoring:``; each alert keeps
its labels (``service``, ``tier``, ``app``, ``scenario``, ``severity``, its own) -- ``run_id`` comes from
Prometheus' ``external_labels`` in a run, as alerts leave Prometheus.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from simulator.errors import InputError, Problem
from simulator.monitor.engine import AlertStatus
from simulator.monitor.monitor import Monitor, TargetSpec
from simulator.monitor.prometheus.compile import Clock, Inexpressible, alerting_rule
from simulator.monitor.prometheus.signals import duration
from simulator.monitor.rules import Rule
from simulator.scenario.model import Scenario
from simulator.scenario.yamlpos import dotted, load_yaml_file
from simulator.targets.apps.catalog import APPS
from simulator.targets.command import KIND as COMMAND


@dataclass(frozen=True)
class EmbeddedRule:
    rule: Rule
    labels: dict[str, str]


def embedded_rules(scenario: Scenario) -> list[EmbeddedRule]:
    """The rules the embedded engine evaluates in a run of ``scenario``, with each alert's labels."""
    targets = {t.name: TargetSpec(None, t.tier or (APPS[t.app].tier if t.app else "standard"), t.app or COMMAND,
                                  None, t.memory_limit) for t in scenario.targets}
    monitor = Monitor(targets, extra_rules=scenario.alerts, scenario=scenario.metadata.name,
                      monitoring=scenario.monitoring)
    try:
        states: dict[tuple[str, str], AlertStatus] = {(s.alertname, s.target): s for s in monitor.alert_states()}
        return [EmbeddedRule(rule, states[rule.key].labels) for rule in monitor.rules]
    finally:
        monitor.close()


def rule_file(scenario: Scenario, clock: Clock | None = None) -> dict[str, Any]:
    """The rule file as data: one group, the scenario's name (and variant), evaluated every ``clock.every``."""
    clock = clock or Clock(step=scenario.timing.interval)
    name = scenario.metadata.name + (f"-{scenario.variant}" if scenario.variant else "")
    rules = [alerting_rule(item.rule, item.labels, clock) for item in embedded_rules(scenario)]
    return {"groups": [{"name": f"gameday-{name}", "interval": duration(clock.every), "rules": rules}]}


class _Dumper(yaml.SafeDumper):
    pass


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def render(scenario: Scenario, clock: Clock | None = None, *, source: str = "") -> str:
    """The rule file's text (deterministic: the same scenario, variant and clock give the same bytes)."""
    clock = clock or Clock(step=scenario.timing.interval)
    head = [f"# Prometheus alerting rules for gameday scenario {scenario.metadata.name!r}"
            + (f", variant {scenario.variant!r}" if scenario.variant else ""),
            f"# written by `gameday rules export{(' ' + source) if source else ''}`: the embedded engine's rules "
            f"for this scenario, at time scale {clock.time_scale:g}",
            "# (durations are wall time: game time / time scale), evaluated every "
            f"{duration(clock.every)}.",
            "# Series they read: simulator/monitor/prometheus/signals.py (gameday_load_*, gameday_process_*,",
            "# gameday_trend_baseline_*, and each target's own /metrics labelled service=\"<target>\").", ""]
    body = yaml.dump(rule_file(scenario, clock), Dumper=_Dumper, sort_keys=False, width=100_000,
                     allow_unicode=True)
    return "\n".join(head) + body


def locate(error: Inexpressible, path: Path) -> InputError:
    """The error at the rule's place in the scenario file (``file:line:col: alerts[i].metric: ...``), when the
    rule is one of the file's own ``alerts:``; else the file and the rule."""
    data, positions = load_yaml_file(path)
    alerts = data.get("alerts") if isinstance(data, dict) else None
    for i, item in enumerate(alerts if isinstance(alerts, list) else []):
        if isinstance(item, dict) and item.get("name") == error.rule:
            key = ("alerts", i, error.field)
            line, col = positions.of_value(key) or (None, None)
            return InputError(str(Problem(str(path), line, col, dotted(key), f"alert rule {error.rule}: "
                                          f"{error.reason}")))
    return InputError(f"{path}: {error}")
