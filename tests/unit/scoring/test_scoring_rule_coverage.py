"""Alert coverage beside the score: which rules caught which incident (a scenario fault's window), which incidents
no rule caught, which rules fired with no incident (noise). Journals are the kit's (real Event records), the
rules listed by a ``monitor.plane`` event as the Prometheus plane writes it."""

from __future__ import annotations

from pathlib import Path

from simulator.scoring.card import RuleCoverage, ScoreCard
from tests.helpers.scoring_kit import RunKit, card_of, exemplary

USER = [{"name": "PaymentsDbPoolExhausted", "group": "payments-database", "file": "payments.rules.yml",
         "origin": "user"},
        {"name": "PaymentsDbPoolMisconfigured", "group": "payments-database", "file": "payments.rules.yml",
         "origin": "user"}]
SCENARIO_RULES = [{"name": "HighErrorRate", "group": "gameday-pool-kit", "file": "gameday.rules.yml",
                   "origin": "scenario"}]


def plane(kit: RunKit, rules: list[dict[str, str]] | None = None) -> None:
    kit.event("monitor.plane", 0.0, plane="prometheus", prometheus_url="http://127.0.0.1:9090",
              alertmanager_url="http://127.0.0.1:9093", rules=rules if rules is not None else USER + SCENARIO_RULES)


def revert(kit: RunKit, game: float, fid: str = "leaky-release") -> None:
    kit.event("fault.reverted", game, id=fid, how="ops", reverted_at=kit.wall(game))


def coverage_of(kit: RunKit, **overrides: object) -> RuleCoverage:
    card = card_of(kit, **overrides)
    assert card.rule_coverage is not None
    return card.rule_coverage


def rows(cov: RuleCoverage) -> dict[str, object]:
    return {r.name: r for r in cov.rules}


def test_the_catching_rule_the_silent_rule_and_the_noisy_rule(tmp_path: Path) -> None:
    kit = RunKit(tmp_path / "run").start()
    plane(kit)
    kit.alert(60, name="HighErrorRate")  # before any fault: noise
    kit.fault(120)
    kit.alert(170, name="PaymentsDbPoolExhausted")
    revert(kit, 320)
    kit.finish(600)
    cov = coverage_of(kit)
    by = rows(cov)
    caught, silent, noisy = by["PaymentsDbPoolExhausted"], by["PaymentsDbPoolMisconfigured"], by["HighErrorRate"]
    assert (caught.status, caught.incidents, caught.noise, caught.origin) == ("caught", ["incident 1"], 0, "user")
    assert caught.firings[0].after_fault_s == 50.0 and caught.firings[0].game == 170.0
    assert (silent.status, silent.firings) == ("silent", [])
    assert (noisy.status, noisy.noise, noisy.incidents, noisy.origin) == ("noise", 1, [], "scenario")
    assert cov.plane == "prometheus" and cov.uncaught == [] and [r.name for r in cov.noisy] == ["HighErrorRate"]
    inc = cov.incidents[0]
    assert (inc.fault, inc.caught_by, inc.first_rule, inc.first_after_s) == ("leaky-release",
                                                                             ["PaymentsDbPoolExhausted"],
                                                                             "PaymentsDbPoolExhausted", 50.0)
    assert [r.origin for r in cov.rules][:2] == ["user", "user"]  # the team's rules first
    assert cov.describe(caught) == "incident 1 (+50s after the fault)" and cov.describe(silent) == "—"


def test_a_rule_that_fires_before_any_fault_is_noise_and_the_incident_stays_uncaught(tmp_path: Path) -> None:
    kit = RunKit(tmp_path / "run").start()
    plane(kit)
    kit.alert(100, name="PaymentsDbPoolExhausted")  # 20 s before the fault: early, not coverage
    kit.fault(120)
    kit.finish(600)
    cov = coverage_of(kit)
    row = rows(cov)["PaymentsDbPoolExhausted"]
    assert row.status == "noise" and row.incidents == []
    assert [i.fault for i in cov.uncaught] == ["leaky-release"]


