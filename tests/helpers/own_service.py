"""Helpers for the tests of your own service: where its example is, and where a located problem points (copying
the example and breaking it on purpose: ``tests.helpers.scenario_edits``)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.scenario_edits import line_of

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "own-service"


def assert_located(path: Path, found: list[str], expected: str, where: str) -> None:
    """One of ``found`` says ``expected``, at ``path``, on or after the line holding ``where``."""
    assert any(expected in p for p in found), found
    hit = next(p for p in found if expected in p)
    file, line, col = hit.split(":")[:3]
    assert file == str(path) and int(line) >= line_of(path, where) and int(col) >= 1, hit
