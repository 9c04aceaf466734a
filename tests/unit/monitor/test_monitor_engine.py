"""The alert state machine: pending -> firing only after `for`, resolving, flapping, keep_firing_for,
labels and fingerprints, journaling; and a property test against a reference model."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.errors import InputError
from simulator.journal import Journal, read_events
from simulator.monitor import AlertEngine, AlertRuleSpec, AlertState, Rule, build_sample, fingerprint

S = AlertState


def rule(for_: float = 0.0, keep: float = 0.0, **extra) -> Rule:
    spec = AlertRuleSpec(name="Hot", metric="gauges.x", op=">", threshold=10, window=0.5, aggregate="last",
                         **{"for": for_, "keep_firing_for": keep}, **extra)
    return Rule(spec, "svc")


def feed(engine: AlertEngine, t: float, x: float | None):
    gauges = {} if x is None else {"x": x}
    return engine.evaluate([build_sample("svc", 1000.0 + t, t, gauges=gauges)], t, wall=1000.0 + t)


def states(transitions):
    return [(tr.from_state, tr.to_state, tr.at) for tr in transitions]


def test_pending_then_firing_only_after_for(tmp_path):
    journal = Journal(tmp_path / "j.jsonl")
    engine = AlertEngine([rule(for_=3.0)], journal=journal, base_labels={"run_id": "r1"})
    log = []
    for t, x in [(0, 11), (1, 12), (2, 13), (3, 14), (4, 15)]:
        log += feed(engine, t, x)
        if t < 3:
            assert engine.state("Hot", "svc") == S.PENDING
    assert states(log) == [(S.INACTIVE, S.PENDING, 0), (S.PENDING, S.FIRING, 3)]
    firing = log[1]
    assert firing.active_at == 0 and firing.fired_at == 3 and firing.fired_wall == 1003.0 and firing.value == 14
    log += feed(engine, 5, 1)
    assert states(log[2:]) == [(S.FIRING, S.RESOLVED, 5)]
    assert log[2].resolved_wall == 1005.0 and log[2].fired_wall == 1003.0
    assert engine.state("Hot", "svc") == S.RESOLVED
    journal.close()
    kinds = [e.kind for e in read_events(tmp_path / "j.jsonl")]
    assert kinds == ["alert.pending", "alert.firing", "alert.resolved"]
    event = read_events(tmp_path / "j.jsonl", "alert.firing")[0]
    assert event.data["alertname"] == "Hot" and event.data["fingerprint"] == firing.fingerprint
    assert event.data["labels"]["run_id"] == "r1" and event.data["for"] == 3.0
    json.dumps(event.data)


def test_flapping_resets_the_pending_clock():
    engine = AlertEngine([rule(for_=3.0)])
    log = []
    for t, x in [(0, 11), (1, 11), (2, 5), (3, 11), (4, 11), (5, 11), (6, 11)]:
        log += feed(engine, t, x)
    # cancelled at 2 (never fired); pending again from 3; fires at 6, not at 3 or 4
    assert states(log) == [(S.INACTIVE, S.PENDING, 0), (S.PENDING, S.INACTIVE, 2), (S.INACTIVE, S.PENDING, 3),
                           (S.PENDING, S.FIRING, 6)]


def test_for_zero_fires_at_once_and_refires_with_the_same_fingerprint():
    engine = AlertEngine([rule()])
    log = feed(engine, 0, 50) + feed(engine, 1, 0) + feed(engine, 2, 50)
    assert states(log) == [(S.INACTIVE, S.FIRING, 0), (S.FIRING, S.RESOLVED, 1), (S.RESOLVED, S.FIRING, 2)]
    assert log[0].fingerprint == log[2].fingerprint
    assert log[2].fired_at == 2 and log[2].resolved_at is None


def test_keep_firing_for_holds_the_alert():
    engine = AlertEngine([rule(keep=5.0)])
    log = feed(engine, 0, 50)
    for t in (1, 2, 3, 4):
        log += feed(engine, t, 0)
    assert engine.state("Hot", "svc") == S.FIRING
    log += feed(engine, 4.5, 50) + feed(engine, 6, 0) + feed(engine, 9.5, 0)  # true again at 4.5: held to 9.5
    assert states(log) == [(S.INACTIVE, S.FIRING, 0), (S.FIRING, S.RESOLVED, 9.5)]


def test_no_data_is_not_a_condition():
    engine = AlertEngine([rule()])
    assert feed(engine, 0, None) == []
    feed(engine, 1, 50)
    assert states(feed(engine, 2, None)) == [(S.FIRING, S.RESOLVED, 2)]


def test_labels_and_fingerprint():
    engine = AlertEngine([rule(labels={"team": "core"})], base_labels={"run_id": "r1", "scenario": None},
                         target_labels={"svc": {"tier": "critical", "app": "payments"}})
    (status,) = engine.states()
    assert status.labels == {"alertname": "Hot", "severity": "warning", "service": "svc", "tier": "critical",
                             "app": "payments", "run_id": "r1", "team": "core"}
    assert status.fingerprint == fingerprint(status.labels)
    other = AlertEngine([rule(labels={"team": "core"})], base_labels={"run_id": "r2"},
                        target_labels={"svc": {"tier": "critical", "app": "payments"}})
    assert other.states()[0].fingerprint != status.fingerprint


def test_fingerprint_matches_prometheus_and_ignores_order():
    # the vector from prometheus/common model/signature_test.go
    assert int(fingerprint({"name": "garland, briggs", "fear": "love is not enough"}), 16) == 5799056148416392346
    assert fingerprint({}) == "cbf29ce484222325"
    a = {"alertname": "X", "service": "s", "severity": "critical"}
    assert fingerprint(a) == fingerprint(dict(reversed(list(a.items()))))
    assert fingerprint(a) != fingerprint({**a, "service": "t"})
    assert fingerprint({"a": "bc"}) != fingerprint({"ab": "c"})  # the separator matters
    assert len(fingerprint(a)) == 16


def test_duplicate_rules_are_refused():
    with pytest.raises(InputError, match="duplicate alert rule 'Hot'"):
        AlertEngine([rule(), rule()])


def test_hooks_and_annotations():
    seen = []
    engine = AlertEngine([rule(annotations={"summary": "x is {{ $value }} on {{ $labels.service }}"})])
    engine.on_transition.append(seen.append)
    feed(engine, 0, 42)
    assert [tr.to_state for tr in seen] == [S.FIRING]
    assert seen[0].annotations == {"summary": "x is 42 on svc"}
    assert [s.alertname for s in engine.firing()] == ["Hot"]


# ---- property: the engine agrees with a reference model of Prometheus' semantics ---------------

steps = st.lists(st.tuples(st.floats(min_value=0.1, max_value=3.0), st.booleans()), min_size=1, max_size=40)


@given(for_=st.sampled_from([0.0, 0.5, 1.0, 2.5, 5.0]), steps=steps)
@settings(max_examples=150, deadline=None)
def test_state_machine_matches_reference_model(for_, steps):
    engine = AlertEngine([rule(for_=for_)])
    t = -steps[0][0]  # the first evaluation is at game time 0 (a falsy time must work too)
    run_start: float | None = None
    fired_in_run = False
    kinds: list[AlertState] = []
    for dt, cond in steps:
        t += dt
        transitions = feed(engine, t, 50 if cond else 0)
        kinds += [tr.to_state for tr in transitions]
        if cond:
            if run_start is None:
                run_start, fired_in_run = t, False
            if t - run_start >= for_:
                fired_in_run = True
            expected = S.FIRING if fired_in_run else S.PENDING
        else:
            expected = None if run_start is None else (S.RESOLVED if fired_in_run else S.INACTIVE)
            run_start = None
        state = engine.state("Hot", "svc")
        if expected is None:
            assert state in (S.INACTIVE, S.RESOLVED)
        else:
            assert state == expected
        for tr in transitions:  # a firing transition always waited out `for`
            if tr.to_state == S.FIRING:
                assert tr.at - tr.active_at >= for_
    # resolved only ever follows firing; firing follows pending (or inactive when for == 0)
    previous = S.INACTIVE
    for kind in kinds:
        if kind == S.RESOLVED:
            assert previous == S.FIRING
        if kind == S.FIRING:
            assert previous == S.PENDING or (for_ == 0 and previous in (S.INACTIVE, S.RESOLVED))
        previous = kind
