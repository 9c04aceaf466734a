from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from live_run import RUN_ID, build_live_run


@pytest.fixture(scope="module")
def live_run(tmp_path_factory) -> Path:
    return build_live_run(tmp_path_factory.mktemp("live") / "runs" / RUN_ID)


@pytest.fixture
def live_copy(live_run, tmp_path) -> Path:
    """A private copy (tests that write reports must not disturb each other)."""
    target = tmp_path / "runs" / RUN_ID
    shutil.copytree(live_run, target)
    return target
