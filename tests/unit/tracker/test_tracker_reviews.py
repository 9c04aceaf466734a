"""Evaluator reviews and customer messages in the tracker's service, and the review page's card reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.errors import InputError, NotFound
from simulator.rundir import RunDir
from simulator.tracker import judgement
from simulator.tracker.reviews import note_problem

RUN = "20240425-090000-pool-exhaustion-1a2b"
WHY = "The root cause names the leaked connections and the release that caused them."


@pytest.fixture
def run_incident(svc) -> str:
    return svc.create_incident(title="Payments failing", service="payment-api", severity="P1", actor="alice",
                               run_id=RUN).ref


def test_the_latest_review_of_an_item_counts_and_the_earlier_ones_stay(svc, clock, run_incident):
    first = svc.review_item(RUN, item_id="pm.root_cause", decision="confirm", note=WHY, reviewer="Erin Evaluator",
                            incident_ref=run_incident.lower())
    assert (first.decision, first.fraction, first.incident_ref, first.current) == ("confirm", None, run_incident, True)
    clock.advance(minutes=5)
    second = svc.review_item(RUN, item_id="pm.root_cause", decision="override", fraction=0.5, reviewer="Erin Evaluator",
                             note="Only the pool is named; the release that leaked the connections is not.",
                             incident_ref=run_incident)
    run_level = svc.review_item(RUN, item_id="process.customer_comms", decision="override", fraction=0,
                                note="No customer heard anything during the outage.", reviewer="Frank Lee")
    listed = svc.reviews(RUN)
    assert [r.id for r in listed] == [first.id, second.id, run_level.id]  # oldest first: the audit trail
    assert [r.current for r in listed] == [False, True, True]
    assert listed[1].fraction == 0.5 and listed[1].created_at > listed[0].created_at
    assert listed[2].incident_ref is None and listed[2].fraction == 0.0
    assert svc.reviews("another-run") == []
    assert [r.run_id for r in svc.reviews()] == [RUN] * 3


def test_reviews_of_one_item_in_two_incidents_are_kept_apart(svc, run_incident):
    other = svc.create_incident(title="Gateway 5xx", service="gateway", actor="bob", run_id=RUN).ref
    for ref in (run_incident, other):
        svc.review_item(RUN, item_id="pm.sections", decision="confirm", note=WHY, reviewer="Erin", incident_ref=ref)
    assert all(r.current for r in svc.reviews(RUN))


@pytest.mark.parametrize(("changes", "message"), [
    ({"decision": "approve"}, "decision must be confirm or override"),
    ({"decision": "override"}, "an override needs the share"),
    ({"decision": "override", "fraction": 1.5}, "between 0 and 1"),
    ({"decision": "override", "fraction": -0.1}, "between 0 and 1"),
    ({"decision": "override", "fraction": float("nan")}, "between 0 and 1"),
    ({"fraction": 0.5}, "a confirmation keeps the provisional score"),
    ({"note": ""}, "the note is empty"),
    ({"note": "TBD"}, "the note is empty or template text"),
    ({"note": "Not sure really."}, "the note says too little"),
    ({"note": "Looks good to me, agreed."}, "the note says too little"),
    ({"note": "Root cause named, TODO check"}, "still says TODO"),
    ({"note": "x" * 2001}, "at most 2000"),
    ({"item_id": "root_cause"}, "not of the form category.name"),
    ({"item_id": "pm.root_cause.extra"}, "not of the form category.name"),
    ({"item_id": "PM.Root"}, "not of the form category.name"),
    ({"item_id": "pm." + "x" * 80}, "not of the form category.name"),
    ({"reviewer": " "}, "must be a person's name"),
    ({"reviewer": "anonymous"}, "must be a person's name"),
    ({"reviewer": "42"}, "must be a person's name"),
    ({"run_id": "a/b"}, "the run's id"),
    ({"run_id": ""}, "the run's id"),
])
def test_bad_reviews_are_refused_with_the_reason(svc, changes, message):
    args = {"run_id": RUN, "item_id": "pm.root_cause", "decision": "confirm", "note": WHY, "reviewer": "Erin",
            **changes}
    with pytest.raises(InputError, match=message):
        svc.review_item(args.pop("run_id"), **args)
    assert svc.reviews() == []


def test_a_review_names_an_incident_of_its_run(svc, run_incident):
    elsewhere = svc.create_incident(title="Auth slow", service="auth", actor="bob", run_id="other-run").ref
    with pytest.raises(InputError, match=f"belongs to run other-run, not {RUN}"):
        svc.review_item(RUN, item_id="pm.sections", decision="confirm", note=WHY, reviewer="Erin",
                        incident_ref=elsewhere)
    with pytest.raises(NotFound):
        svc.review_item(RUN, item_id="pm.sections", decision="confirm", note=WHY, reviewer="Erin",
                        incident_ref="INC-1999-0001")
    assert svc.reviews() == []


def test_notes_that_say_why_pass_and_filler_does_not():
    assert note_problem("Paraphrase is correct: leak, then pool exhaustion, then 5xx.") is None
    assert note_problem("Emailed Acme and Globex account teams an ETA at 10:05.") is None
    for filler in ("ok", "Not sure.", "fine fine fine", "Agree with the automated score", "see above", "???"):
        assert note_problem(filler), filler


def test_customer_messages_and_external_updates(svc, clock, run_incident):
    svc.declare(run_incident, severity="P1", actor="alice")
    internal = svc.post_status_update(run_incident, status="Investigating", what_we_know="5xx at 30%",
                                      what_we_are_doing="Checking the pool", actor="alice")
    external = svc.post_status_update(run_incident, status="Investigating", what_we_know="Card payments fail",
                                      what_we_are_doing="Switching to the fallback processor", actor="carol",
                                      audience="external")
    assert (internal.audience, external.audience) == ("internal", "external")
    with pytest.raises(InputError, match="audience must be internal or external"):
        svc.post_status_update(run_incident, status="Investigating", what_we_know="x", what_we_are_doing="y",
                               audience="everyone")
    clock.advance(minutes=1)
    sent = svc.post_customer_message(run_incident, channel="email", text="  We are switching processors; ETA 10:30.",
                                     to="Acme and Globex account teams", actor="carol")
    assert (sent.channel, sent.text, sent.to, sent.actor) == ("email", "We are switching processors; ETA 10:30.",
                                                               "Acme and Globex account teams", "carol")
    page = svc.post_customer_message(run_incident, channel="status_page", text="Degraded card payments.",
                                     actor="carol")
    assert page.to is None and svc.customer_messages(run_incident) == [sent, page]
    for channel, text, message in (("pigeon", "hello", "channel must be one of status_page, email, support"),
                                   ("email", "   ", "needs its text"), ("email", "x" * 5001, "at most 5000")):
        with pytest.raises(InputError, match=message):
            svc.post_customer_message(run_incident, channel=channel, text=text, actor="carol")
    with pytest.raises(NotFound):
        svc.post_customer_message("INC-1999-0001", channel="email", text="hello", actor="carol")
    events = svc.timeline(run_incident, kinds=["incident.customer_message", "incident.status_update"])
    assert [(e.kind, e.data.get("audience"), e.data.get("channel")) for e in events] == [
        ("incident.status_update", "internal", None), ("incident.status_update", "external", None),
        ("incident.customer_message", None, "email"), ("incident.customer_message", None, "status_page")]
    assert events[1].summary == "Status update (Investigating, external) by carol"
    assert events[2].summary == ("Customer message (email to Acme and Globex account teams) by carol: "
                                 "We are switching processors; ETA 10:30.")


def test_the_export_carries_reviews_customer_messages_and_audiences(svc, run_incident):
    svc.declare(run_incident, severity="P1", actor="alice")
    svc.post_status_update(run_incident, status="Investigating", what_we_know="Card payments fail",
                           what_we_are_doing="Fallback on", actor="carol", audience="external")
    svc.post_customer_message(run_incident, channel="support", text="Macro for support: payments degraded.",
                              actor="carol")
    svc.review_item(RUN, item_id="process.customer_comms", decision="confirm", reviewer="Erin",
                    note="Status page and support told within ten minutes of declaring.")
    exported = svc.export(RUN)
    [inc] = exported.incidents
    assert [m.channel for m in inc.customer_messages] == ["support"]
    assert [u.audience for u in inc.incident.status_updates] == ["external"]
    assert [(r.item_id, r.current) for r in exported.reviews] == [("process.customer_comms", True)]
    assert svc.export("another-run").reviews == []


def _card(folder: Path, run_id: str, items: list[dict], **extra) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    RunDir(folder).scorecard.write_text(json.dumps({"run_id": run_id, "items": items, **extra}))
    return folder


def _item(item_id: str, **extra) -> dict:
    return {"id": item_id, "title": item_id.title(), "status": "met", "points": 3.0, "max_points": 3.0,
            "reason": f"reason of {item_id}", **extra}


def test_the_card_reader_lists_the_items_the_card_marks_provisional(tmp_path):
    run = _card(tmp_path / RUN, RUN, [
        _item("pm.root_cause", provisional=True, incident="INC-2024-0001"),
        _item("time.acknowledge", provisional=False),
        _item("process.customer_comms", provisional="communication is judged by an evaluator")],
        incidents=[{"ref": "INC-2024-0002", "items": [_item("pm.sections", provisional=True)]}])
    card = judgement.load_card(RUN, judgement.candidate_folders(RUN, [str(tmp_path)]))
    assert card.path == RunDir(run).scorecard and card.problem is None
    assert [(i.item_id, i.incident_ref) for i in card.items] == [
        ("pm.root_cause", "INC-2024-0001"), ("process.customer_comms", None), ("pm.sections", "INC-2024-0002")]
    assert card.items[1].why_provisional == "communication is judged by an evaluator"
    assert (card.items[0].points, card.items[0].reason) == (3.0, "reason of pm.root_cause")


def test_a_card_without_marks_falls_back_to_the_judgement_items(tmp_path):
    _card(tmp_path, RUN, [_item("pm.root_cause"), _item("time.acknowledge"), _item("process.customer_comms")])
    card = judgement.load_card(RUN, judgement.candidate_folders(RUN, [tmp_path, None, "http://example.org/run"]))
    assert [i.item_id for i in card.items] == ["pm.root_cause", "process.customer_comms"]


def test_no_card_of_the_run_is_said_so(tmp_path):
    _card(tmp_path / "elsewhere", "another-run", [_item("pm.root_cause")])
    (tmp_path / "broken").mkdir()
    RunDir(tmp_path / "broken").scorecard.write_text("{not json")
    card = judgement.load_card(RUN, [tmp_path / "elsewhere", tmp_path / "broken", tmp_path / "absent"])
    assert card.path is None and card.items == []
    assert card.problem.startswith(f"no score card of run {RUN} is reachable; looked in ")
    assert str(RunDir(tmp_path / "absent").scorecard) in card.problem
    assert "knows no folder" in judgement.load_card(RUN, []).problem


def test_a_run_id_never_leaves_the_known_folders(tmp_path):
    assert judgement.candidate_folders("..", [tmp_path]) == [tmp_path]
    assert judgement.candidate_folders("a/../../etc", [tmp_path]) == [tmp_path]
    assert judgement.candidate_folders(RUN, [tmp_path, tmp_path]) == [tmp_path, tmp_path / RUN]
