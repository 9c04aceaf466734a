"""A team's own Prometheus rule files: loaded, bounded, checked by ``promtool``, listed rule by rule.

A game day can carry the team's production alerting rules (a scenario's ``monitoring.prometheus_rules`` or
``alerts.prometheus_rules``, or ``gameday run --rules FILE``); the live ``--monitor prometheus`` plane loads them
beside the scenario's own rules, and the score card's rule coverage says which of them caught what.

Every file is read through the project's one bounded YAML reader (``simulator.scenario.yamlpos``: size,
depth, value and alias limits, regular files only), then handed to ``promtool check rules`` -- Prometheus'
own judgement of its rule format and PromQL -- as a private copy of exactly the text read (the file cannot
change between the check and the use). A problem is one line (``RuleFileError``, exit 2): the file, the line
and column, the rule's name where known, and Prometheus' own error text. No promtool: exit 3 with the
install line (``promtool.check``).

Public surface::

    load_rule_files(paths, base=folder) -> RuleFiles     the files, checked; RuleFileError (exit 2)
    load_team_rules(scenario, extra_paths) -> RuleFiles   a scenario's prometheus_rules and --rules FILEs
    RuleFiles.alerts -> [UserRule]                        every alerting rule: name, group, file, expr, for, labels
    RuleFiles.journal_rules(origin) -> [dict]             the ``monitor.plane`` event's ``rules`` entries
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.errors import Problem, ValidationFailed
from simulator.monitor.prometheus.promtool import check
from simulator.scenario.yamlpos import Positions, YamlProblem, dotted, parse_yaml, read_yaml_file

if TYPE_CHECKING:
    from simulator.scenario.model import Scenario

#: ``FILE: 7:15: group "payments", rule 2, "BadExpr": could not parse expression: ...`` (promtool 2.x)
_RULE_ERROR = re.compile(r'^(?:(?P<line>\d+):(?P<col>\d+): )?group "(?P<group>[^"]*)", rule (?P<n>\d+), '
                         r'"(?P<name>[^"]*)": (?P<msg>.*)$')
_POSITION = re.compile(r"^(?P<line>\d+):(?P<col>\d+): (?P<msg>.*)$")
_YAML_LINE = re.compile(r"\bline (\d+)\b")


class RuleFileError(ValidationFailed):
    """A rule file that cannot be used (missing, unbounded, not YAML, refused by promtool): exit 2, one line."""


@dataclass(frozen=True)
class UserRule:
    """One alerting rule of a team's file."""

    name: str  # the alert's name (``alert:``), what its alerts carry as ``alertname``
    group: str
    file: str
    expr: str
    for_: str | None = None  # as written (``30s``), None when absent
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleFile:
    path: str
    groups: tuple[str, ...]
    alerts: tuple[UserRule, ...]
    recording: int  # recording rules (``record:``): evaluated by Prometheus, never alerts


@dataclass(frozen=True)
class RuleFiles:
    files: tuple[RuleFile, ...] = ()

    @property
    def alerts(self) -> list[UserRule]:
        return [rule for f in self.files for rule in f.alerts]

    @property
    def recording(self) -> int:
        return sum(f.recording for f in self.files)

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]

    def names(self) -> list[str]:
        """The alert names, in file order, each once."""
        return list(dict.fromkeys(rule.name for rule in self.alerts))

    def journal_rules(self, origin: str = "user") -> list[dict[str, str]]:
        """The rules as the ``monitor.plane`` event lists them."""
        return [{"name": r.name, "group": r.group, "file": r.file, "origin": origin} for r in self.alerts]


def load_rule_files(paths: Iterable[str | Path], base: str | Path | None = None, *,
                    named_in: str = "") -> RuleFiles:
    """Read, bound and check each rule file (a relative path starts from ``base``, else the current folder);
    ``RuleFileError`` (exit 2) for the first that cannot be used; ``EnvironmentProblem`` (exit 3) without
    promtool. ``named_in`` says where the paths were given (``--rules``), for a missing file's line. A file
    named twice is loaded once."""
    seen: set[Path] = set()
    out: list[RuleFile] = []
    for item in paths:
        path = Path(item)
        if base is not None and not path.is_absolute():
            path = Path(base) / path
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        out.append(_load(path, named_in))
    return RuleFiles(tuple(out))


def load_team_rules(scenario: Scenario, extra_paths: Sequence[str | Path] = ()) -> RuleFiles:
    """The team's rule files for a run of ``scenario``: its ``monitoring.prometheus_rules`` (made absolute from the
    scenario file's folder by ``load_scenario``) and ``extra_paths`` (``gameday run --rules FILE``, from the
    current folder), validated before anything starts."""
    own = load_rule_files(scenario.monitoring.prometheus_rules, named_in="the scenario's prometheus_rules")
    extra = load_rule_files(extra_paths, named_in="--rules")
    known = {Path(p).resolve() for p in own.paths}
    return RuleFiles(own.files + tuple(f for f in extra.files if Path(f.path).resolve() not in known))


def _fail(filename: str, line: int | None, col: int | None, path: str, message: str) -> RuleFileError:
    return RuleFileError([Problem(filename, line, col, path, message)])