def test_a_firing_during_incident_2_counts_for_incident_2_only(tmp_path: Path) -> None:
    kit = RunKit(tmp_path / "run").start()
    plane(kit, [{"name": n, "group": "g", "file": "f.yml", "origin": "user"} for n in ("Second", "Late", "After")])
    kit.fault(120, fid="first")
    revert(kit, 300, "first")
    kit.alert(320, name="Late")  # 20 s after the revert, inside the scenario's 30 s cooldown: incident 1
    kit.alert(400, name="After")  # 100 s after it, before the second fault: noise
    kit.fault(600, fid="second")
    kit.alert(650, name="Second")
    revert(kit, 800, "second")
    kit.finish(900)
    cov = coverage_of(kit)
    by = rows(cov)
    assert by["Second"].incidents == ["incident 2"] and by["Second"].firings[0].after_fault_s == 50.0
    assert by["Late"].incidents == ["incident 1"]
    assert by["After"].status == "noise"
    assert [i.caught_by for i in cov.incidents] == [["Late"], ["Second"]]
    # the window after a revert is a policy the scoring config can change
    shorter = coverage_of(kit, coverage={"after_revert": "10s"})
    assert rows(shorter)["Late"].status == "noise" and "coverage.after_revert" in shorter.basis
    assert [i.fault for i in shorter.uncaught] == ["first"]


def test_overlapping_incidents_go_to_the_one_on_the_alerts_target(tmp_path: Path) -> None:
    kit = RunKit(tmp_path / "run").start()
    plane(kit, [{"name": n, "group": "g", "file": "f.yml", "origin": "user"} for n in ("OnPayments", "OnGateway")])
    kit.fault(120, fid="pool", target="payments")  # never reverted: in effect to the end
    kit.fault(600, fid="limits", target="gateway")
    kit.alert(650, name="OnPayments", target="payments")
    kit.alert(660, name="OnGateway", target="gateway")
    kit.finish(900)
    by = rows(coverage_of(kit))
    assert by["OnPayments"].incidents == ["incident 1"] and by["OnGateway"].incidents == ["incident 2"]


def test_a_red_herring_is_no_incident(tmp_path: Path) -> None:
    kit = RunKit(tmp_path / "run").start()
    plane(kit)
    kit.event("fault.scheduled", 119.0, id="leaky-release", kind="app.release", target="payments", at=120)
    kit.fault(120)
    kit.fault(300, fid="herring", target="auth")  # not scheduled: the facilitator's red herring
    kit.alert(310, name="PaymentsDbPoolMisconfigured", target="auth")
    revert(kit, 200)
    kit.finish(600)
    cov = coverage_of(kit)
    assert [i.fault for i in cov.incidents] == ["leaky-release"]
    assert rows(cov)["PaymentsDbPoolMisconfigured"].status == "noise"


def test_on_the_embedded_plane_the_scenarios_own_rules_are_listed(tmp_path: Path) -> None:
    kit = RunKit(tmp_path / "run").start()
    kit.fault(120)
    kit.alert(170, name="HighErrorRate")
    kit.finish(600)
    cov = coverage_of(kit)
    by = rows(cov)
    assert cov.plane == "embedded" and {r.origin for r in cov.rules} == {"scenario"}
    assert by["HighErrorRate"].status == "caught"
    assert by["DbPoolSaturation"].status == "silent"  # the payments app's default pool rule, never fired


def test_coverage_is_beside_the_score_not_in_it(tmp_path: Path) -> None:
    cards: list[ScoreCard] = []
    for name, rules in (("without", []), ("with", USER)):
        kit = RunKit(tmp_path / name)
        exemplary(kit)
        plane(kit, rules)
        cards.append(card_of(kit))
    without, with_rules = cards
    assert with_rules.overall == without.overall and with_rules.earned == without.earned
    assert {r.name for r in with_rules.rule_coverage.rules} == {"PaymentsDbPoolExhausted",
                                                                "PaymentsDbPoolMisconfigured"}
    assert ScoreCard.from_json(with_rules.to_json()).rule_coverage == with_rules.rule_coverage


