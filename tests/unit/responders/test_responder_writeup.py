"""The post-mortem's text follows from the facts: a restart storm, a trend alert, the timeline's order."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from simulator.responders import writeup
from simulator.responders.facts import Alerted, Facts
from simulator.responders.record import Action, Handled
from simulator.responders.sight import FaultSeen, Moment
from simulator.responders.team import assemble
from simulator.scenario import load_scenario
from tests.helpers.runhelpers import ROOT

T0 = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)
SCENARIO = load_scenario(ROOT / "scenarios" / "pool-exhaustion.yaml")
TEAM = assemble([], SCENARIO.responder.runbook)


def at(game: float) -> Moment:
    return Moment(game, T0 + timedelta(seconds=game / 4))  # x4, as the scenario runs


def span(seconds: float) -> str:
    return f"{seconds:g} game s"


def facts(alerts: list[Alerted], actions: list[Action], **kw) -> Facts:
    base = dict(ref="INC-7", title="payments failing", service="payments", severity="P1", opened=at(170),
                fault=FaultSeen(at(120), "app.release", "payments", {"version": "v2.4.0-leaky"}), alerts=alerts,
                actions=actions, marks={"ack": at(200), "declare": at(260), "mitigate": at(480), "resolve": at(600)},
                roles=dict(TEAM.roles), roles_at=at(260), handled=[], cause="Release v2.4.0 leaked connections.",
                scenario=SCENARIO, team=TEAM)
    return Facts(**{**base, **kw})


def test_a_restart_storm_shows_in_the_lessons_and_the_alternatives() -> None:
    restarts = [Action("restart:payments", at(300 + 30 * i), True, "restarted") for i in range(3)]
    f = facts([Alerted("HighErrorRate", "payments", "critical", "payments is failing requests", at(165))],
              [*restarts, Action("rollback:payments", at(420), True, "now release v2.3.1")])
    assert f.effective is not None and f.effective.action == "rollback:payments"
    assert f.detection_delay == 45.0
    text = writeup.fields(f, span, "")
    assert "Mitigation: restart:payments did not help; rollback:payments at T+7m did. Go to it first." \
        in text["lessons_learned"]
    assert text["resolution_alternatives"] == (
        "Chose rollback:payments; considered flag:payments.fallback_processor=on, kept in reserve; "
        "considered scale:payments.pool_size>8, kept in reserve; considered deploy:payments=v2.4.1, kept in reserve; "
        "tried restart:payments: it did not help, it does not remove the cause.")
    assert text["detection_earlier"].startswith("Only once users were hurt: HighErrorRate was the first signal.")
    assert text["root_cause"].startswith("payments degraded from T+2m (14:00:30 UTC) because release v2.4.0 leaked "
                                         "connections. So HighErrorRate fired from T+2m45s (14:00:41 UTC)")
    assert "restart:payments at T+5m, restart:payments at T+5m30s" in text["response_improve"]


def test_a_trend_alert_that_came_first_is_the_lesson_and_a_false_alarm_is_named() -> None:
    herring = Handled("INC-6", "auth", "false_alarm", "no fault touches auth", at(400))
    f = facts([Alerted("MemoryLeakTrend", "payments", "warning", "memory grows", at(150))],
              [Action("rollback:payments", at(420), True, "now release v2.3.1")], handled=[herring])
    text = writeup.fields(f, span, "")
    assert text["detection_earlier"].startswith("MemoryLeakTrend caught it at T+2m30s, before any threshold alert")
    assert "INC-6 on auth was a false alarm (no fault touches auth)" in text["lessons_learned"]
    assert text["overview_services"] == "payments (INC-7, primary); not affected (false alarms): auth (INC-6)"
    items = writeup.action_items(f, date(2026, 1, 5), span)
    assert [(i.type, i.owner, i.due) for i in items] == [
        ("fix", "Blake", date(2026, 1, 12)), ("monitoring", "Devon", date(2026, 1, 15)),
        ("process", "Avery", date(2026, 1, 19))]
    assert items[1].action.startswith("Page the on-call on MemoryLeakTrend for payments")


def test_the_timeline_puts_the_fault_and_the_alerts_among_the_trackers_lines() -> None:
    f = facts([Alerted("DbPoolSaturation", "payments", "warning", "pool nearly exhausted", at(150)),
               Alerted("HighErrorRate", "payments", "critical", "", at(400))], [])
    prefilled = "- **14:00:42 UTC**: Triggered by alert DbPoolSaturation\n- **14:01:50 UTC**: Acknowledged by Ann"
    lines = writeup.timeline(f, prefilled).splitlines()
    assert lines == [
        "- **14:00:30 UTC**: impact began: app.release on payments (version=v2.4.0-leaky)",
        "- **14:00:37 UTC**: alert DbPoolSaturation fired on payments: pool nearly exhausted",
        "- **14:00:42 UTC**: Triggered by alert DbPoolSaturation",
        "- **14:01:40 UTC**: alert HighErrorRate fired on payments",
        "- **14:01:50 UTC**: Acknowledged by Ann",
    ]
