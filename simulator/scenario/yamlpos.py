"""YAML -> plain data plus the source position of every key and value.

PyYAML's composer gives nodes with marks; we construct the data ourselves so we can (a) refuse
duplicate keys, and (b) remember where each path came from, for ``file:line:col`` errors.
Paths are tuples of keys and list indexes, e.g. ``("faults", 1, "at")``.

It is also the one bounded YAML reader: every scenario, drill, run-folder and rule file goes through
``load_yaml_file`` (or ``parse_yaml`` for text in hand), which reads at most ``MAX_YAML_BYTES`` of a
regular file and stops at ``MAX_DEPTH`` levels, ``MAX_NODES`` values (aliases counted as what they
expand to, never re-expanded), ``MAX_ALIASES`` alias uses and ``MAX_ALIAS_DEPTH`` nested aliases or
merges: one located line and exit 2, in bounded time and memory, whatever the file.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from simulator.bounded import MAX_DEPTH, MAX_YAML_BYTES, DamagedFile, read_text
from simulator.errors import Problem

Path = tuple[str | int, ...]

# Limits on every YAML input (policy defaults, not the standard's; README "Input limits"). The bundled
# scenarios and drills use a few hundred values, nest < 10 deep and use aliases rarely, if at all.
#: the most values (scalars, lists, mappings) a document may hold, *counting each alias as the values it
#: stands for*: a billion-laughs file is refused here instead of being expanded
MAX_NODES = 50_000
#: the most alias uses (``*name``) in one document
MAX_ALIASES = 1_000
#: the longest chain of aliases (and ``<<`` merges) inside one another: an alias of a list of aliases of ...
MAX_ALIAS_DEPTH = 6


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


class _Limit(Exception):
    """A YAML limit was reached at ``mark``; turned into a located YamlProblem by ``parse_yaml``."""

    def __init__(self, mark: yaml.Mark | None, message: str):
        super().__init__(message)
        self.mark = mark
        self.message = message


# libyaml's scanner and parser (PyYAML's C extension, in its wheels) where it is installed: 4x faster than the
# pure-Python ones, which were most of the time it took to load a scenario or a drill. The events, marks and
# errors are PyYAML's classes either way, and the composing (where the limits are counted) stays ours.
try:
    from yaml._yaml import CParser

    _PARSER: tuple[type, ...] = (CParser,)

    def _start_parser(loader: Any, text: str) -> None:
        CParser.__init__(loader, text)
except ImportError:  # pragma: no cover - a PyYAML built without libyaml
    _PARSER = (Reader, Scanner, Parser)

    def _start_parser(loader: Any, text: str) -> None:
        Reader.__init__(loader, text)
        Scanner.__init__(loader)
        Parser.__init__(loader)


class _BoundedLoader(Composer, *_PARSER, SafeConstructor, Resolver):  # type: ignore[misc]
    """PyYAML's safe loader with a nesting-depth, node-count and alias-count limit while composing, so a
    deep or huge document stops at the limit instead of at Python's recursion limit or the machine's memory."""

    def __init__(self, text: str):
        _start_parser(self, text)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        Composer.__init__(self)
        self.depth = self.nodes = self.aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _Limit(event.start_mark, f"more than {MAX_ALIASES} aliases (policy MAX_ALIASES)")
        else:
            self.nodes += 1
            if self.nodes > MAX_NODES:
                raise _Limit(event.start_mark, f"more than {MAX_NODES} values (policy MAX_NODES)")
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _Limit(event.start_mark, f"nested deeper than {MAX_DEPTH} levels (policy MAX_DEPTH)")
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        if isinstance(event, yaml.AliasEvent):
            # the anchored node itself, but marked where the alias is written: errors point at the use
            use = copy.copy(node)
            use.start_mark, use.end_mark = event.start_mark, event.end_mark
            use.alias_of = getattr(node, "alias_of", node)  # type: ignore[attr-defined]
            return use
        return node


@dataclass
class _Built:
    """A built value and what expanding it costs: ``size`` values in all, ``height`` levels, ``hops`` the
    longest chain of aliases (and merges) inside it; ``children`` a mapping's entries (for ``<<``)."""

    value: Any
    size: int
    height: int
    hops: int
    path: Path = ()
    children: dict[str, _Built] | None = None


