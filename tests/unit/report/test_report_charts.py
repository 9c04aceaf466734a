"""The SVG charts: drawn from the data, markers where the events were, nothing external."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from simulator.report.charts import MarkerLine, Series, chart, nice_step, time_step

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_a_line_chart_with_markers_and_a_limit_line():
    t = [0.0, 10.0, 20.0, 30.0, 40.0]
    svg = chart("p95", "p95 latency", t, [Series("p95", [50, 60, None, 1500, 40], "#000")],
                markers=[MarkerLine(15, "fault", "fault f1"), MarkerLine(35, "resolve", "resolved"),
                         MarkerLine(99, "ack", "outside the window")],
                unit="ms", hlines=[(200.0, "critical tier limit", "#c00")])
    root = parse(svg)
    assert root.get("class") == "chart" and root.get("data-chart") == "p95"
    lines = root.findall(".//svg:polyline[@class='line']", NS)
    assert len(lines) == 2  # split at the gap (None)
    assert [len(pl.get("points").split()) for pl in lines] == [2, 2]
    markers = root.findall(".//svg:g[@class='marker']", NS)
    assert [m.get("data-kind") for m in markers] == ["fault", "resolve"]  # the one outside x is dropped
    assert markers[0].find("svg:title", NS).text == "fault f1 at 15s game time"
    assert root.find(".//svg:g[@class='hline']", NS) is not None
    # every marker sits at its x: 15 s of 0..40 s on a 840 px plot starting at 64
    x = float(markers[0].find("svg:line", NS).get("x1"))
    assert x == pytest.approx(64 + 15 / 40 * (920 - 64 - 16), abs=0.2)


def test_a_stacked_area_adds_up():
    t = [0.0, 1.0, 2.0]
    svg = chart("errors", "split", t, [Series("2xx", [10, 5, 0], "#0a0"), Series("5xx", [0, 5, 10], "#a00")],
                stacked=True)
    root = parse(svg)
    polys = root.findall(".//svg:polygon[@class='area']", NS)
    assert [p.get("data-series") for p in polys] == ["2xx", "5xx"]
    # the top of the 5xx area is the total (10 at every point): the same y for all three x
    tops = [pt.split(",")[1] for pt in polys[1].get("points").split()[:3]]
    assert len(set(tops)) == 1


def test_charts_reference_nothing_external_and_escape_labels():
    svg = chart("x", "<script>alert(1)</script>", [0.0, 1.0], [Series("a&b", [1, 2], "#000")])
    assert "<script>" not in svg
    assert re.findall(r"https?://[^\"']+", svg) == ["http://www.w3.org/2000/svg"]
    parse(svg)  # well-formed


def test_empty_series_say_so():
    root = parse(chart("x", "nothing", [], [Series("a", [], "#000")]))
    assert root.find(".//svg:text[@class='empty']", NS).text == "no samples"


@pytest.mark.parametrize(("span", "step"), [(10, 2), (12, 2.5), (95, 20), (0.3, 0.1), (1500, 500)])
def test_nice_steps(span, step):
    assert nice_step(span) == step


def test_time_steps_fit_about_eight_ticks():
    assert time_step(600) == 120
    assert time_step(4 * 86400) == 43200
    assert time_step(30) == 5
