"""The score card as a whole: traceable totals, HSEEP ratings, JSON, missing tracker, damaged folders."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.domain.standard import SEVERITIES
from simulator.errors import InputError, NotFound, ValidationFailed
from simulator.scoring import ScoreCard, score_run
from simulator.scoring.config import PRIMARY_ITEMS, default_config, load_config
from simulator.scoring.rubric import RULES
from simulator.scoring.rundata import load_run
from simulator.scoring.severity import levels_apart, rank
from simulator.tracker.local import LocalTracker
from tests.helpers.scoring_kit import RunKit, card_of, exemplary


def test_every_point_is_traceable_to_a_line_item(kit):
    exemplary(kit, severity="P2", actions=[(300, "restart:payments"), (320, "rollback:payments")],
              checklist=["logs"], postmortem=False)
    card = card_of(kit)
    assert [i.id for i in card.items] == list(RULES) == list(PRIMARY_ITEMS)
    assert all(i.incident == card.incident and i.role == "primary" for i in card.items)
    assert all(i.source in ("standard", "policy") and i.basis for i in card.items)
    counted = [i for i in card.items if i.counts]
    assert card.earned == pytest.approx(sum(i.points for i in counted))
    assert card.possible == pytest.approx(sum(i.max_points for i in counted))
    assert card.overall == round(100 * card.earned / card.possible, 1)
    assert all(0 <= i.points <= i.max_points for i in card.items)
    assert all(i.reason for i in card.items)
    # lost: severity 6 (P2 for P1), checklist 3.33 (1/6 of 4), harm 2.5 (one restart), post-mortem 18, permanence 3
    # (a rollback is temporary and, with no post-mortem, no fix is planned); escalation and noticing without an
    # alert n/a (5 + 3), the owning team's escalation n/a (3: nobody owns payments), and on-call paging n/a (2:
    # nobody was on call)
    assert (card.earned, card.possible, card.overall, card.grade) == (54.17, 87.0, 62.3, "D")
    # detection by our own alert rules is monitoring coverage, beside the score, with no points
    assert card.monitoring is not None and card.monitoring.status == "met" and card.monitoring.max_points == 0
    assert "detect.mttd" not in {i.id for i in card.items}


def test_capability_ratings_follow_the_share_of_points(kit):
    exemplary(kit, severity="P3", checklist=["logs"])
    caps = {c.key: c for c in card_of(kit).capabilities}
    situational = caps["situational_assessment"]  # severity 0/10 + checklist 0.67/4
    assert (situational.points, situational.max_points, situational.rating) == (0.67, 14.0, "U")
    assert "detection" not in caps or caps["detection"].share is None  # monitoring is not the team's
    # and the page does not call it "Not observed": the alert did detect it, which is monitoring coverage
    assert caps["detection"].rating_text.startswith("Not rated: monitoring detected it first"), caps["detection"]
    assert caps["incident_command"].rating_text == "Performed without challenges"


def test_json_round_trip_and_markers_for_the_charts(kit):
    exemplary(kit, actions=[(300, "restart:payments"), (320, "rollback:payments")])
    card = card_of(kit)
    data = json.loads(json.dumps(card.to_json()))
    again = ScoreCard.from_json(data)
    assert again == card
    kinds = {m.kind for m in card.markers}
    assert {"fault", "alert", "lost", "ack", "declare", "ops", "mitigate", "recovered", "resolve"} <= kinds
    assert [m.wall for m in card.markers] == sorted(m.wall for m in card.markers)
    assert card.started_at == "2026-04-23T09:59:59+00:00"
    assert [a.type for a in card.action_items] == ["fix", "monitoring"]


def test_no_tracker_at_all_scores_what_the_journal_shows(tmp_path):
    kit = RunKit(tmp_path / "run")
    kit.start(responder="none")
    kit.samples(600, bad=[(150, 380)])
    kit.fault(120)
    kit.lost(150)
    kit.alert(170)
    kit.ops(320, "rollback:payments", actor="cli")
    kit.restored(380)
    kit.finish(600)
    card = card_of(kit)
    assert card.sources["tracker"] is None
    observed = {i.id for i in card.items if i.counts}
    assert observed == {"time.mitigate", "mitigation.choice", "mitigation.permanence", "mitigation.harm"}
    assert card.monitoring is not None and card.monitoring.counts
    assert all(i.status == "not_observed" for i in card.items if i.category in ("pm", "process"))
    # a rollback is temporary and no post-mortem plans the fix: the permanence item's 3 points are lost
    assert (card.overall, card.possible, card.not_observed_points) == (round(100 * 19 / 22, 1), 22.0, 67.0)
    assert card.item("mitigation.permanence").status == "missed"
    assert any("no tracker data" in w for w in card.warnings)
    strict = card_of(kit, not_observed="zero")
    assert strict.overall == round(100 * 19 / 89, 1)
    assert next(c for c in strict.capabilities if c.key == "communications").rating == "U"


def test_the_runs_own_tracker_db_lends_it_incidents_opened_without_a_run(tmp_path):
    kit = RunKit(tmp_path / "run", mirror=False)
    kit.start()
    kit.fault(120)
    kit.finish(600)
    kit.write()
    with LocalTracker(str(kit.path / "tracker.db"), actor="erin") as tracker:  # no run stamped on incidents
        mine = tracker.create_incident("Payments failing", "payments", severity="P1").ref
        tracker.create_incident("Someone else's", "auth", run_id="another-run")
    run = load_run(kit.path)
    assert run.tracker is not None and run.tracker.source == "tracker.db"
    assert [(i.ref, i.service, i.severity) for i in run.tracker.incidents] == [(mine, "payments", "P1")]


def test_the_incident_for_the_faulty_service_is_the_one_scored(kit):
    t = exemplary(kit)
    t.alert(180, name="HighLatencyP95", service="gateway")
    card = card_of(kit)
    assert len(card.incidents) == 2
    primary = [i for i in card.incidents if i.primary]
    assert [i.service for i in primary] == ["payments"] and card.incident == primary[0].ref
    # the gateway's incident came after the fault: it is scored too, as a related incident
    gateway = next(i for i in card.incidents if i.service == "gateway")
    assert gateway.role == "related"
    lines = {i.id: i for i in card.items if i.incident == gateway.ref}
    assert set(lines) == {"related.acknowledge", "related.handled"}
    ack = lines["related.acknowledge"]
    assert ack.status == "missed" and "never acknowledged" in ack.reason


def test_damaged_run_folders_are_reported_not_raised(tmp_path):
    with pytest.raises(NotFound, match="no such run folder"):
        load_run(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(NotFound, match="not a run folder"):
        load_run(tmp_path / "empty")
    (tmp_path / "blank").mkdir()
    (tmp_path / "blank" / "journal.jsonl").write_text("\n{torn line\n")
    with pytest.raises(InputError, match="journal is empty"):
        load_run(tmp_path / "blank")


def test_a_broken_scenario_file_falls_back_to_the_truth_in_the_journal(kit):
    exemplary(kit)
    path = kit.write()
    (path / "scenario.yaml").write_text("apiVersion: gameday/v1\nkind: Scenario\nmetadata: [oops\n")
    card = score_run(path)
    assert card.sources["truth"] == "run.started"
    assert card.truth_severity == "P1"
    assert card.item("class.severity").status == "met"
    assert any("scenario.yaml does not validate" in w for w in card.warnings)


# ---- the configuration


def test_defaults_come_from_the_standard_and_add_up_to_100():
    cfg = default_config()
    assert cfg.total_points() == 100
    for code, level in SEVERITIES.items():
        assert cfg.target("resolve", code) == level.resolve_within.total_seconds()
        assert cfg.target_of("resolve", code).source == "standard"
        assert level.resolve_text in cfg.target_of("resolve", code).basis
    # the standard's own response times are the standard's; 'Immediate' is a policy figure, labelled so
    p2 = cfg.target_of("acknowledge", "P2")
    assert (p2.seconds, p2.source) == (1800, "standard") and "'< 30 min'" in p2.basis
    assert cfg.target_of("acknowledge", "P3").seconds == 7200
    p1 = cfg.target_of("acknowledge", "P1")
    assert (p1.seconds, p1.source) == (300, "policy") and "'Immediate'" in p1.basis
    # 'Next business day': from a Friday 10:00 UTC alert, the end of Monday
    friday = datetime(2026, 11, 27, 10, 0, tzinfo=UTC).timestamp()
    p4 = cfg.target_of("acknowledge", "P4", friday)
    assert p4.source == "standard" and p4.seconds == (datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC).timestamp()
                                                      - friday)
    # the standard sets no status-update cadence: every figure there is policy, and says so
    for code in SEVERITIES:
        t = cfg.target_of("status_update", code)
        assert t.source == "policy" and "policy" in t.basis and "standard" not in t.basis.split(":")[0]
    for name in ("detect", "notice", "mitigate", "customer_comms"):
        assert all(cfg.target_of(name, code).source == "policy" for code in SEVERITIES)
    assert (rank("P1"), levels_apart("P3", "P1"), levels_apart("P1", "P2")) == (1, 2, -1)


def test_an_invented_standard_figure_is_refused(tmp_path):
    path = tmp_path / "scoring.yaml"
    path.write_text("targets:\n  status_update: {standard: update}\n")
    with pytest.raises(ValidationFailed, match="the standard sets no status-update cadence"):
        load_config(path)


def test_a_user_config_merges_over_the_defaults(tmp_path):
    path = tmp_path / "scoring.yaml"
    path.write_text("clock: wall\ntime_scale_factor: 4\ntargets:\n  detect: {fixed: 10m}\n"
                    "items:\n  detect.notice: {points: 20}\n")
    cfg = load_config(path)
    assert (cfg.clock, cfg.target("detect", "P4")) == ("wall", 2400.0)
    assert cfg.items["detect.notice"].points == 20 and cfg.items["detect.notice"].capability == "detection"
    assert cfg.total_points() == 117


@pytest.mark.parametrize(("text", "message"), [
    ("clock: sundial\n", "scoring.yaml:1:8: clock: expected one of 'game', 'wall'"),
    ("targets:\n  detect: {fixed: 5m, standard: respond}\n", "scoring.yaml:2:11: targets.detect: expected exactly one"),
    ("items:\n  detect.speed: {points: 1, capability: detection, title: x}\n", "unknown line item(s) detect.speed"),
    ("hseep: {performed: 0.2}\n", "expected performed >= some_challenges >= major_challenges"),
    ("clock: [game\n", "invalid YAML"),
])
def test_bad_config_is_one_located_line(tmp_path, text, message):
    path = tmp_path / "scoring.yaml"
    path.write_text(text)
    with pytest.raises(ValidationFailed) as err:
        load_config(path)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


# ---- robustness: any damage to the journal still gives a card


@pytest.fixture(scope="module")
def exemplary_journal(tmp_path_factory):
    kit = RunKit(tmp_path_factory.mktemp("golden") / "run")
    exemplary(kit, actions=[(300, "restart:payments"), (320, "rollback:payments")])
    path = kit.write()
    (path / "tracker.db").unlink()  # the journal mirror alone
    return path


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drop=st.sets(st.integers(min_value=0, max_value=200), max_size=60), cut=st.integers(min_value=1,
                                                                                            max_value=400))
def test_any_subset_of_the_journal_scores_without_error(exemplary_journal, tmp_path_factory, drop, cut):
    lines = (exemplary_journal / "journal.jsonl").read_text().splitlines()
    kept = [line for n, line in enumerate(lines[:cut]) if n not in drop or n == 0]
    folder = tmp_path_factory.mktemp("cut")
    shutil.copy(exemplary_journal / "scenario.yaml", folder / "scenario.yaml")
    (folder / "journal.jsonl").write_text("\n".join(kept) + "\n")
    card = score_run(folder)
    assert 0.0 <= card.overall <= 100.0
    assert card.earned <= card.possible + 1e-9
    assert all(0 <= i.points <= i.max_points and i.reason for i in card.items)