_BUILDING = _Built(None, 0, 0, 0)  # a node being built: reaching it again is an alias to its own ancestor


class _Builder:
    """Builds plain data from the composed node graph. An alias (or a ``<<`` merge) of a node built before
    reuses that value: nothing is expanded twice, and what the expansion *would* cost (values, depth,
    alias hops) is counted against the limits, so a few hundred bytes cannot stand for billions of values."""

    def __init__(self, loader: _BoundedLoader, filename: str):
        self.loader = loader
        self.filename = filename
        self.positions = Positions()
        self.built: dict[int, _Built] = {}
        self.expanded = 0

    def fail(self, node: yaml.Node, path: Path, message: str) -> YamlProblem:
        line, col = _mark(node)
        return YamlProblem(Problem(self.filename, line, col, dotted(path), message))

    def _count(self, node: yaml.Node, path: Path, item: _Built, hops: int) -> None:
        self.expanded += item.size
        if self.expanded > MAX_NODES:
            raise self.fail(node, path, f"aliases expand to more than {MAX_NODES} values (policy MAX_NODES)")
        if len(path) + item.height > MAX_DEPTH:
            raise self.fail(node, path, f"aliases expand deeper than {MAX_DEPTH} levels (policy MAX_DEPTH)")
        if hops > MAX_ALIAS_DEPTH:
            raise self.fail(node, path, f"aliases nested more than {MAX_ALIAS_DEPTH} deep (policy MAX_ALIAS_DEPTH)")

    def build(self, node: yaml.Node, path: Path) -> Any:
        return self._build(node, path).value

    def _build(self, node: yaml.Node, path: Path) -> _Built:
        self.positions.values.setdefault(path, _mark(node))
        use = node  # where it is written (an alias: the *name), for errors
        target = getattr(node, "alias_of", node)
        if id(target) in self.built:
            node = target
        done = self.built.get(id(node))
        if done is _BUILDING:
            raise self.fail(use, path, "an alias refers to a list or mapping that contains it")
        if done is not None:  # an alias: the same value again, counted but not rebuilt
            again = _Built(done.value, done.size, done.height, done.hops + 1, done.path, done.children)
            self._count(use, path, again, again.hops)
            return again
        self.built[id(node)] = _BUILDING
        self.expanded += 1
        if self.expanded > MAX_NODES:
            raise self.fail(node, path, f"more than {MAX_NODES} values (policy MAX_NODES)")
        if isinstance(node, yaml.MappingNode):
            result = self._mapping(node, path)
        elif isinstance(node, yaml.SequenceNode):
            items = [self._build(child, path + (i,)) for i, child in enumerate(node.value)]
            result = _Built([i.value for i in items], 1 + sum(i.size for i in items),
                            1 + max((i.height for i in items), default=0), max((i.hops for i in items), default=0),
                            path)
        else:
            result = _Built(self.loader.construct_object(node, deep=True), 1, 0, 0, path)
        self.built[id(node)] = result
        return result

    def _mapping(self, node: yaml.MappingNode, path: Path) -> _Built:
        result: dict[str, _Built] = {}
        merged: dict[str, _Built] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in sources:
                    if not isinstance(source, yaml.MappingNode):
                        raise self.fail(source, path, "expected a mapping to merge with '<<'")
                    # a merged alias is counted (values, depth, hops) as it is reached in _build
                    hop = 1 if id(getattr(source, "alias_of", source)) in self.built else 0
                    src = self._build(source, path)
                    for k, v in (src.children or {}).items():
                        if k not in merged:
                            merged[k] = _Built(v.value, v.size, v.height, v.hops + hop, v.path, v.children)
                            where = self.positions.keys.get(src.path + (k,))
                            if hop and where is not None:
                                self.positions.keys.setdefault(path + (k,), where)
                            where = self.positions.keys.get(src.path + (k,))
                            if where is not None:
                                self.positions.keys.setdefault(path + (k,), where)
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
            result[key] = self._build(value_node, path + (key,))
        for k, v in merged.items():
            result.setdefault(k, v)
        items = result.values()
        return _Built({k: v.value for k, v in result.items()}, 1 + sum(i.size for i in items),
                      1 + max((i.height for i in items), default=0), max((i.hops for i in items), default=0),
                      path, result)


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


