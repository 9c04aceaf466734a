"""Runtime config: dotted keys, deep merge, validation against the catalog's schema.

Pure Python (no FastAPI, no SQLAlchemy), so scenario validation can check config values too.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from simulator.errors import InputError
from simulator.targets.apps.catalog import AppInfo, ConfigKey, FieldSpec

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})


class ConfigError(InputError):
    """A config push or a --config value that does not fit the app's schema."""


def expand_dotted(values: Mapping[str, Any]) -> dict[str, Any]:
    """``{"tiers.major.rate": 2}`` -> ``{"tiers": {"major": {"rate": 2}}}`` (plain keys kept)."""
    if not isinstance(values, Mapping):
        raise ConfigError("config values must be an object of key: value")
    out: dict[str, Any] = {}
    for raw_key, value in values.items():
        if not isinstance(raw_key, str) or not raw_key:
            raise ConfigError(f"config key {raw_key!r} must be a non-empty string")
        parts = raw_key.split(".")
        if any(not part for part in parts):
            raise ConfigError(f"config key {raw_key!r} has an empty part")
        node = out
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"config key {raw_key!r} conflicts with {'.'.join(parts[: depth + 1])!r}")
            node = child
        last = parts[-1]
        if last in node and isinstance(node[last], dict) and isinstance(value, Mapping):
            node[last] = deep_merge(node[last], value)
        elif last in node:
            raise ConfigError(f"config key {raw_key!r} is given twice")
        else:
            node[last] = copy.deepcopy(value)
    return out


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict: ``override`` merged into ``base``; nested dicts merge; ``None`` removes a key."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        elif isinstance(value, Mapping):
            out[key] = deep_merge({}, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def check_removals(info: AppInfo, override: Mapping[str, Any]) -> None:
    """``None`` may remove an entry of a ``map`` key, nothing else (not a key, not a field)."""
    for key, value in override.items():
        spec = info.config.get(key)
        if spec is None:
            raise ConfigError(f"unknown config key {key!r} for {info.name} (known: {', '.join(info.config)})")
        if value is None:
            raise ConfigError(f"config key {key!r} cannot be removed")
        if spec.type == "map" and isinstance(value, Mapping):
            for entry_name, entry in value.items():
                if isinstance(entry, Mapping):
                    for field_name, field_value in entry.items():
                        if field_value is None:
                            raise ConfigError(f"config key '{key}.{entry_name}.{field_name}' cannot be removed")


def validate_config(info: AppInfo, config: Mapping[str, Any]) -> dict[str, Any]:
    """Check every key of a full config; returns a normalised copy (ints widened to floats)."""
    if not isinstance(config, Mapping):
        raise ConfigError("config must be an object")
    unknown = [key for key in config if key not in info.config]
    if unknown:
        raise ConfigError(f"unknown config key {unknown[0]!r} for {info.name} (known: {', '.join(info.config)})")
    missing = [key for key in info.config if key not in config]
    if missing:
        raise ConfigError(f"config key {missing[0]!r} is missing")
    out: dict[str, Any] = {}
    for name, spec in info.config.items():
        out[name] = _check_key(spec, config[name])
    return out


def _check_key(spec: ConfigKey, value: Any) -> Any:
    if spec.type != "map":
        return check_value(spec.name, spec.type, value, spec.minimum, spec.exclusive_minimum)
    if not isinstance(value, Mapping):
        raise ConfigError(f"config key {spec.name!r} must be an object, got {_show(value)}")
    fields = spec.fields or {}
    out: dict[str, Any] = {}
    for entry_name, entry in value.items():
        path = f"{spec.name}.{entry_name}"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"config key {path!r} must be an object with {', '.join(fields)}, got {_show(entry)}")
        extra = [f for f in entry if f not in fields]
        if extra:
            raise ConfigError(f"unknown config key '{path}.{extra[0]}' (fields: {', '.join(fields)})")
        absent = [f for f in fields if f not in entry]
        if absent:
            raise ConfigError(f"config key '{path}.{absent[0]}' is missing")
        out[entry_name] = {
            fname: _check_field(f"{path}.{fname}", fspec, entry[fname]) for fname, fspec in fields.items()
        }
    return out


def _check_field(path: str, spec: FieldSpec, value: Any) -> Any:
    return check_value(path, spec.type, value, spec.minimum, spec.exclusive_minimum)


def check_value(
    path: str,
    type_: str,
    value: Any,
    minimum: float | None = None,
    exclusive_minimum: float | None = None,
) -> Any:
    """Check one scalar value; returns it normalised (int -> float for ``float``)."""
    if type_ == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"config key {path!r} must be true or false, got {_show(value)}")
        return value
    if type_ == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"config key {path!r} must be an integer, got {_show(value)}")
        _check_bounds(path, value, minimum, exclusive_minimum)
        return value
    if type_ == "float":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ConfigError(f"config key {path!r} must be a number, got {_show(value)}")
        _check_bounds(path, value, minimum, exclusive_minimum)
        return float(value)
    if not isinstance(value, str):
        raise ConfigError(f"config key {path!r} must be a string, got {_show(value)}")
    if type_ == "url":
        check_loopback_http_url(path, value)
    elif type_ == "db_url":
        check_db_url(path, value)
    return value


def _check_bounds(path: str, value: float, minimum: float | None, exclusive_minimum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise ConfigError(f"config key {path!r} must be >= {_num(minimum)}, got {_num(value)}")
    if exclusive_minimum is not None and value <= exclusive_minimum:
        raise ConfigError(f"config key {path!r} must be > {_num(exclusive_minimum)}, got {_num(value)}")


def check_loopback_http_url(path: str, value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"config key {path!r} must be an http URL like http://127.0.0.1:8001, got {value!r}")
    if parts.hostname not in LOOPBACK_HOSTS:
        raise ConfigError(
            f"config key {path!r} must point at 127.0.0.1 (gameday only sends traffic to loopback), "
            f"got host {parts.hostname!r}"
        )
    try:
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError as error:
        raise ConfigError(f"config key {path!r} has a bad port: {value!r}") from error


def check_db_url(path: str, value: str) -> None:
    if value == "":
        return
    parts = urlsplit(value)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme == "sqlite":
        return
    if scheme not in ("postgresql", "postgres"):
        raise ConfigError(f"config key {path!r} must be a sqlite:// or postgresql:// URL, got {value!r}")
    host = parts.hostname
    if host is not None and host not in LOOPBACK_HOSTS:
        raise ConfigError(
            f"config key {path!r} must point at 127.0.0.1 (gameday only sends traffic to loopback), got host {host!r}"
        )


def _num(value: float) -> str:
    return f"{value:g}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def merge_overrides(current: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Accumulate ops overrides: like :func:`deep_merge` but a ``None`` (removal) is kept as a marker."""
    out = copy.deepcopy(dict(current))
    for key, value in new.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge_overrides(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out
