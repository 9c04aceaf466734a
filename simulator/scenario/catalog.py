"""Finding scenario and drill files: by path, or by name in ./scenarios, ./drills and the bundled folders."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from simulator.errors import NotFound
from simulator.scenario.yamlpos import peek_yaml

_REPO = Path(__file__).resolve().parents[2]


def search_dirs(kind: str) -> list[Path]:
    """Folders searched for ``kind`` ('scenarios' or 'drills'): $GAMEDAY_<KIND>, ./<kind>, bundled."""
    dirs: list[Path] = []
    env = os.environ.get(f"GAMEDAY_{kind.upper()}")
    if env:
        dirs += [Path(p) for p in env.split(os.pathsep) if p]
    dirs += [Path.cwd() / kind, _REPO / kind]
    unique: list[Path] = []
    for d in dirs:
        if d.is_dir() and d.resolve() not in [u.resolve() for u in unique]:
            unique.append(d)
    return unique


@dataclass(frozen=True)
class Entry:
    kind: str  # Scenario or Drill
    name: str
    title: str
    path: Path
    tags: tuple[str, ...] = ()


def _peek(path: Path) -> Entry | None:
    """Read just enough of a file to list it (no validation)."""
    data = peek_yaml(path)  # bounded, like every YAML reader
    if not isinstance(data, dict) or data.get("kind") not in ("Scenario", "Drill"):
        return None
    meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    return Entry(str(data["kind"]), str(meta.get("name", path.stem)), str(meta.get("title", "")), path,
                 tuple(str(t) for t in meta.get("tags", []) if isinstance(meta.get("tags"), list)))


def yaml_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def entries() -> list[Entry]:
    seen: set[tuple[str, str]] = set()
    found: list[Entry] = []
    for kind in ("scenarios", "drills"):
        for d in search_dirs(kind):
            for f in yaml_files(d):
                entry = _peek(f)
                if entry and (entry.kind, entry.name) not in seen:
                    seen.add((entry.kind, entry.name))
                    found.append(entry)
    return found


def resolve(name_or_path: str, kind: str = "Scenario") -> Path:
    """A file path as given, or the file of the scenario/drill with that name."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise NotFound(f"{name_or_path}: no such file")
        return path
    for entry in entries():
        if entry.kind == kind and (entry.name == name_or_path or entry.path.stem == name_or_path):
            return entry.path
    names = ", ".join(sorted(e.name for e in entries() if e.kind == kind)) or "none"
    raise NotFound(f"no {kind.lower()} named {name_or_path!r}; known: {names} (see 'gameday list')")
