"""Reading input files in bounded time and memory: a size cap, regular files only, JSON without traps.

Every file a user (or a crafted run folder) hands us is read through here: ``read_text`` for YAML
(``simulator.scenario.yamlpos.load_yaml_file`` adds the YAML limits on top) and ``load_json`` for
the run folder's JSON records. A file that breaks a limit is an input error (exit 2) in one line
naming the file and the limit; nothing here ever reads more than ``limit + 1`` bytes, and nothing
opens a device or a FIFO (a symlink to ``/dev/zero`` would otherwise never end).

The limits are *policy defaults* (ours, not the standard's): generous for any real scenario, drill
or run record, small enough that one bad file cannot take the machine. README "Input limits".
"""

from __future__ import annotations

import json
import math
import os
import stat
from typing import Any

from simulator.errors import InputError

#: policy: the largest scenario, drill, rule or config YAML file we read (the bundled ones are < 10 KiB)
MAX_YAML_BYTES = 1 << 20
#: policy: the largest run-folder JSON record (targets.json, summary.json, tracker.json, a state file)
MAX_JSON_BYTES = 16 << 20
#: policy: the deepest nesting of lists and mappings in any input (the bundled files nest < 10 deep)
MAX_DEPTH = 64


class DamagedFile(InputError, ValueError):
    """A file that cannot be used as it is: too big, not a regular file, not UTF-8, not valid JSON, nested
    too deeply, or holding the wrong types. An ``InputError`` (exit 2, one line) and a ``ValueError`` (so
    callers that already treat an unreadable record as absent keep doing so)."""


def read_bytes(path: str | os.PathLike[str], limit: int, policy: str = "MAX_JSON_BYTES") -> bytes:
    """At most ``limit`` bytes of the regular file ``path``; ``DamagedFile`` when it is longer or is not a
    regular file (a device, a FIFO, a socket). ``FileNotFoundError``/``IsADirectoryError``/``OSError`` pass
    through for the caller to word."""
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(21, "Is a directory", str(path))
        if not stat.S_ISREG(mode):
            raise DamagedFile(f"{path}: not a regular file (a device, FIFO or socket); expected a file")
        chunks: list[bytes] = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 16))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise DamagedFile(f"{path}: larger than the {_size(limit)} limit for this file (policy {policy})")
    return data


def read_text(path: str | os.PathLike[str], limit: int = MAX_YAML_BYTES) -> str:
    """``read_bytes`` decoded as UTF-8; ``DamagedFile`` when it is not UTF-8."""
    data = read_bytes(path, limit, "MAX_YAML_BYTES" if limit == MAX_YAML_BYTES else "limit")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DamagedFile(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_json(text: str | bytes, where: str) -> Any:
    """Strict JSON (no NaN or Infinity), nested at most ``MAX_DEPTH`` deep; ``DamagedFile`` otherwise."""
    if deeper_than(text, MAX_DEPTH):
        raise DamagedFile(f"{where}: nested deeper than {MAX_DEPTH} levels (policy MAX_DEPTH)")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:  # pragma: no cover - nesting() refuses these first
        raise DamagedFile(f"{where}: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, NaN
        raise DamagedFile(f"{where}: not valid JSON ({' '.join(str(exc).split())})") from None


def deeper_than(text: str | bytes, limit: int) -> bool:
    """Whether JSON text nests ``[``/``{`` more than ``limit`` deep, found without recursion (brackets inside
    strings are skipped)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if text.count("[") + text.count("{") <= limit:
        return False  # too few brackets to be that deep: skip the scan
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def load_json(path: str | os.PathLike[str], limit: int = MAX_JSON_BYTES) -> Any:
    """A JSON file, read through ``read_bytes`` and ``parse_json``."""
    return parse_json(read_bytes(path, limit), str(path))


def finite(value: Any) -> bool:
    """A real number (not a bool, not NaN or infinite)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 else f"{n >> 10} KiB"


__all__ = ["MAX_DEPTH", "MAX_JSON_BYTES", "MAX_YAML_BYTES", "DamagedFile", "finite", "load_json", "parse_json",
           "read_bytes", "read_text"]
