"""Every incident of a run is scored: the primary one on the full rubric, every other one the faults
caused on the related items, and one that was not real on the standard's false-alarm branch."""

from __future__ import annotations

from tests.helpers.scoring_kit import RunKit, card_of, exemplary


def lines_of(card, ref):  # noqa: ANN001, ANN201
    return {i.id: i for i in card.items if i.incident == ref}


def test_a_related_incident_left_alone_costs_its_acknowledgement_and_handling(tmp_path):
    careful, ignoring = RunKit(tmp_path / "careful"), RunKit(tmp_path / "ignoring")
    for kit in (careful, ignoring):
        t = exemplary(kit)
        gw = t.alert(180, name="HighErrorRate", service="gateway")
        if kit is careful:
            t.at(200).ack(gw, actor="alice")
            t.at(210).note(gw, f"Same cause as {t.ref}: the payments pool is exhausted; tracked there.")
            t.at(395).resolve(gw)
    good, bad = card_of(careful), card_of(ignoring)
    gw_good = lines_of(good, next(i.ref for i in good.incidents if i.service == "gateway"))
    gw_bad = lines_of(bad, next(i.ref for i in bad.incidents if i.service == "gateway"))
    assert {i.status for i in gw_good.values()} == {"met"}
    assert gw_bad["related.acknowledge"].status == "missed" and gw_bad["related.handled"].status == "missed"
    assert all(i.role == "related" for i in gw_bad.values())
    assert good.overall == 100.0
    assert sum(i.max_points for i in gw_bad.values()) == 7.0
    assert round(good.earned - bad.earned, 2) == 7.0  # exactly the two lines of the ignored incident
    assert good.overall - bad.overall >= 6


def test_a_related_incident_closed_without_a_word_earns_half(tmp_path):
    kit = RunKit(tmp_path / "run")
    t = exemplary(kit)
    gw = t.alert(180, name="HighErrorRate", service="gateway")
    t.at(200).ack(gw, actor="alice")
    t.at(395).resolve(gw)
    handled = lines_of(card_of(kit), gw)["related.handled"]
    assert handled.status == "partial" and "neither names the primary incident" in handled.reason


def test_a_false_alarm_before_the_fault_is_scored_on_verify_document_close(tmp_path):
    done, left = RunKit(tmp_path / "done"), RunKit(tmp_path / "left")
    for kit in (done, left):
        t = exemplary(kit)
        early = t.at(60).send_alert("HighLatencyP95", "auth", severity="warning", summary="auth slow",
                                    run_id=kit.run_id)["incidents"][0]
        if kit is done:
            t.at(70).ack(early, actor="alice")
            t.at(80).note(early, "Verified: false alarm. Auth p95 stayed under its 500 ms tier threshold; "
                                     "a dashboard hiccup, no user impact.")
            t.at(90).resolve(early)
        kit.false_alarm = early
    good, bad = card_of(done), card_of(left)
    g, b = lines_of(good, done.false_alarm), lines_of(bad, left.false_alarm)
    assert set(g) == {"false_alarm.verify", "false_alarm.document", "false_alarm.close"}
    assert {i.status for i in g.values()} == {"met"} and all(i.role == "false_alarm" for i in g.values())
    assert {i.status for i in b.values()} == {"missed"}
    assert next(i for i in good.incidents if i.ref == done.false_alarm).role == "false_alarm"
    assert good.incident != done.false_alarm  # the real incident stays the primary one
    assert good.overall == 100.0 and bad.overall < good.overall


def test_a_false_alarm_closed_with_filler_is_not_documented(tmp_path):
    kit = RunKit(tmp_path / "run")
    t = exemplary(kit)
    early = t.at(60).send_alert("HighLatencyP95", "auth", severity="warning", summary="auth slow",
                                run_id=kit.run_id)["incidents"][0]
    t.at(70).ack(early, actor="alice")
    t.at(80).note(early, "TBD")
    t.at(90).resolve(early)
    doc = lines_of(card_of(kit), early)["false_alarm.document"]
    assert doc.status == "missed"


