from __future__ import annotations

import pytest

from tests.helpers.scoring_kit import RunKit


@pytest.fixture
def kit(tmp_path) -> RunKit:
    return RunKit(tmp_path / "run")
