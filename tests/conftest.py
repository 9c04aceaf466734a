"""Shared test helpers: where optional real parts (Chromium, Docker) are, and CI's demand for them.

Locally, tests that need Chromium or a Docker engine skip with a reason when it is missing.
In CI, ``GAMEDAY_REQUIRE_BROWSER=1`` / ``GAMEDAY_REQUIRE_DOCKER=1`` (``GAMEDAY_REQUIRE_PROMETHEUS=1`` for
promtool and Prometheus) turn that skip into a failure, so those tests can never silently skip there.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.helpers.needs import need


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of Debian's chromium; skip (or fail in CI) when it is not installed."""
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if not path:
        need("Chromium", "GAMEDAY_REQUIRE_BROWSER", "install Debian's chromium (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def docker_engine():
    """A connected Docker SDK client with the targets image; skip (or fail in CI) without them."""
    from simulator.errors import EnvironmentProblem
    from simulator.targets.backends.docker import check_image, docker_client

    try:
        client = docker_client(timeout=120)
        check_image(client)
    except EnvironmentProblem as exc:
        need("Docker engine", "GAMEDAY_REQUIRE_DOCKER", str(exc))
    return client


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def browser(chromium_path: str):
    """Debian's Chromium driven by Playwright (skipped locally when absent, a failure in CI where
    GAMEDAY_REQUIRE_BROWSER=1); each browser test folder makes its own ``page``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()
