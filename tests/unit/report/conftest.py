from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.scoring_kit import RunKit, exemplary


@pytest.fixture
def kit(tmp_path) -> RunKit:
    return RunKit(tmp_path / "run")


@pytest.fixture
def good_run(kit) -> Path:
    exemplary(kit, actions=[(300, "restart:payments"), (320, "rollback:payments")])
    return kit.write()
