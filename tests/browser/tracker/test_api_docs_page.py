"""/api/docs in a real browser under the tracker's own Content-Security-Policy: it shows the API (on main it
was blank: Swagger UI from a CDN, which the CSP blocks), with no request leaving the machine."""

from __future__ import annotations

import pytest

from simulator.tracker.embedded import start_tracker

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_api_docs_render_offline_with_nothing_blocked(tmp_path, page):
    handle = start_tracker(tmp_path / "docs.db")
    try:
        requests: list[str] = []
        problems: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "404" not in m.text else None)
        failed: list[str] = []
        page.on("response", lambda r: failed.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
        page.goto(handle.url + "/api/docs")
        assert page.locator("h1").inner_text().endswith("API")
        assert page.locator("section h3").count() > 30
        assert page.get_by_text("POST /api/v1/alerts/alertmanager").is_visible()
        assert all(url.startswith(handle.url) for url in requests), requests
        assert problems == [] and failed == []  # no CSP violation, nothing missing (a favicon aside)
    finally:
        handle.stop()
