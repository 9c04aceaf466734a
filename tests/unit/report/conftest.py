from __future__ import annotations

import sys
from pathlib import Path

import pytest

# the hand-built run folders live with the scoring tests
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scoring"))

from scoring_kit import RunKit, exemplary  # noqa: E402


@pytest.fixture
def kit(tmp_path) -> RunKit:
    return RunKit(tmp_path / "run")


@pytest.fixture
def good_run(kit) -> Path:
    exemplary(kit, actions=[(300, "restart:payments"), (320, "rollback:payments")])
    return kit.write()
