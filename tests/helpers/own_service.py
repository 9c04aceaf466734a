"""Helpers for the tests of your own service: where its example is, where a located problem points, and the shop's
probes (orders, its admin state, its version). Copying the example and breaking it on purpose:
``tests.helpers.scenario_edits``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from simulator.targets.view import TargetsView
from tests.helpers.runhelpers import ROOT
from tests.helpers.scenario_edits import line_of

EXAMPLE = ROOT / "examples" / "own-service"


def assert_located(path: Path, found: list[str], expected: str, where: str) -> None:
    """One of ``found`` says ``expected``, at ``path``, on or after the line holding ``where``."""
    assert any(expected in p for p in found), found
    hit = next(p for p in found if expected in p)
    file, line, col = hit.split(":")[:3]
    assert file == str(path) and int(line) >= line_of(path, where) and int(col) >= 1, hit


def orders(url: str, n: int = 30) -> list[int]:
    """The status of ``n`` orders placed with the shop at ``url``."""
    with httpx.Client(trust_env=False, timeout=10) as client:
        return [client.post(f"{url}/orders", json={"product": "tea"}).status_code for _ in range(n)]


def admin(view: TargetsView) -> dict[str, Any]:
    """The shop's own account of its version, flags and settings (straight to it)."""
    with httpx.Client(trust_env=False, timeout=10) as client:
        return client.get(f"{view.target('shop').internal_url}/admin/state").json()


def version(view: TargetsView) -> str:
    """The release the shop says it runs (its health path, through its front proxy)."""
    with httpx.Client(trust_env=False, timeout=10) as client:
        return client.get(view.target("shop").health_url or "").json()["version"]

