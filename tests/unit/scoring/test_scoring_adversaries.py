"""Teams that game the score card, against a careful one, on the same incident (a real tracker database,
the run's journal): every loophole costs what it should, on the right line, and the careful team comes
out clearly ahead. The numbers are recorded in the closing note of #13."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.scoring_kit import GOOD_PM, RunKit, card_of, exemplary

FILLER = "Not sure really."
FILLER_PM = {key: FILLER for key in [*GOOD_PM, "timeline"]}
PARAPHRASE = ("The 2.4.0 deploy stopped handing DB connections back to the pool on refunds, so the pool ran dry; "
              "clients then retried immediately, which made it worse.")
KEYWORDS = "leak pool retry release connection exhausted"


def team(tmp_path: Path, name: str, **changes) -> RunKit:  # noqa: ANN003
    kit = RunKit(tmp_path / name, causal_chain=True)
    t = exemplary(kit, **{k: v for k, v in changes.items() if k not in ("after",)})
    if changes.get("after"):
        changes["after"](kit, t)
    return kit


def lost(card, item_id: str) -> float:  # noqa: ANN001
    it = card.item(item_id)
    return round(it.max_points - it.points, 2)


@pytest.fixture
def careful(tmp_path: Path):  # noqa: ANN201
    return card_of(team(tmp_path, "careful"))


def test_the_careful_team_earns_everything(careful) -> None:  # noqa: ANN001
    assert careful.overall == 100.0
    assert careful.item("pm.root_cause").status == "met"


def test_a_correct_paraphrase_earns_full_root_cause_credit(tmp_path: Path) -> None:
    card = card_of(team(tmp_path, "paraphrase", pm={"root_cause": PARAPHRASE}))
    assert card.item("pm.root_cause").status == "met", card.item("pm.root_cause").reason


def test_a_bare_keyword_list_earns_no_root_cause_credit(tmp_path: Path, careful) -> None:  # noqa: ANN001
    card = card_of(team(tmp_path, "keywords", pm={"root_cause": KEYWORDS}))
    assert card.item("pm.root_cause").points == 0.0
    assert careful.overall - card.overall == pytest.approx(lost(card, "pm.root_cause") / 89 * 100, abs=0.2)


def test_filler_in_every_post_mortem_field_fails_the_post_mortem(tmp_path: Path) -> None:
    card = card_of(team(tmp_path, "filler", pm=FILLER_PM))
    for item_id in ("pm.root_cause", "pm.detection", "pm.timeline"):
        assert card.item(item_id).points == 0.0, (item_id, card.item(item_id).reason)
    sections = card.item("pm.sections")  # only the action items (real ones) are left
    assert sections.points <= sections.max_points / 8 and "1/8 sections" in sections.reason
    assert "says only" in card.item("pm.detection").reason or "Not sure" in card.item("pm.detection").reason


def test_updates_that_say_nothing_fail_the_template(tmp_path: Path) -> None:
    card = card_of(team(tmp_path, "vague", update_text="Looking around.", doing_text="Looking around."))
    item = card.item("process.status_complete")
    assert item.points < item.max_points and "update 1" in item.reason


def test_one_person_in_every_role_keeps_a_quarter(tmp_path: Path) -> None:
    card = card_of(team(tmp_path, "solo", people=("Avery",) * 4))
    assert lost(card, "process.roles") == 4.5 and "Avery holds 4 roles" in card.item("process.roles").reason


def test_placeholder_action_items_fail(tmp_path: Path) -> None:
    card = card_of(team(tmp_path, "tbd", items=[("Fix it", "TBD", "fix", "1999-01-01")]))
    item = card.item("pm.action_items")
    assert item.points == 0.0 and "owner (a person)" in item.reason and "due date after the incident" in item.reason


def test_checklist_ticked_in_one_go_before_resolving_counts_nothing(tmp_path: Path) -> None:
    def tick_late(kit, t):  # noqa: ANN001, ANN202
        for i, key in enumerate(("deployments", "logs", "infrastructure", "dependencies", "configuration", "users")):
            t.at(500 + i * 0.1).checklist(t.ref, key)

    card = card_of(team(tmp_path, "late-ticks", checklist=[], after=tick_late))
    assert card.item("process.checklist").points == 0.0


def test_never_resolving_scores_well_below_resolving_without_a_post_mortem(tmp_path: Path) -> None:
    never = card_of(team(tmp_path, "never", mitigated=None, resolved=None, postmortem=False))
    no_pm = card_of(team(tmp_path, "no-pm", postmortem=False))
    assert never.overall < no_pm.overall < 85
    assert never.item("time.resolve").status == "missed" and never.item("pm.sections").status == "missed"


def test_a_second_incident_left_alone_costs_its_lines(tmp_path: Path, careful) -> None:  # noqa: ANN001
    def gateway(kit, t):  # noqa: ANN001, ANN202
        t.alert(180, name="HighErrorRate", service="gateway")

    card = card_of(team(tmp_path, "one-incident", after=gateway))
    other = [i for i in card.items if i.role == "related"]
    assert {i.status for i in other} == {"missed"} and sum(i.max_points for i in other) == 7
    assert card.overall <= careful.overall - 6


def test_the_gaming_team_is_far_behind_the_careful_one(tmp_path: Path, careful) -> None:  # noqa: ANN001
    """All of it at once: filler, keyword root cause, one person everywhere, late ticks, TBD owners, vague
    updates, nobody told the customers, and the gateway's incident left alone."""

    def game(kit, t):  # noqa: ANN001, ANN202
        for i, key in enumerate(("deployments", "logs", "infrastructure", "dependencies", "configuration", "users")):
            t.at(500 + i * 0.1).checklist(t.ref, key)
        t.alert(180, name="HighErrorRate", service="gateway")

    gamer = card_of(team(tmp_path, "gamer", pm={**FILLER_PM, "root_cause": KEYWORDS}, people=("Avery",) * 4,
                         checklist=[], update_text="Looking around.", doing_text="Looking around.",
                         audience="internal", items=[("Fix it", "TBD", "fix", "1999-01-01")], after=game))
    assert careful.overall - gamer.overall >= 30, (careful.overall, gamer.overall)
    losers = {i.id for i in gamer.items if i.points < i.max_points and i.counts}
    assert {"pm.sections", "pm.root_cause", "pm.detection", "pm.action_items", "process.roles",
            "process.checklist", "process.customer_comms", "process.status_complete", "related.acknowledge",
            "related.handled"} <= losers
