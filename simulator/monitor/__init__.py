"""The monitor: metric samples, alert rules, the alert engine and Alertmanager-format webhooks.

Public surface::

    Monitor(targets, rules=None, journal=None, receivers=(), interval=1.0, *, extra_rules=(), run_id=...,
            scenario=...)            .feed_load(line) .tick(game_time) .capture_baseline(game_time) .close()
    TargetSpec(url, tier, app, pid)
    AlertRuleSpec                    the YAML rule model (scenarios embed ``list[AlertRuleSpec]``)
    default_rules(target, tier, app) the standard's tier thresholds plus per-app rules
    AlertEngine(rules, journal=...)  .evaluate(samples, game_time) -> [Transition]  .states()
    Sample, LoadStats, Series, Scraper, WebhookSender, alertmanager_payload, fingerprint

Imports are lazy (PEP 562), so ``simulator.monitor.rules`` -- which the scenario model embeds --
loads without httpx, psutil or prometheus_client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS: dict[str, str] = {
    "default_rules": "simulator.monitor.defaults",
    "default_specs": "simulator.monitor.defaults",
    "AlertEngine": "simulator.monitor.engine",
    "AlertState": "simulator.monitor.engine",
    "AlertStatus": "simulator.monitor.engine",
    "Transition": "simulator.monitor.engine",
    "fingerprint": "simulator.monitor.engine",
    "Monitor": "simulator.monitor.monitor",
    "TargetSpec": "simulator.monitor.monitor",
    "TickResult": "simulator.monitor.monitor",
    "ProcessSampler": "simulator.monitor.process",
    "CounterRates": "simulator.monitor.promtext",
    "parse_metrics": "simulator.monitor.promtext",
    "AlertRuleSpec": "simulator.monitor.rules",
    "Baseline": "simulator.monitor.rules",
    "Reading": "simulator.monitor.rules",
    "Rule": "simulator.monitor.rules",
    "compile_rules": "simulator.monitor.rules",
    "merge_rules": "simulator.monitor.rules",
    "LoadStats": "simulator.monitor.sample",
    "Sample": "simulator.monitor.sample",
    "build_sample": "simulator.monitor.sample",
    "Scraper": "simulator.monitor.scrape",
    "ScrapeResult": "simulator.monitor.scrape",
    "Series": "simulator.monitor.series",
    "Fit": "simulator.monitor.stats",
    "least_squares": "simulator.monitor.stats",
    "TIER_THRESHOLDS": "simulator.monitor.tiers",
    "TierThresholds": "simulator.monitor.tiers",
    "Delivery": "simulator.monitor.webhook",
    "Notice": "simulator.monitor.webhook",
    "WebhookSender": "simulator.monitor.webhook",
    "alertmanager_payload": "simulator.monitor.webhook",
}

__all__ = ["AlertEngine", "AlertRuleSpec", "AlertState", "AlertStatus", "Baseline", "CounterRates", "Delivery",
    "Fit", "LoadStats", "Monitor", "Notice", "ProcessSampler", "Reading", "Rule", "Sample", "ScrapeResult",
    "Scraper", "Series", "TIER_THRESHOLDS", "TargetSpec", "TickResult", "TierThresholds", "Transition",
    "WebhookSender", "alertmanager_payload", "build_sample", "compile_rules", "default_rules", "default_specs",
    "fingerprint", "least_squares", "merge_rules", "parse_metrics"]

if TYPE_CHECKING:
    from simulator.monitor.defaults import default_rules, default_specs
    from simulator.monitor.engine import AlertEngine, AlertState, AlertStatus, Transition, fingerprint
    from simulator.monitor.monitor import Monitor, TargetSpec, TickResult
    from simulator.monitor.process import ProcessSampler
    from simulator.monitor.promtext import CounterRates, parse_metrics
    from simulator.monitor.rules import AlertRuleSpec, Baseline, Reading, Rule, compile_rules, merge_rules
    from simulator.monitor.sample import LoadStats, Sample, build_sample
    from simulator.monitor.scrape import Scraper, ScrapeResult
    from simulator.monitor.series import Series
    from simulator.monitor.stats import Fit, least_squares
    from simulator.monitor.tiers import TIER_THRESHOLDS, TierThresholds
    from simulator.monitor.webhook import Delivery, Notice, WebhookSender, alertmanager_payload


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'simulator.monitor' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