def test_the_reports_show_the_coverage_table(tmp_path: Path) -> None:
    from rich.console import Console

    from simulator.report import Report
    from simulator.report.console import render_scorecard
    from simulator.report.markdown import scorecard_markdown

    kit = RunKit(tmp_path / "run")
    exemplary(kit)
    plane(kit)
    kit.alert(60, name="HighErrorRate")
    kit.alert(175, name="PaymentsDbPoolExhausted")
    card = card_of(kit)
    md = scorecard_markdown(card)
    assert "## Alert coverage (prometheus plane, beside the team's score)" in md
    assert ("| PaymentsDbPoolExhausted | yours (payments.rules.yml) | caught | 2m55s | incident 1 (+55s after the "
            "fault) |") in md
    assert "| PaymentsDbPoolMisconfigured | yours (payments.rules.yml) | never fired | — | — |" in md
    assert ("| HighErrorRate | scenario | caught | 1m, 2m50s | incident 1 (+50s after the fault); no incident "
            "(noise) |") in md and "noise (fired with no incident): HighErrorRate x1" in md
    console = Console(record=True, width=200)
    console.print(render_scorecard(card))
    text = console.export_text()
    assert "alert coverage, prometheus plane" in text and "PaymentsDbPoolMisconfigured" in text
    assert "incident 1 (leaky-release on payments; in the tracker: INC-" in text
    assert card.rule_coverage.incidents[0].tracker == [card.incident]
    html = Report.build(kit.path).html()
    assert 'data-rule="PaymentsDbPoolExhausted" data-result="caught"' in html
    assert 'data-rule="PaymentsDbPoolMisconfigured" data-result="never fired"' in html


def test_an_uncaught_incident_is_said_in_the_report(tmp_path: Path) -> None:
    from simulator.report.markdown import scorecard_markdown

    kit = RunKit(tmp_path / "run").start()
    plane(kit)
    kit.fault(120)
    kit.finish(600)
    md = scorecard_markdown(card_of(kit))
    assert "- incident 1 (leaky-release: app.release on payments) was caught by no rule" in md


def test_a_rule_that_flaps_all_run_long_shows_its_noise_beside_the_catch(tmp_path: Path) -> None:
    kit = RunKit(tmp_path / "run").start()
    plane(kit, [{"name": "Flappy", "group": "g", "file": "f.yml", "origin": "user"}])
    kit.fault(300)
    revert(kit, 400)
    for t in range(30, 900, 60):  # fires every game minute, fault or not
        kit.alert(t, name="Flappy")
        kit.event("alert.resolved", t + 20.3, alertname="Flappy", target="payments", state="resolved", at=t + 20)
    kit.finish(900)
    row = rows(coverage_of(kit))["Flappy"]
    assert row.status == "caught" and row.incidents == ["incident 1"]
    assert row.noise == 13 and len(row.firings) == 15  # 2 in the incident's window (330, 390), 13 outside it


def test_without_the_scenario_the_embedded_plane_lists_what_fired(tmp_path: Path) -> None:
    kit = RunKit(tmp_path / "run", scenario=False).start()
    kit.fault(120)
    kit.alert(170, name="HighErrorRate")
    kit.finish(600)
    cov = coverage_of(kit)
    assert [(r.name, r.status) for r in cov.rules] == [("HighErrorRate", "caught")]
    assert "no scenario" in cov.basis


def test_a_team_rule_named_like_a_scenario_rule_is_told_apart_by_the_scenario_label(tmp_path: Path) -> None:
    kit = RunKit(tmp_path / "run").start()
    plane(kit, [{"name": "HighErrorRate", "group": "team", "file": "team.yml", "origin": "user"},
                {"name": "HighErrorRate", "group": "gameday-pool-kit", "file": "gameday.yml", "origin": "scenario"}])
    kit.fault(120)
    kit.event("alert.firing", 150.3, alertname="HighErrorRate", target="payments", state="firing", at=150.0,
              labels={"severity": "critical", "service": "payments", "scenario": "pool-kit"}, source="prometheus")
    kit.event("alert.firing", 60.3, alertname="HighErrorRate", target="payments", state="firing", at=60.0,
              labels={"severity": "page", "service": "payments"}, source="prometheus")  # the team's, early
    kit.finish(600)
    cov = coverage_of(kit)
    by = {(r.origin, r.name): r for r in cov.rules}
    assert by[("scenario", "HighErrorRate")].status == "caught" and by[("scenario", "HighErrorRate")].noise == 0
    assert by[("user", "HighErrorRate")].status == "noise" and by[("user", "HighErrorRate")].incidents == []


def test_an_incident_names_the_tracker_incident_its_alerts_landed_in_not_another_services(tmp_path: Path) -> None:
    kit = RunKit(tmp_path / "run")
    t = exemplary(kit)
    other = t.at(200).send_alert("HighLatencyP95", "auth", severity="warning", summary="auth slow",
                                 run_id=kit.run_id)["incidents"][0]
    plane(kit)
    card = card_of(kit)
    landed = card.rule_coverage.incidents[0].tracker
    assert landed == [card.incident] and other not in landed