def _load(path: Path, named_in: str) -> RuleFile:
    filename = str(path)
    try:
        text = read_yaml_file(path)  # bounded: regular files only, at most MAX_YAML_BYTES
        data, positions = parse_yaml(text, filename)  # bounded: depth, values, aliases
    except YamlProblem as exc:
        problem = exc.problem
        if problem.message == "no such file":
            where = f" (named in {named_in})" if named_in else ""
            problem = Problem(filename, None, None, "", f"no such Prometheus rule file{where}")
        raise RuleFileError([problem]) from None
    with tempfile.TemporaryDirectory(prefix="gameday-rules-") as folder:
        copy = Path(folder) / (path.name or "rules.yml")
        copy.write_text(text, encoding="utf-8")
        verdict = check(copy)
    if not verdict.ok:
        raise _refused(filename, str(copy), verdict.output, data, positions)
    return _rules(filename, data)


def _rule_at(data: Any, line: int, positions: Positions) -> tuple[int, int] | None:
    """(group index, rule index) of the rule whose text holds ``line``: the last rule starting at or before it."""
    best: tuple[int, int] | None = None
    best_line = 0
    for gi, group in enumerate(_groups(data)):
        for ri, _ in enumerate(_list(group.get("rules"))):
            pos = positions.values.get(("groups", gi, "rules", ri))
            if pos is not None and best_line <= pos[0] <= line:
                best, best_line = (gi, ri), pos[0]
    return best


def _refused(filename: str, copy: str, output: str, data: Any, positions: Positions) -> RuleFileError:
    """promtool's first complaint as one located line, in its own words."""
    lines = [ln.strip() for ln in output.splitlines()]
    errors = [ln.replace(copy, filename) for ln in lines
              if ln and not ln.startswith(("Checking ", "SUCCESS", "FAILED"))]
    if not errors:
        return _fail(filename, None, None, "", f"promtool check rules refused it: {' '.join(lines)[:300]}")
    first = errors[0].removeprefix(f"{filename}: ")
    rest = [e.removeprefix(f"{filename}: ") for e in errors[1:]]
    match = _RULE_ERROR.match(first)
    if match is not None:
        gi = next((i for i, g in enumerate(_groups(data)) if g.get("name") == match["group"]), None)
        ri = int(match["n"]) - 1
        key = ("groups", gi, "rules", ri) if gi is not None else ()
        line, col = (int(match["line"]), int(match["col"])) if match["line"] else (positions.of_value(key) or
                                                                                   (None, None))
        kind = "recording rule" if _is_recording(data, gi, ri) else "alert rule"
        more = f" (and {len(rest)} more)" if rest else ""
        return _fail(filename, line, col, dotted(key), f"{kind} {match['name']} (group {match['group']}): "
                                                       f"Prometheus: {match['msg']}{more}")
    # a YAML or format error: "yaml: unmarshal errors:" then "line 6: field bogus not found in type ..."
    text = " ".join([first, *rest])
    found = _POSITION.match(first)
    line_no = int(found["line"]) if found else (int(m[1]) if (m := _YAML_LINE.search(text)) else None)
    col = int(found["col"]) if found else None
    if found:
        text = " ".join([found["msg"], *rest])
    at = _rule_at(data, line_no, positions) if line_no is not None else None
    if at is None:
        return _fail(filename, line_no, col, "", f"Prometheus: {text}")
    rule = _list(_groups(data)[at[0]].get("rules"))[at[1]]
    name = (rule.get("alert") or rule.get("record")) if isinstance(rule, dict) else None
    group = _groups(data)[at[0]].get("name")
    what = f"rule {name} (group {group}): " if name else ""
    return _fail(filename, line_no, col, dotted(("groups", at[0], "rules", at[1])), f"{what}Prometheus: {text}")


def _is_recording(data: Any, gi: int | None, ri: int) -> bool:
    if gi is None:
        return False
    rules = _list(_groups(data)[gi].get("rules"))
    return 0 <= ri < len(rules) and isinstance(rules[ri], dict) and "record" in rules[ri]


def _groups(data: Any) -> list[dict[str, Any]]:
    groups = data.get("groups") if isinstance(data, dict) else None
    return [g if isinstance(g, dict) else {} for g in _list(groups)]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _rules(filename: str, data: Any) -> RuleFile:
    """The rules of a file promtool accepted (so its shape is Prometheus' rule format)."""
    alerts: list[UserRule] = []
    recording = 0
    names: list[str] = []
    for group in _groups(data):
        gname = str(group.get("name") or "")
        names.append(gname)
        for rule in _list(group.get("rules")):
            if not isinstance(rule, dict):
                continue
            if "record" in rule:
                recording += 1
                continue
            labels = rule.get("labels") if isinstance(rule.get("labels"), dict) else {}
            hold = rule.get("for")
            alerts.append(UserRule(str(rule.get("alert") or ""), gname, filename, str(rule.get("expr") or ""),
                                   None if hold is None else str(hold),
                                   {str(k): str(v) for k, v in labels.items()}))
    return RuleFile(filename, tuple(names), tuple(alerts), recording)


__all__ = ["RuleFile", "RuleFileError", "RuleFiles", "UserRule", "load_rule_files", "load_team_rules"]
