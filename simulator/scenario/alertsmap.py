"""A scenario's ``alerts:`` as a mapping -- ``{rules: [...], prometheus_rules: [...]}`` -- reshaped to the model's
form: ``alerts`` the list of the scenario's own rules, the team's Prometheus rule files under
``monitoring.prometheus_rules`` (one setting, two spellings). ``alerts_section`` reshapes a parsed file with its
positions, so a problem inside still names its own ``file:line:col``; the ``Scenario`` model's before-validator
reshapes plain data (``flatten_alerts``)."""

from __future__ import annotations

from typing import Any

from simulator.errors import Problem, ValidationFailed
from simulator.scenario.yamlpos import Path as KeyPath
from simulator.scenario.yamlpos import Positions, dotted

#: ``alerts:`` as a mapping: the scenario's own rules and the team's Prometheus rule files
ALERTS_KEYS = ("rules", "prometheus_rules")


class AlertsShape(ValueError):
    """An ``alerts:`` mapping that cannot be read (an unknown key, prometheus_rules given twice), at ``path``."""

    def __init__(self, path: KeyPath, message: str):
        super().__init__(f"{dotted(path)}: {message}")
        self.path, self.message = path, message


def flatten_alerts(doc: dict[str, Any], at: KeyPath = (), *,
                   overlay: bool = False) -> tuple[dict[str, Any], list[tuple[KeyPath, KeyPath]]]:
    """``alerts: {rules: [...], prometheus_rules: [...]}`` as the model holds it: ``alerts`` the list of rules,
    the files under ``monitoring.prometheus_rules`` (the issue's spelling and the model's are one setting); a
    list is left as it is. Returns the document and the moves (from, to) of its paths, ``at`` the document's
    place in the file. In a variant's ``overlay`` a mapping without ``rules`` leaves the rules as they are."""
    alerts = doc.get("alerts")
    if not isinstance(alerts, dict):
        return doc, []
    for key in alerts:
        if key not in ALERTS_KEYS:
            raise AlertsShape(at + ("alerts", key), f"unknown key '{key}'; expected a list of alert rules, or a "
                                                    "mapping of rules (that list) and prometheus_rules (files)")
    out = dict(doc)
    moves: list[tuple[KeyPath, KeyPath]] = []
    if "rules" in alerts or not overlay:
        out["alerts"] = alerts.get("rules", [])
        moves.append((at + ("alerts", "rules"), at + ("alerts",)))
    else:
        del out["alerts"]
    if "prometheus_rules" in alerts:
        monitoring = doc.get("monitoring") if doc.get("monitoring") is not None else {}
        if isinstance(monitoring, dict):  # anything else: the model reports it, located
            if "prometheus_rules" in monitoring:
                raise AlertsShape(at + ("alerts", "prometheus_rules"), "given twice (here and in "
                                  "monitoring.prometheus_rules); keep one")
            out["monitoring"] = {**monitoring, "prometheus_rules": alerts["prometheus_rules"]}
            moves.append((at + ("alerts", "prometheus_rules"), at + ("monitoring", "prometheus_rules")))
    return out, moves


def alerts_section(data: dict[str, Any], positions: Positions, filename: str) -> tuple[dict[str, Any], Positions]:
    """``flatten_alerts`` on a parsed scenario file and on each variant's overlay (before the variant applies, so
    ``remove: [alerts[NAME]]`` finds the list), every position moved with its value: a problem inside still
    names its own ``file:line:col``."""
    moves: list[tuple[KeyPath, KeyPath]] = []
    try:
        data, moves = flatten_alerts(data)
        variants = data.get("variants")
        for name, spec in (variants.items() if isinstance(variants, dict) else ()):
            if isinstance(spec, dict) and isinstance(spec.get("overlay"), dict):
                at: KeyPath = ("variants", name, "overlay")
                overlay, more = flatten_alerts(spec["overlay"], at, overlay=True)
                if more or overlay is not spec["overlay"]:
                    data = {**data, "variants": {**variants, name: {**spec, "overlay": overlay}}}
                    variants = data["variants"]
                    moves += more
    except AlertsShape as exc:
        pos = positions.of_key(exc.path)
        line, col = pos if pos else (None, None)
        raise ValidationFailed([Problem(filename, line, col, dotted(exc.path), exc.message)]) from None
    if not moves:
        return data, positions
    return data, Positions(_moved(positions.values, moves), _moved(positions.keys, moves))


def _moved(table: dict[KeyPath, tuple[int, int]],
           moves: list[tuple[KeyPath, KeyPath]]) -> dict[KeyPath, tuple[int, int]]:
    out = dict(table)
    for src, dst in moves:
        for path, pos in table.items():
            if path[:len(src)] == src:
                out[dst + path[len(src):]] = pos
    return out


def alerts_json_schema(schema: dict[str, Any]) -> None:
    """The ``alerts`` field's JSON Schema (editor completion) takes both spellings: the list, or the mapping."""
    listed = {"type": "array", "items": schema.pop("items")}
    schema.pop("type", None)
    schema["anyOf"] = [listed, {"type": "object", "additionalProperties": False, "properties": {
        "rules": listed, "prometheus_rules": {"type": "array", "items": {"type": "string"},
                                              "description": "the team's Prometheus rule files, relative to the "
                                                             "scenario file (= monitoring.prometheus_rules)"}}}]
