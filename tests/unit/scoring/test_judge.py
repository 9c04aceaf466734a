"""The text judgements, played as adversarial teams would: filler, stuffing, copied alerts, paraphrases."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.scenario import load_scenario
from simulator.scoring.judge import (
    IncidentFacts,
    action_phrases,
    filler,
    keyword_list,
    refers_to_incident,
    root_cause,
)
from simulator.scoring.text import stem

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"

POOL_FACTS = IncidentFacts(
    services=["payments"], alerts=["DbPoolWaiters", "HighErrorRate", "PaymentsPoolWaiters"],
    symptoms=["5xx", "pool", "latency"], actions=["rollback:payments", "flag:payments.fallback_processor=on"],
    metrics=["gauges.db_pool_waiters", "availability"], times=["14:05", "14:31", "26 min"])


def chain(name: str):
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    assert scenario.truth.causal_chain, f"{name} has no causal chain"
    return scenario.truth.causal_chain


# --- filler ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "why"), [
    ("", "empty"),
    ("   \n", "empty"),
    ("TBD", "placeholder"),
    ("Root cause TBD after the meeting", "still says TBD"),
    ("TODO", "placeholder"),
    ("[Detailed explanation of what caused the incident]", "placeholder"),
    ("Not sure really.", "says only 'not sure'"),
    ("N/A", "says only 'n/a'"),
    ("unknown", "says only 'unknown'"),
    ("See above.", "says only 'see above'"),
    ("idk", "says only 'idk'"),
    ("Nothing.", "says only 'nothing'"),
    ("none", "says only 'none'"),
    ("Looking around.", "only vague words"),
    ("We are checking things.", "only vague words"),
    ("Investigating the issue.", "only vague words"),
    ("Still working on it, more soon.", "only vague words"),
    ("Lorem ipsum dolor sit amet, consectetur adipiscing elit.", "lorem ipsum"),
    ("Payments pool exhausted at 14:05. " * 5, "the same sentence 5 times"),
    ("payments down payments down payments down", "the same words over and over"),
    ("The team worked hard and communicated well throughout.", "names nothing from this incident"),
    ("Everything went fine and users were mostly happy.", "names nothing from this incident"),
    ("Seeing some errors.", "names nothing from this incident"),
])
def test_filler_is_caught_with_its_reason(text: str, why: str) -> None:
    reason = filler(text, POOL_FACTS)
    assert reason is not None and why in reason, reason


@pytest.mark.parametrize("text", [
    "Rolled back payments at 14:05.",
    "Charges failed with 503 for 26 minutes.",
    "DbPoolWaiters fired first, then HighErrorRate two minutes later.",
    "We switched on the fallback processor while the rollback went out.",
    "Checkout got slow before anything failed.",
    "It took 12 minutes before anyone looked at the dashboards.",
    "Nobody watched the DB pool waiters gauge; we only noticed at 14:31.",
])
def test_real_content_about_this_incident_passes(text: str) -> None:
    assert filler(text, POOL_FACTS) is None


def test_the_same_text_is_filler_for_another_incident() -> None:
    text = "Rolled back payments at 14:05."
    auth = IncidentFacts(services=["auth"], alerts=["MemoryLeakTrend"], symptoms=["memory", "OOM"],
                         actions=["rollback:auth"], times=["09:10"])
    assert filler(text, POOL_FACTS) is None
    assert "names nothing" in (filler(text, auth) or "")


# --- facts of the incident ------------------------------------------------------------------------------


def test_refers_to_incident_lists_the_facts_named() -> None:
    text = ("At 14:05 DbPoolWaiters fired on payments; we rolled payments back and turned on the fallback "
            "processor. Charges returned 503s for 26 minutes, with 8 connections checked out.")
    assert refers_to_incident(text, POOL_FACTS) == [
        "payments", "DbPoolWaiters", "5xx", "pool", "rollback:payments", "flag:payments.fallback_processor=on",
        "14:05", "26 min", "8 connections"]


@pytest.mark.parametrize(("text", "fact"), [
    ("the payment service", "payments"),
    ("high error rate on checkout", "HighErrorRate"),
    ("the db_pool_waiters gauge", "gauges.db_pool_waiters"),
    ("reverted the payments release", "rollback:payments"),
    ("p95 went through the roof", "latency"),
    ("requests queued for a database connection", "pool"),
    ("it was 2:31 pm, i.e. 14:31", "14:31"),
    ("no 5xx at all, only slowness", "5xx"),  # a denied symptom is still named
])
def test_refers_to_incident_reads_paraphrases(text: str, fact: str) -> None:
    assert fact in refers_to_incident(text, POOL_FACTS)


def test_refers_to_incident_ignores_other_times_and_services() -> None:
    assert refers_to_incident("At 09:12 the auth service was fine.", POOL_FACTS) == []


def test_action_phrases() -> None:
    assert action_phrases("rollback:payments") == ["rollback payments"]
    assert action_phrases("flag:payments.fallback_processor=on") == ["fallback_processor"]
    assert action_phrases("deploy:payments=v2.3.1") == ["deploy payments", "v2.3.1"]
    assert action_phrases("config:gateway.tiers.major.rate=200") == ["config gateway", "rate"]
    assert action_phrases("restart the pods") == ["restart the pods"]


# --- keyword lists ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "leak pool retry release connection",
    "leak, pool, retry, release",
    "connection pool, leak, release, retry",  # the truth's keywords, copied
    "Connection leak; pool exhaustion; retry storm.",
    "Root cause: leak pool retry release connection",
    "memory leak release cache OOM",
    "rate limit config major customers 429",
    "DbPoolWaiters, HighErrorRate",
    "leak",
])
def test_keyword_lists(text: str) -> None:
    assert keyword_list(text)


@pytest.mark.parametrize("text", [
    "The 2.4.0 deploy stopped handing DB connections back, so the pool ran dry.",
    "Pool exhaustion due to a connection leak in v2.4.0, amplified by retry storms.",
    "A config push set the major customers' rate limit to 2/s.",
    "Leaky 2.4.0 release -> pool exhausted -> retry storm",
    "",
])
def test_explanations_are_not_keyword_lists(text: str) -> None:
    assert not keyword_list(text)


# --- root cause: paraphrases of each seed earn full credit ------------------------------------------------

PARAPHRASES = {
    "pool-exhaustion": [
        "The 2.4.0 deploy stopped handing DB connections back, so the pool ran dry; immediate client retries "
        "made it worse.",
        "After we shipped payments 2.4.0, the refund code path never gave its database connection back and "
        "charges kept one checked out during the fraud check. Within minutes SQLAlchemy had no connections "
        "left to hand out, and because clients hammered us with instant retries the backlog snowballed.",
        "Payments 2.4.0 introduced a bug where refunds never closed their DB session's connection, so the "
        "connection pool was drained within minutes; our clients retry instantly with no backoff, which "
        "multiplied the load.",
    ],
    "memory-leak": [
        "After the auth 3.1.0 rollout, a per-request cache was never cleared, so the heap kept growing until "
        "the kernel killed the process for running out of memory.",
        "v3.1.0 kept every request's objects in an in-process cache with no eviction; RSS climbed steadily "
        "and the process hit its memory limit and was OOM-killed, then restarted and leaked again.",
        "The auth release shipped Monday retained objects per request and never evicted them, so resident "
        "memory rose for days until the out-of-memory killer took the service down.",
    ],
    "rate-limit-misconfig": [
        "A gateway configuration change lowered the major-customer tier's limit from 200 to 2 requests per "
        "second, so our biggest customers got 429 Too Many Requests on legitimate calls.",
        "Someone pushed a settings update that set the premium tier's throttle to 2/s instead of 200, and the "
        "gateway started rejecting real traffic from those accounts.",
        "The rate limit for major accounts was misconfigured at 2 req/s, way below their normal 200, which "
        "throttled their legitimate requests.",
    ],
}


@pytest.mark.parametrize(("name", "text"), [(n, t) for n, texts in PARAPHRASES.items() for t in texts])
def test_a_correct_paraphrase_earns_full_credit(name: str, text: str) -> None:
    verdict = root_cause(text, chain(name))
    assert verdict.fraction == 1.0, verdict.reason
    assert verdict.missing_links == ()
    assert verdict.reason.startswith("explains every link")


@pytest.mark.parametrize("name", sorted(PARAPHRASES))
def test_the_truth_and_the_runbook_postmortem_earn_full_credit(name: str) -> None:
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    [step] = [s for s in scenario.responder.runbook if s.do == "postmortem"]
    for text in (scenario.truth.root_cause, step.fields["root_cause"]):
        assert root_cause(text, scenario.truth.causal_chain).fraction == 1.0, text


@pytest.mark.parametrize(("name", "text"), [
    ("pool-exhaustion", "A network partition between gateway and payments caused the outage."),
    ("pool-exhaustion", "The database server ran out of disk space, so writes failed and payments returned 503s."),
    ("pool-exhaustion", "It was not a connection leak and the pool was never exhausted; DNS broke, so calls failed."),
    ("memory-leak", "A network partition between gateway and payments caused the outage."),
    ("memory-leak", "A CPU spike from a noisy neighbour slowed auth down until the health check restarted it."),
    ("rate-limit-misconfig", "A network partition between gateway and payments caused the outage."),
    ("rate-limit-misconfig", "Payments was down, so the gateway returned 502s to major customers."),
])
def test_a_wrong_cause_earns_nothing(name: str, text: str) -> None:
    verdict = root_cause(text, chain(name))
    assert verdict.fraction == 0.0, verdict
    assert verdict.matched_links == ()


def test_a_partial_explanation_earns_its_share() -> None:
    links = chain("pool-exhaustion")
    verdict = root_cause("A connection leak exhausted the pool, which took checkout down.", links)
    assert verdict.fraction == 0.5
    assert verdict.matched_links == ("connections leaked", "pool exhausted")
    assert verdict.missing_links == ("the v2.4.0 release", "retries amplified it")
    assert "2/4 links" in verdict.reason and "missing: the v2.4.0 release" in verdict.reason


# --- root cause: gaming ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "leak pool retry release connection",
    "connection pool, leak, release, retry",
    "Root cause: v2.4.0, connection leak, pool exhausted, retry storm",
])
def test_a_bare_keyword_list_fails(text: str) -> None:
    verdict = root_cause(text, chain("pool-exhaustion"))
    assert verdict.fraction == 0.0
    assert verdict.reason == "a list of keywords, not an explanation"


def test_keywords_appended_to_filler_earn_nothing() -> None:
    verdict = root_cause("Not sure really. leak pool retry release connection exhausted",
                         chain("pool-exhaustion"))
    assert verdict.fraction == 0.0
    assert "named but not explained" in verdict.reason


@pytest.mark.parametrize("text", [
    "The leak pool retry release connection exhaustion caused it.",
    "The leak and the pool exhaustion and a retry and the release caused it.",
])
def test_keyword_stuffing_inside_a_sentence_earns_nothing(text: str) -> None:
    verdict = root_cause(text, chain("pool-exhaustion"))
    assert verdict.fraction == 0.0
    assert "keyword stuffing" in verdict.reason


def test_a_terse_explanation_is_not_stuffing() -> None:
    verdict = root_cause("Pool exhaustion due to a connection leak in v2.4.0, amplified by retry storms.",
                         chain("pool-exhaustion"))
    assert verdict.fraction == 1.0, verdict.reason


def test_noun_phrases_joined_by_and_are_not_an_explanation() -> None:
    verdict = root_cause("A connection leak and a pool exhaustion and a retry storm.", chain("pool-exhaustion"))
    assert verdict.fraction == 0.0
    assert "named but not explained in a sentence" in verdict.reason


@pytest.mark.parametrize("text", [
    "DbPoolWaiters and HighErrorRate fired on payments.",
    "The PaymentsPoolWaiters alert fired, then HighErrorRate did.",
    "Something went wrong with the payments service.",
])
def test_copied_alert_names_or_the_service_alone_earn_nothing(text: str) -> None:
    assert root_cause(text, chain("pool-exhaustion")).fraction == 0.0


@pytest.mark.parametrize("text", ["", "TBD", "[Detailed explanation of what caused the incident]"])
def test_an_empty_or_placeholder_root_cause_earns_nothing(text: str) -> None:
    assert root_cause(text, chain("pool-exhaustion")).fraction == 0.0


def test_no_chain_no_credit() -> None:
    verdict = root_cause("The release leaked connections, so the pool ran out.", [])
    assert verdict == type(verdict)(0.0, (), (), "no causal chain to compare with")


# --- root cause: stems and synonyms -------------------------------------------------------------------


@pytest.mark.parametrize(("phrase", "text"), [
    ("config change", "A configuration change went out, which broke checkout."),
    ("config change", "Someone edited the settings, so checkout broke."),
    ("OOM", "The process ran out-of-memory and was killed, so logins failed."),
    ("OOM", "The process was OOM-killed, so logins failed."),
    ("out of memory", "The kernel's OOM killer stopped auth, so logins failed."),
    ("connection leak", "The release leaked connections, so checkout failed."),
    ("connection leak", "The release was leaking connections, so checkout failed."),
    ("connection leak", "The refund path doesn't release its connection, so checkout failed."),
    ("connection leak", "The code held on to connections, so checkout failed."),
    ("pool exhausted", "The pool was saturated, so checkout failed."),
    ("pool exhausted", "We maxed out the connection pool, so checkout failed."),
    ("retry storm", "Clients re-sent every failed charge in a storm, which made it worse."),
    ("rollback", "We reverted the release, so the errors stopped."),
    ("rollback", "We rolled the payments release back, so the errors stopped."),
    ("rate limit", "The gateway throttled them, so they got errors."),
    ("rate limit", "They got 429s because the limit was low."),
    ("memory grew", "Heap usage kept climbing, so latency rose."),
])
def test_stems_and_synonyms_match(phrase: str, text: str) -> None:
    assert root_cause(text, [[phrase]]).fraction == 1.0, text


@pytest.mark.parametrize(("phrase", "text"), [
    ("config change", "The change of plan was slow, so we lost time."),
    ("OOM", "Memory was fine, so it was not the cause."),
    ("connection leak", "It was not a connection leak, since connections were returned."),
    ("pool exhausted", "The pool was never exhausted, so look elsewhere."),
    ("rate limit", "The gateway returned 502 errors because payments was down."),
])
def test_near_misses_do_not_match(phrase: str, text: str) -> None:
    assert root_cause(text, [[phrase]]).fraction == 0.0, text


@pytest.mark.parametrize(("forms", "root"), [
    (["leak", "leaked", "leaking", "leaks"], "leak"),
    (["retry", "retries", "retried", "retrying"], "retry"),
    (["release", "released", "releases", "releasing"], "releas"),
    (["exhausted", "exhaustion", "exhausting"], "exhaust"),
    (["stop", "stopped", "stopping"], "stop"),
    (["evicted", "eviction", "evicts"], "evict"),
    (["429s", "429"], "429"),
])
def test_stem_folds_a_words_forms(forms: list[str], root: str) -> None:
    assert {stem(f) for f in forms} == {root}


@pytest.mark.parametrize("word", ["need", "speed", "process", "status", "analysis", "v2.4.0", "5xx"])
def test_stem_leaves_words_that_only_look_inflected(word: str) -> None:
    assert stem(word) == word