def test_a_red_herring_does_not_start_the_incident_clock(tmp_path):
    kit = RunKit(tmp_path / "run")
    kit.start()
    kit.samples(600, bad=[(150, 380)])
    # the facilitator's red herring, injected early; the scenario's fault is journaled as fault.scheduled
    kit.event("fault.injected", 30.4, id="herring-1", kind="proxy.latency", target="payments",
              params={"latency": 20}, effective_at=kit.wall(30))
    kit.event("fault.scheduled", 119.9, id="leaky-release", kind="app.release", target="payments")
    kit.fault(120)
    kit.lost(150)
    kit.alert(170)
    kit.restored(380)
    kit.finish(600)
    card = card_of(kit)
    assert card.monitoring.measured_s == 50.0  # from the scenario's fault at 120, not the herring at 30


def test_an_evaluator_overrides_a_provisional_item_and_the_card_says_who_and_why(tmp_path):
    kit = RunKit(tmp_path / "run")
    t = exemplary(kit)
    before = card_of(kit).item("pm.root_cause")
    assert (before.status, before.judgement) == ("met", "provisional")
    t.at(700).review_item(kit.run_id, "pm.root_cause", "override", "The root cause names the leak but misses why "
                          "the pool had no timeout; half credit.", fraction=0.5, incident_ref=t.ref, reviewer="Morgan")
    t.at(710).review_item(kit.run_id, "pm.sections", "confirm", "Sections are specific to the payments outage.",
                          incident_ref=t.ref, reviewer="Morgan")
    card = card_of(kit)
    rc, sections = card.item("pm.root_cause"), card.item("pm.sections")
    assert rc.judgement == "reviewed" and rc.review.reviewer == "Morgan" and rc.review.decision == "override"
    assert rc.points == before.max_points * 0.5 and rc.review.automatic_points == before.points
    assert "overridden by Morgan" in rc.reason and rc.judgement_text == "overridden by Morgan"
    assert sections.judgement == "reviewed" and sections.points == sections.max_points
    assert card.item("time.acknowledge").judgement == "automatic"  # timings need no judgement


def test_a_false_alarm_on_the_faulted_service_before_the_fault_does_not_take_the_primarys_place(tmp_path):
    # a noisy baseline: payments' p95 pages before any fault; the team checks it, finds nothing, resolves it;
    # then the fault comes and the team works the real incident, a new one, by the book
    kit = RunKit(tmp_path / "run")
    early = kit.tracker().at(60).send_alert("HighLatencyP95", "payments", severity="warning",
                                            summary="payments slow", run_id=kit.run_id)["incidents"][0]
    t = kit.tracker()
    t.at(70).ack(early, actor="alice")
    t.at(80).note(early, "Verified: p95 back under 200 ms within a minute, no errors; a scrape hiccup, no impact.")
    t.at(90).resolve(early)
    t.ref = None
    exemplary(kit)
    card = card_of(kit)
    assert card.incident is not None and card.incident != early  # the real incident is the primary one
    assert next(i for i in card.incidents if i.ref == early).role == "false_alarm"
    assert card.overall == 100.0


def test_an_incident_opened_before_the_fault_that_the_faults_alerts_joined_is_the_real_one(tmp_path):
    # the early page stayed open; the fault's alerts joined it and the team worked the outage there
    kit = RunKit(tmp_path / "run")
    early = kit.tracker().at(60).send_alert("HighLatencyP95", "payments", severity="warning",
                                            summary="payments slow", run_id=kit.run_id)["incidents"][0]
    t = exemplary(kit)
    assert t.ref == early  # the fault's alert joined the open incident
    card = card_of(kit)
    assert card.incident == early and [i.role for i in card.incidents] == ["primary"]
    assert card.overall == 100.0, [(i.id, i.status, i.reason) for i in card.items
                                   if i.status not in ("met", "not_applicable")]
