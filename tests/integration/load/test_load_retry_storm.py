"""Retry storm: immediate retries amplify a total outage; exponential backoff does not."""

from __future__ import annotations

import time

import pytest


@pytest.mark.slow
def test_immediate_retries_amplify_a_503_outage_more_than_exponential_backoff(stub, stub2, make_driver):
    stub.control(status_503=1.0)
    stub2.control(status_503=1.0)
    common = {"users": 3, "spawn_rate": 10, "wait": (0.1, 0.2), "params": {"method": "POST", "path": "/charges"}}
    immediate, rec_i = make_driver(stub.url, "ping", retry_policy={"policy": "immediate", "max_attempts": 5},
                                   **common)
    backoff, rec_e = make_driver(stub2.url, "ping", retry_policy={"policy": "exponential", "max_attempts": 5,
                                                                   "base_delay": "100ms", "max_delay": "1s"},
                                 **common)
    immediate.start()
    backoff.start()
    begin = time.time() + 1.0  # both ramped up by then
    time.sleep(7.0)
    end = time.time()
    immediate.stop()
    backoff.stop()

    def window(lines):
        return [line for line in lines if begin <= line["t"] - line["interval_s"] and line["t"] <= end]

    wi, we = window(rec_i.lines), window(rec_e.lines)
    assert len(wi) >= 4 and len(we) >= 4
    att_i, req_i = sum(x["attempts"] for x in wi), sum(x["requests"] for x in wi)
    att_e = sum(x["attempts"] for x in we)
    secs_i, secs_e = sum(x["interval_s"] for x in wi), sum(x["interval_s"] for x in we)
    # every logical request becomes max_attempts attempts, all at once
    assert att_i / req_i >= 4.5
    # same users, same time: the server takes far more attempts from immediate retries
    assert (att_i / secs_i) >= 2.0 * (att_e / secs_e), (att_i, secs_i, att_e, secs_e)
    # (attempts per logical request tend to max_attempts for both when every attempt fails:
    # under a total outage the difference is the attempt rate; see the pool test below)
    for rec in (rec_i, rec_e):
        assert rec.total("retries") == rec.total("attempts") - rec.total("requests") > 0
        assert rec.total("ok") == 0 and rec.total("status_5xx") == rec.total("attempts")
    # the server saw every attempt, retries included
    assert abs(stub.stats()["status"]["503"] - rec_i.total("attempts")) <= 3 * 5


@pytest.mark.slow
def test_under_pool_exhaustion_immediate_retries_need_more_attempts_per_request(stub, stub2, make_driver):
    # the payments incident: a pool of 2 connections, 50 ms per query, 6 clients
    for s in (stub, stub2):
        s.control(delay_ms=50, capacity=2)
    common = {"users": 6, "spawn_rate": 20, "wait": (0.05, 0.1), "params": {"method": "POST", "path": "/charges"}}
    immediate, rec_i = make_driver(stub.url, "ping", retry_policy={"policy": "immediate", "max_attempts": 5},
                                   **common)
    backoff, rec_e = make_driver(stub2.url, "ping", retry_policy={"policy": "exponential", "max_attempts": 5,
                                                                   "base_delay": "50ms", "max_delay": "1s"},
                                 **common)
    immediate.start()
    backoff.start()
    time.sleep(6.0)
    immediate.stop()
    backoff.stop()

    def ratios(rec):
        lines = rec.lines[1:]
        requests = sum(x["requests"] for x in lines)
        return sum(x["attempts"] for x in lines) / requests, sum(x["ok"] for x in lines) / requests

    amp_i, ok_i = ratios(rec_i)
    amp_e, ok_e = ratios(rec_e)
    assert amp_i >= 1.25 * amp_e, (amp_i, amp_e)  # measured ~3.0 vs ~1.95
    assert ok_e > ok_i + 0.15, (ok_i, ok_e)  # measured ~0.55 vs ~0.95


def test_no_retry_policy_means_one_attempt_per_request(stub, make_driver):
    stub.control(status_503=1.0)
    driver, rec = make_driver(stub.url, "ping", users=2, spawn_rate=10, retry_policy="none",
                              params={"method": "POST"})
    driver.start()
    rec.wait_for(lambda line: line["totals"]["requests"] >= 50)
    driver.stop()
    assert rec.total("attempts") == rec.total("requests") == rec.total("status_5xx")
    assert rec.total("retries") == 0 and rec.total("ok") == 0
    # every request failed; one per user may be cut by the stop between its attempt and its outcome
    assert 0 <= rec.total("requests") - rec.total("failed") <= 2


@pytest.mark.slow
def test_exponential_backoff_honours_retry_after(stub, make_driver):
    stub.control(status_429=1.0, retry_after=1)
    driver, rec = make_driver(stub.url, "ping", users=2, spawn_rate=10, params={"method": "POST"},
                              retry_policy={"policy": "exponential", "max_attempts": 3, "base_delay": "10ms",
                                            "max_delay": "20ms"})
    driver.start()
    time.sleep(3.5)
    driver.stop()
    # each user: one attempt, then waits >= 1 s (Retry-After) before each retry: <= ~2 attempts/s/user
    attempts = rec.total("attempts")
    seconds = sum(line["interval_s"] for line in rec.lines)
    assert 0 < attempts / seconds <= 2 * 2 + 1, (attempts, seconds)
    assert rec.total("status_429") == attempts and rec.total("retries") > 0
