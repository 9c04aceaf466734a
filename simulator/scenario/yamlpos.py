"""YAML -> plain data plus the source position of every key and value.

PyYAML's composer gives nodes with marks; we construct the data ourselves so we can (a) refuse
duplicate keys, and (b) remember where each path came from, for ``file:line:col`` errors.
Paths are tuples of keys and list indexes, e.g. ``("faults", 1, "at")``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from simulator.errors import Problem

Path = tuple[str | int, ...]


@dataclass
class Positions:
    """Where each path starts in the file (1-based line and column)."""

    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def of_value(self, path: Path) -> tuple[int, int] | None:
        """The position of the value at ``path``, or of its nearest ancestor."""
        for n in range(len(path), -1, -1):
            if path[:n] in self.values:
                return self.values[path[:n]]
        return None

    def of_key(self, path: Path) -> tuple[int, int] | None:
        return self.keys.get(path) or self.of_value(path)


class YamlProblem(Exception):
    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _kind(node: yaml.Node | None) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return "a value"


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, filename: str):
        self.loader = loader
        self.filename = filename
        self.positions = Positions()

    def fail(self, node: yaml.Node, path: Path, message: str) -> YamlProblem:
        line, col = _mark(node)
        return YamlProblem(Problem(self.filename, line, col, dotted(path), message))

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.positions.values[path] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, path + (i,)) for i, child in enumerate(node.value)]
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in sources:
                    if not isinstance(source, yaml.MappingNode):
                        raise self.fail(source, path, "expected a mapping to merge with '<<'")
                    for k, v in self._mapping(source, path).items():
                        merged.setdefault(k, v)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, path, f"expected a plain key, got {_kind(key_node)}")
            key = self.loader.construct_object(key_node)
            if not isinstance(key, str):
                key = str(key).lower() if isinstance(key, bool) else str(key)
            if key in result:
                first = self.positions.keys.get(path + (key,))
                where = f" (first defined at line {first[0]})" if first else ""
                raise self.fail(key_node, path + (key,), f"duplicate key '{key}'{where}")
            self.positions.keys[path + (key,)] = _mark(key_node)
            result[key] = self.build(value_node, path + (key,))
        for k, v in merged.items():
            result.setdefault(k, v)
        return result


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def dotted(path: Path) -> str:
    """``("faults", 1, "at") -> "faults[1].at"``; odd keys are quoted so the line stays one line."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(str(part)):
            out += ("." if out else "") + str(part)
        else:
            out += f"[{json.dumps(str(part))}]"
    return out


def parse_yaml(text: str, filename: str) -> tuple[Any, Positions]:
    """Parse one YAML document; raise ``YamlProblem`` with a located one-line message."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:
        raise YamlProblem(Problem(filename, None, None, "", f"invalid YAML: {_one_line(exc)}")) from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = _one_line(exc.problem or exc.context or "invalid YAML")
            if "\t" in problem or "'\\t'" in problem or "tab" in problem.lower():
                problem = "found a tab character; indent YAML with spaces"
            elif exc.context and exc.problem:
                problem = f"{problem} ({exc.context})"
            line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
            raise YamlProblem(Problem(filename, line, col, "", f"invalid YAML: {problem}")) from None
        except yaml.YAMLError as exc:
            raise YamlProblem(Problem(filename, None, None, "", f"invalid YAML: {_one_line(exc)}")) from None
        if node is None:
            raise YamlProblem(Problem(filename, 1, 1, "", "empty file: expected a YAML mapping"))
        builder = _Builder(loader, filename)
        try:
            data = builder.build(node, ())
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
            raise YamlProblem(Problem(filename, line, col, "", f"invalid YAML: {exc.problem}")) from None
        except RecursionError:
            raise YamlProblem(Problem(filename, None, None, "", "invalid YAML: nested too deeply")) from None
        return data, builder.positions
    finally:
        loader.dispose()
