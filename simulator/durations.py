"""Durations (``250ms``, ``30s``, ``5m``, ``2h``, ``1d``, or compound ``1h30m``) and sizes.

Durations become float seconds; sizes (``256MiB``, ``512MB``, ``64k``) become bytes.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_WHOLE = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$")

DURATION_HINT = "a duration like '30s' (units: ms, s, m, h, d, w)"


def parse_duration(value: Any) -> float:
    """Seconds from ``'30s'``, ``'1h30m'``, ``'250ms'`` or a bare number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected {DURATION_HINT}, got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"expected a non-negative duration, got {value!r}")
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        if text and _WHOLE.match(text):
            return sum(float(n) * _UNITS[u] for n, u in _PART.findall(text))
        raise ValueError(f"expected {DURATION_HINT}, got {value!r}")
    raise ValueError(f"expected {DURATION_HINT}, got {type(value).__name__}")


def format_duration(seconds: float) -> str:
    """Human-readable, e.g. ``90 -> '1m30s'``, ``0.25 -> '250ms'``."""
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    parts = []
    rest = seconds
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if rest >= size:
            n = int(rest // size)
            parts.append(f"{n}{unit}")
            rest -= n * size
    if rest >= 0.05 or not parts:
        parts.append(f"{rest:.1f}s".replace(".0s", "s"))
    return "".join(parts)


_SIZE_UNITS = {
    "": 1, "b": 1, "k": 1024, "kb": 1000, "kib": 1024, "m": 1024**2, "mb": 1000**2, "mib": 1024**2,
    "g": 1024**3, "gb": 1000**3, "gib": 1024**3,
}
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$")
SIZE_HINT = "a size like '256MiB' (units: B, KiB, MiB, GiB, KB, MB, GB, k, m, g)"


def parse_size(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected {SIZE_HINT}, got {value!r}")
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str):
        m = _SIZE.match(value.strip())
        if m and m.group(2).lower() in _SIZE_UNITS:
            return int(float(m.group(1)) * _SIZE_UNITS[m.group(2).lower()])
    raise ValueError(f"expected {SIZE_HINT}, got {value!r}")


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": ["string", "number"], "pattern": r"^(\d+(\.\d+)?(ms|s|m|h|d|w))+$",
                    "description": "duration: 250ms, 30s, 5m, 2h, 1d (or seconds as a number)"}),
]

Size = Annotated[
    int,
    BeforeValidator(parse_size),
    WithJsonSchema({"type": ["string", "integer"], "description": "size: 256MiB, 512MB, 1GiB or bytes"}),
]
