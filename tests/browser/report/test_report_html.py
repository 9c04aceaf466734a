"""The HTML report in headless Chromium: charts and markers drawn, nothing fetched, a screenshot taken."""

from __future__ import annotations

import struct

import pytest

from simulator.report import write_reports
from tests.helpers.scoring_kit import RunKit, exemplary

pytestmark = [pytest.mark.slow, pytest.mark.browser]

EVENT_MARKERS = ("fault", "alert", "ack", "declare", "mitigate", "resolve")


@pytest.fixture
def report(tmp_path):
    kit = RunKit(tmp_path / "run")
    exemplary(kit, actions=[(300, "restart:payments"), (320, "rollback:payments")])
    path = kit.write()
    write_reports(path, md=False, json=False)
    return path / "report.html"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_report_renders_offline_with_charts_and_markers(report, page, tmp_path):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("console", lambda m: failed.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    assert requests == [report.as_uri()]  # the document itself, nothing else: no CDN, no fonts, no script
    assert failed == []
    assert page.locator("script").count() == 0
    charts = page.locator("svg.chart")
    assert [charts.nth(i).get_attribute("data-chart") for i in range(charts.count())] == ["rps", "errors", "p95",
                                                                                          "gauge"]
    for i in range(charts.count()):
        chart = charts.nth(i)
        box = chart.bounding_box()
        assert box is not None and box["width"] > 600 and box["height"] > 120  # drawn, not collapsed
        kinds = chart.locator("g.marker").evaluate_all("els => els.map(e => e.dataset.kind)")
        for kind in EVENT_MARKERS:
            assert kind in kinds, (chart.get_attribute("data-chart"), kinds)
        assert chart.locator("polyline.line, polygon.area").count() >= 1
    # the error split is stacked: 2xx, 429 and 5xx areas
    assert page.locator("svg[data-chart=errors] polygon.area").evaluate_all(
        "els => els.map(e => e.dataset.series)") == ["2xx", "429 rejected", "5xx / conn err"]
    assert page.locator("[data-overall]").inner_text().startswith("9")
    assert page.locator("tr.item[data-item='mitigation.harm'] .st").inner_text() == "partly met"
    assert page.locator("#postmortem h3[data-section]").all_inner_texts() == [
        "Overview", "Timeline", "Root Cause", "Detection", "Response", "Resolution", "Lessons Learned", "Action Items"]
    assert page.locator("#timeline tr[data-kind='fault.injected']").count() == 1
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    width, height = png_size(shot.read_bytes())
    assert width == 1300 and height > 2000
    charts_shot = page.locator("#charts").screenshot()
    assert png_size(charts_shot)[1] > 600


def test_marker_tooltips_name_the_event(report, page):
    page.goto(report.as_uri())
    titles = page.locator("svg[data-chart=rps] g.marker > title").evaluate_all("els => els.map(e => e.textContent)")
    assert "fault leaky-release at 2m game time" in titles
    assert any(t.startswith("declared P1 at 4m20s") for t in titles)
    assert any(t.startswith("restart:payments at 5m") for t in titles)
