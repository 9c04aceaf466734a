"""What the tracker takes in, and how it reads back what it stored: the intake limits and the checks.

The numbers are *policy defaults* of this tracker (no standard sets them; change them here, the README's
"Tracker intake limits" lists them). Every text the tracker stores must be UTF-8 without lone surrogates
(JSON's ``"\\ud800"`` escape decodes to one, and SQLite cannot store it) and without NUL; every free-form
JSON value it stores (alert labels and annotations, PagerDuty ``custom_details``, ops-action ``params``
and ``result``) is bounded in depth, size and keys *before* anything is written.

Reading back is defensive (``stored_json``, ``stored_text``): a row damaged by an older version or by
hand is shown cleaned (surrogates replaced, depth cut), never a 500.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

#: the largest request body the tracker reads (413 beyond it); policy default
MAX_BODY_BYTES = 8 * 1024 * 1024
#: how deep a free-form JSON value may nest (``{"a": {"b": 1}}`` is 2); policy default
MAX_JSON_DEPTH = 16
#: the largest free-form JSON value, as compact JSON text; policy default
MAX_JSON_BYTES = 64 * 1024
#: keys in one label/annotation map or JSON object, items in one JSON array; policy default
MAX_KEYS = 200
#: a label's or annotation's name; policy default
MAX_KEY_LENGTH = 200
#: a label's value (a short identifier); policy default
MAX_LABEL_VALUE = 2000
#: an annotation's value (a summary, a description, a runbook text); policy default
MAX_ANNOTATION_VALUE = 20000
#: a link (generator URL, client URL, run URL); policy default
MAX_URL = 4000
#: alerts in a large webhook's first stored batch (one transaction each); policy default
INGEST_BATCH = 50
#: how long one batch should hold the write lock: the batch size adapts to it (a batch of new incidents is
#: slower than one of duplicates), so another write waits about this long behind a storm; policy default
INGEST_BATCH_SECONDS = 0.25

_SURROGATE = re.compile("[\ud800-\udfff]")
LINK_SCHEMES = ("http", "https")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None."""
    if "\x00" in value:
        return "must not contain NUL characters"
    if _SURROGATE.search(value):
        return "must be valid UTF-8 text (it contains a lone surrogate, e.g. an unpaired \\ud800 escape)"
    return None


def check_text(value: str) -> str:
    """A pydantic after-validator: ``value``, or a ``ValueError`` saying what is wrong with it."""
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def json_problem(value: Any, *, depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why a free-form JSON value cannot be stored (too deep, too many keys, bad text, too big), or None.

    Iterative, so a 100k-deep value is refused without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            if level > depth:
                return f"nests deeper than {depth} levels (policy limit)"
            if len(item) > MAX_KEYS:
                return f"has {len(item)} entries in one object or array; at most {MAX_KEYS} (policy limit)"
            if isinstance(item, dict):
                for key, sub in item.items():
                    if not isinstance(key, str):
                        return "has a key that is not text"
                    problem = text_problem(key)
                    if problem:
                        return f"key {key[:40]!r}: {problem}"
                    stack.append((sub, level + 1))
            else:
                stack.extend((sub, level + 1) for sub in item)
        elif isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return problem
        elif item is not None and not isinstance(item, bool | int | float):
            return f"holds a {type(item).__name__}, which is not JSON"
        elif isinstance(item, float) and not _finite(item):
            return "holds NaN or Infinity, which is not JSON"
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > MAX_JSON_BYTES:
        return f"is {size} bytes as JSON; at most {MAX_JSON_BYTES} (policy limit)"
    return None


def check_json(value: Any) -> Any:
    """A pydantic after-validator for a free-form JSON value we store."""
    problem = json_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _finite(number: float) -> bool:
    return number == number and number not in (float("inf"), float("-inf"))


def is_link(value: str) -> bool:
    """An http(s) URL with a host: the only links the tracker stores or shows."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in LINK_SCHEMES and bool(parts.netloc)


def check_link(value: str) -> str:
    if not is_link(value):
        raise ValueError("must be an http:// or https:// URL")
    return value


def is_run_url(value: str) -> bool:
    """A run's address: an http(s) URL or a run folder's absolute path (what an embedded tracker is given)."""
    return is_link(value) or (value.startswith("/") and not value.startswith("//"))


def check_run_url(value: str) -> str:
    if not is_run_url(value):
        raise ValueError("must be an http:// or https:// URL or an absolute folder path")
    return value


# ---- reading back: a damaged row is shown cleaned, never a 500 ---------------------------------------

def stored_text(value: Any) -> str:
    """Text read from the database, fit to serialise: lone surrogates become U+FFFD, NUL is dropped."""
    if not isinstance(value, str):
        value = "" if value is None else str(value)
    if "\x00" in value:
        value = value.replace("\x00", "")
    return _SURROGATE.sub("\ufffd", value)


def stored_json(value: Any, *, depth: int = MAX_JSON_DEPTH) -> Any:
    """A JSON value read from the database, fit to serialise: text cleaned, anything nested deeper than
    ``depth`` replaced by a marker, NaN/Infinity and non-JSON values as text. Iterative."""
    marker = f"(nested deeper than {depth} levels: not shown)"
    root: list[Any] = [None]
    stack: list[tuple[Any, list[Any] | dict[str, Any], int | str, int]] = [(value, root, 0, 1)]
    while stack:
        item, parent, slot, level = stack.pop()
        if isinstance(item, dict | list) and level > depth:
            parent[slot] = marker  # type: ignore[index]
        elif isinstance(item, dict):
            copy: dict[str, Any] = {}
            parent[slot] = copy  # type: ignore[index]
            for key, sub in item.items():
                clean = stored_text(key)
                copy[clean] = None
                stack.append((sub, copy, clean, level + 1))
        elif isinstance(item, list):
            items: list[Any] = [None] * len(item)
            parent[slot] = items  # type: ignore[index]
            stack.extend((sub, items, i, level + 1) for i, sub in enumerate(item))
        elif isinstance(item, str):
            parent[slot] = stored_text(item)  # type: ignore[index]
        elif item is None or isinstance(item, bool | int) or (isinstance(item, float) and _finite(item)):
            parent[slot] = item  # type: ignore[index]
        else:
            parent[slot] = stored_text(repr(item))  # type: ignore[index]
    return root[0]


def stored_map(value: Any) -> dict[str, Any]:
    """A stored JSON object (labels, annotations, event data); anything else read back becomes ``{"value": ...}``."""
    clean = stored_json(value)
    if isinstance(clean, dict):
        return clean
    return {} if clean is None else {"value": clean}


def stored_link(value: Any) -> str | None:
    """A stored link shown only when it is http(s)."""
    return value if isinstance(value, str) and is_link(value) and not text_problem(value) else None


def stored_run_url(value: Any) -> str | None:
    """A stored run address shown only when it is http(s) or a folder path."""
    return value if isinstance(value, str) and is_run_url(value) and not text_problem(value) else None
