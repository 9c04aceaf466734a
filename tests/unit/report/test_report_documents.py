"""The Markdown and JSON reports, the series behind the charts, and the merged timeline."""

from __future__ import annotations

import json
import re

from simulator.report import Report, write_reports
from simulator.report.series import build_series, lookup
from simulator.scoring.rundata import load_run
from tests.helpers.scoring_kit import RunKit, exemplary

# The standard's post-mortem template, verbatim (incident-response-standard.md, "Post-Mortem Template").
TEMPLATE_HEADINGS = ["## Overview", "## Timeline", "## Root Cause", "## Detection", "## Response", "## Resolution",
                     "## Lessons Learned", "## Action Items"]
TEMPLATE_LINES = ["- **Date and Time**:", "- **Duration**:", "- **Severity**:", "- **Services Affected**:",
                  "- **Customer Impact**:", "- How was the incident detected?",
                  "- Was there a delay in detection? Why?", "- Could we have detected it earlier?",
                  "- What went well in our response?", "- What could have been improved?",
                  "- Were the right people involved?", "- How was the incident resolved?",
                  "- Were there alternative approaches considered?", "- Is the resolution temporary or permanent?",
                  "| Action | Owner | Due Date | Status |"]


def postmortem_part(markdown: str) -> str:
    return markdown.split("\n---\n", 1)[0]


def assert_follows_template(pm: str) -> None:
    assert pm.startswith("# Incident Post-Mortem: ")
    headings = [line for line in pm.splitlines() if line.startswith("#")]
    assert headings[1:] == TEMPLATE_HEADINGS
    positions = [pm.index(line) for line in TEMPLATE_LINES]
    assert positions == sorted(positions)


def test_markdown_is_the_standards_postmortem_then_the_score_card(good_run):
    paths = write_reports(good_run, html=False, json=False)
    assert [p.name for p in paths] == ["scorecard.json", "report.md"]
    text = (good_run / "report.md").read_text()
    pm = postmortem_part(text)
    assert_follows_template(pm)
    assert "Release v2.4.0 leaked database connections" in pm
    assert "| Fix the connection leak on the refund path _(fix)_ | Blake | 2026-05-07 | open |" in pm
    card = text.split("\n---\n", 1)[1].lstrip()
    assert card.startswith("# Score Card: ")
    assert "## Capabilities (HSEEP)" in card
    assert re.search(r"\| No actions that made it worse \| partly met \| 2\.5 / 5 \| 1 harmful action", card)


def test_without_a_tracker_the_postmortem_is_a_draft_from_the_journal(tmp_path):
    kit = RunKit(tmp_path / "run")
    kit.start(responder="none")
    kit.samples(400, bad=[(150, 380)])
    kit.fault(120)
    kit.lost(150)
    kit.alert(170)
    kit.restored(380)
    kit.finish(400)
    report = Report.build(kit.write())
    pm = report.postmortem.markdown()
    assert_follows_template(pm)
    assert "_No post-mortem was written in the tracker; this draft is written from the run journal._" in pm
    assert "- **Services Affected**: payments" in pm
    assert "- **Customer Impact**: Steady state lost: availability payments = 0.41" in pm
    assert "fault injected: leaky-release (app.release on payments" in pm
    assert "alert FIRING: HighErrorRate on payments" in pm
    assert "[Detailed explanation of what caused the incident]" in pm  # the template's placeholder stays


def test_json_report_for_ci_and_dashboards(good_run):
    write_reports(good_run, html=False, md=False)
    doc = json.loads((good_run / "report.json").read_text())
    assert doc["schema_version"] == 1
    assert doc["scorecard"]["overall"] == json.loads((good_run / "scorecard.json").read_text())["overall"]
    assert doc["scorecard"]["phases"]["mttd"] == 50.0
    kinds = [e["kind"] for e in doc["timeline"]]
    assert kinds.index("fault.injected") < kinds.index("alert.firing") < kinds.index("incident.declared")
    series = doc["series"][0]
    assert series["target"] == "payments" and series["gauge"]["path"] == "gauges.db_pool_checked_out"
    assert len(series["t_game"]) == len(series["rps"]) == 60
    assert doc["postmortem"]["source"] == "tracker"
    assert doc["postmortem"]["markdown"].startswith("# Incident Post-Mortem:")


def test_series_pick_the_key_gauge_and_split_the_errors(good_run):
    run = load_run(good_run)
    (s,) = build_series(run)
    assert (s.app, s.tier, s.p95_limit, s.gauge_label) == ("payments", "critical", 200.0, "DB connections in use")
    i = s.t.index(200.0)  # inside the failure window: 30 of 40 requests fail, over 2.5 wall seconds
    assert (s.ok[i], s.failed[i], s.rejected[i], s.gauge[i], s.gauge_ref[i]) == (4.0, 12.0, 0.0, 8.0, 8.0)


def test_lookup_paths():
    sample = {"gauges": {"db_pool_size": 8}, "process": {"rss_bytes": 1e6}, "rps": 3,
              "by_tier": {"major": {"attempts": 20, "status_429": 5}}}
    assert lookup(sample, "gauges.db_pool_size") == 8.0
    assert lookup(sample, "process.rss_bytes") == 1e6
    assert lookup(sample, "tier_reject.major") == 0.25
    assert lookup(sample, "gauges.missing") is None
    assert lookup(sample, "tier_reject.regular") is None


def test_timeline_merges_the_run_and_the_tracker_once(good_run):
    report = Report.build(good_run)
    kinds = [e.kind for e in report.timeline]
    assert kinds.count("incident.declared") == 1  # the journal mirror, not also the tracker's copy
    assert "sample" not in kinds and "ops.restart" in kinds
    walls = [e.at.wall for e in report.timeline]
    assert walls == sorted(walls)
    declared = next(e for e in report.timeline if e.kind == "incident.declared")
    assert (declared.source, declared.game_text(), declared.wall_text()) == ("tracker", "+4m20s", "10:01:05")


def test_reports_for_a_failed_response_say_why(kit):
    exemplary(kit, severity="P3", postmortem=False)
    path = kit.write()
    write_reports(path)
    md = (path / "report.md").read_text()
    assert "_No post-mortem was written for INC-" in md
    assert "declared P3, the truth is P1: under-classified by 2 levels" in md


def test_html_escapes_what_people_typed(kit):
    exemplary(kit, pm={"root_cause": "<script>alert('x')</script> leaked **connections** from the pool",
                       "timeline": "- **10:01:05 UTC**: <img src=x onerror=alert(1)> declared"})
    html = Report.build(kit.write()).html()
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "<li><strong>10:01:05 UTC</strong>: &lt;img src=x onerror=alert(1)&gt; declared</li>" in html
    assert 'http-equiv="Content-Security-Policy" content="default-src \'none\'' in html