def _tab_at(text: str, mark: yaml.Mark | None) -> bool:
    """Is the character an error points at a tab? (libyaml's message does not name it, PyYAML's does.)"""
    if mark is None:
        return False
    lines = text.split("\n")
    return mark.line < len(lines) and lines[mark.line][mark.column:mark.column + 1] == "\t"


def parse_yaml(text: str, filename: str) -> tuple[Any, Positions]:
    """Parse one YAML document within the limits above; raise ``YamlProblem`` with a located one-line message."""
    if len(text) > MAX_YAML_BYTES:
        raise YamlProblem(Problem(filename, None, None, "", f"longer than the {MAX_YAML_BYTES >> 20} MiB limit "
                                                             "(policy MAX_YAML_BYTES)"))
    try:
        loader = _BoundedLoader(text)
    except yaml.YAMLError as exc:
        raise YamlProblem(Problem(filename, None, None, "", f"invalid YAML: {_one_line(exc)}")) from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = _one_line(exc.problem or exc.context or "invalid YAML")
            if "\t" in problem or "'\\t'" in problem or "tab" in problem.lower() or _tab_at(text, mark):
                problem = "found a tab character; indent YAML with spaces"
            elif exc.context and exc.problem:
                problem = f"{problem} ({exc.context})"
            line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
            if "maximum nesting depth" in problem:  # libyaml's own limit (1000 levels): a flow it scans ahead
                raise YamlProblem(Problem(filename, line, col, "", f"nested deeper than {MAX_DEPTH} levels "
                                                                   "(policy MAX_DEPTH)")) from None
            raise YamlProblem(Problem(filename, line, col, "", f"invalid YAML: {problem}")) from None
        except yaml.YAMLError as exc:
            raise YamlProblem(Problem(filename, None, None, "", f"invalid YAML: {_one_line(exc)}")) from None
        except _Limit as exc:
            line, col = (exc.mark.line + 1, exc.mark.column + 1) if exc.mark else (None, None)
            raise YamlProblem(Problem(filename, line, col, "", exc.message)) from None
        except RecursionError:  # pragma: no cover - MAX_DEPTH stops well before Python's limit
            raise YamlProblem(Problem(filename, None, None, "", "invalid YAML: nested too deeply")) from None
        if node is None:
            raise YamlProblem(Problem(filename, 1, 1, "", "empty file: expected a YAML mapping"))
        builder = _Builder(loader, filename)
        try:
            data = builder.build(node, ())
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
            raise YamlProblem(Problem(filename, line, col, "", f"invalid YAML: {exc.problem}")) from None
        except RecursionError:  # pragma: no cover - MAX_DEPTH stops well before Python's limit
            raise YamlProblem(Problem(filename, None, None, "", "invalid YAML: nested too deeply")) from None
        return data, builder.positions
    finally:
        loader.dispose()


def read_yaml_file(path: str | os.PathLike[str]) -> str:
    """The text of a YAML file, read within ``MAX_YAML_BYTES`` (regular files only); ``YamlProblem`` with one
    line naming the file otherwise."""
    filename = str(path)
    try:
        return read_text(path, MAX_YAML_BYTES)
    except FileNotFoundError:
        raise YamlProblem(Problem(filename, None, None, "", "no such file")) from None
    except IsADirectoryError:
        raise YamlProblem(Problem(filename, None, None, "", "is a folder, expected a YAML file")) from None
    except DamagedFile as exc:
        raise YamlProblem(Problem(filename, None, None, "", str(exc).removeprefix(f"{filename}: "))) from None
    except OSError as exc:
        raise YamlProblem(Problem(filename, None, None, "", f"cannot read: {exc.strerror or exc}")) from None


def load_yaml_file(path: str | os.PathLike[str]) -> tuple[Any, Positions]:
    """The one bounded way to read a YAML input file: ``read_yaml_file`` then ``parse_yaml``."""
    return parse_yaml(read_yaml_file(path), str(path))


def peek_yaml(path: str | os.PathLike[str]) -> Any:
    """A YAML file's data for a quick look (its ``kind``, its title), or None when it cannot be read or parsed
    within the limits; no error is raised."""
    try:
        return load_yaml_file(path)[0]
    except YamlProblem:
        return None
