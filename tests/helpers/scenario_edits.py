"""Breaking a copy of a scenario file on purpose, to see each mistake reported as one located line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from simulator.errors import ValidationFailed
from simulator.scenario import load_scenario


def problems(path: Path, old: str, new: str) -> list[str]:
    """Replace the first ``old`` in the scenario file with ``new``; the problems loading it reports."""
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ValidationFailed) as info:
        load_scenario(path)
    return [str(p) for p in info.value.problems]


def line_of(path: Path, needle: str) -> int:
    """The first line (1-based) of the file holding ``needle``."""
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def copy_example(example: Path, into: Path) -> Path:
    """A copy of an example folder (the scenario with its files beside it) at ``into``, to break on purpose."""
    shutil.copytree(example, into, ignore=shutil.ignore_patterns("__pycache__"))
    return into
