"""Load YAML documents into models, with every problem as ``file:line:col: key.path: message``.

``load_scenario(path)`` returns a ``Scenario`` or raises ``ValidationFailed`` (exit 2) whose
``problems`` lists every error found, located in the file. Nothing else escapes: the fuzz
tests throw random and mutated YAML at it to hold it to that.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Callable
from pathlib import Path as FsPath
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from simulator.errors import Problem, ValidationFailed
from simulator.scenario.yamlpos import Path, Positions, YamlProblem, dotted, parse_yaml, read_yaml_file

M = TypeVar("M", bound=BaseModel)
Check = Callable[[Any, "Locator"], list[Problem]]
#: reshapes the parsed document before validation (a scenario's variant: ``simulator.scenario.variants``)
Prepare = Callable[[dict[str, Any], Positions, str], tuple[dict[str, Any], Positions]]


class Locator:
    """Builds located problems for a document (used by the cross-field checks)."""

    def __init__(self, filename: str, positions: Positions):
        self.filename = filename
        self.positions = positions

    def problem(self, path: Path, message: str, at_key: bool = False) -> Problem:
        pos = self.positions.of_key(path) if at_key else self.positions.of_value(path)
        line, col = pos if pos else (None, None)
        return Problem(self.filename, line, col, dotted(path), message)


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else annotation
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    return annotation


def _model_at(root: type[BaseModel], path: Path) -> type[BaseModel] | None:
    """The model class that the mapping at ``path`` is validated against, if any."""
    current: Any = root
    for part in path:
        current = _unwrap(current)
        if isinstance(part, int):
            if typing.get_origin(current) in (list, tuple):
                current = typing.get_args(current)[0]
                continue
            return None
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
            if field is None:
                return None
            current = field.annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def _clean_loc(loc: tuple[Any, ...], data: Any) -> Path:
    """Drop pydantic's internal loc parts (validator names, union tags) that are not data keys."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(part, int):
            path.append(part)
            node = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
        elif isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif "[" in part or part.startswith("function-"):
            continue
        else:
            path.append(part)  # a missing or unknown key
            node = None
    return tuple(path)


def translate(error: dict[str, Any], root: type[BaseModel], data: Any, loc: Locator,
              prefix: Path = ()) -> Problem:
    """One pydantic error -> one located, plain-words problem."""
    path = prefix + _clean_loc(error["loc"], data)
    kind = error["type"]
    value = error.get("input")
    msg = error["msg"]
    if kind == "missing":
        return loc.problem(path, f"missing required key '{path[-1]}'" if path else "missing value")
    if kind == "extra_forbidden":
        model = _model_at(root, path[len(prefix):-1])
        hint = ""
        if model is not None:
            keys = _keys_of(model)
            close = difflib.get_close_matches(str(path[-1]), keys, n=1)
            if close:
                hint = f" (did you mean '{close[0]}'?)"
            else:
                hint = f"; expected one of: {', '.join(keys)}" if keys else "; this takes no keys here"
        return loc.problem(path, f"unknown key '{path[-1]}'{hint}", at_key=True)
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        message = f"expected a mapping, got {_describe(value)}"
    elif kind in ("list_type", "tuple_type"):
        message = f"expected a list, got {_describe(value)}"
    elif kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", msg)
        message = f"expected one of {expected.replace(' or ', ', ')}, got {_describe(value)}"
    elif kind in ("value_error", "assertion_error"):
        message = str(error.get("ctx", {}).get("error", msg))
        if not message.startswith("expected"):
            message = f"expected {message}"
    elif kind in ("int_parsing", "int_type", "int_from_float"):
        message = f"expected a whole number, got {_describe(value)}"
    elif kind in ("float_parsing", "float_type"):
        message = f"expected a number, got {_describe(value)}"
    elif kind in ("bool_parsing", "bool_type"):
        message = f"expected true or false, got {_describe(value)}"
    elif kind in ("string_type",):
        message = f"expected text, got {_describe(value)}"
    elif kind == "too_short":
        message = f"expected at least {error.get('ctx', {}).get('min_length', 1)} item(s), got none"
    else:
        text = msg[0].lower() + msg[1:] if msg else kind
        text = text.removeprefix("input should be ").removeprefix("value error, ")
        message = f"expected {text}, got {_describe(value)}"
    return loc.problem(path, message)


def validate_data(model: type[M], data: Any, loc: Locator, prefix: Path = ()) -> tuple[M | None, list[Problem]]:
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        problems = [translate(e, model, data, loc, prefix) for e in exc.errors(include_url=False)]
        return None, _dedupe(problems)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[str] = set()
    out = []
    for p in problems:
        if str(p) not in seen:
            seen.add(str(p))
            out.append(p)
    return out


def load_document(path: str | FsPath, model: type[M], checks: list[Check] | None = None,
                  expect_kind: str | None = None, prepare: Prepare | None = None) -> M:
    filename = str(path)
    try:
        text = read_yaml_file(path)  # bounded: regular files only, at most MAX_YAML_BYTES
    except YamlProblem as exc:
        raise ValidationFailed([exc.problem]) from None
    return load_text(text, filename, model, checks, expect_kind, prepare)


def load_text(text: str, filename: str, model: type[M], checks: list[Check] | None = None,
              expect_kind: str | None = None, prepare: Prepare | None = None) -> M:
    try:
        data, positions = parse_yaml(text, filename)
    except YamlProblem as exc:
        raise ValidationFailed([exc.problem]) from None
    loc = Locator(filename, positions)
    if not isinstance(data, dict):
        raise ValidationFailed([loc.problem((), f"expected a mapping at the top level, got {_describe(data)}")])
    if prepare is not None:
        data, positions = prepare(data, positions, filename)
        loc = Locator(filename, positions)
    if expect_kind and data.get("kind") not in (None, expect_kind) and isinstance(data.get("kind"), str):
        raise ValidationFailed([loc.problem(("kind",), f"expected kind '{expect_kind}', got {data['kind']!r}")])
    obj, problems = validate_data(model, data, loc)
    if obj is not None:
        for check in checks or []:
            problems.extend(check(obj, loc))
    if problems:
        raise ValidationFailed(_dedupe(problems))
    assert obj is not None
    return obj
