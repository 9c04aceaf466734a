"""The stats stream against a real loopback server: fields, numbers, status counts, journeys."""

from __future__ import annotations

import csv
import json
import time

import pytest

FIELDS = {
    "t", "target", "users", "rps", "requests", "attempts", "retries", "ok", "failed", "status_2xx", "status_4xx",
    "status_429", "status_5xx", "conn_errors", "p50_ms", "p95_ms", "p99_ms", "cpu_warning", "cpu_percent",
    "by_tier", "by_name", "interval_s", "attempt_rps", "totals",
}


@pytest.mark.slow
def test_stream_lines_have_the_fields_and_plausible_numbers(stub, make_driver):
    stub.control(delay_ms=20)
    driver, rec = make_driver(stub.url, "ping", users=4, spawn_rate=20, target="edge")
    driver.start()
    steady = rec.wait_for(lambda line: line["seq"] >= 2 and line["users"] == 4)
    assert set(steady) >= FIELDS
    assert steady["target"] == "edge" and isinstance(steady["cpu_warning"], bool)
    assert 0.7 <= steady["interval_s"] <= 1.5
    # 4 users, ~20 ms per request + 10-20 ms wait: far more than 10/s, far fewer than 1000/s
    assert 10 < steady["rps"] < 1000
    assert abs(steady["rps"] - steady["requests"] / steady["interval_s"]) < 0.5
    assert 15 <= steady["p50_ms"] <= 80
    assert steady["p50_ms"] <= steady["p95_ms"] <= steady["p99_ms"]
    assert steady["requests"] == steady["attempts"] == steady["status_2xx"] and steady["retries"] == 0
    assert steady["by_name"]["GET /"]["requests"] == steady["attempts"]

    # percentiles follow the interval, not the whole run: slow the server down
    switched = time.time()
    stub.control(delay_ms=150)
    slow = rec.wait_for(lambda line: line["t"] - line["interval_s"] > switched + 0.05)
    assert 140 <= slow["p50_ms"] <= 400, slow

    driver.stop()
    server = stub.stats()
    assert server["requests"] - 4 <= rec.total("attempts") <= server["requests"]
    assert rec.lines[-1]["totals"]["attempts"] == rec.total("attempts")
    assert driver.latest is rec.lines[-1]
    # the audit record: Locust's CSVs with full history, and our own stream
    run = driver.run_dir
    with open(run / "locust_stats_history.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert any(r["Name"] == "GET /" for r in rows) and any(r["Name"] == "Aggregated" for r in rows)
    stream = [json.loads(line) for line in (run / "load-stats.jsonl").read_text().splitlines()]
    assert [s["seq"] for s in stream] == [s["seq"] for s in rec.lines]
    assert json.loads((run / "load-config.json").read_text())["target_url"] == stub.url


def test_status_counts_match_what_the_server_returned(stub, make_driver):
    stub.control(seed=11, status_503=0.2, status_429=0.1, drop=0.1)
    # POST: geventhttpclient silently re-sends a GET once when its connection is dropped
    driver, rec = make_driver(stub.url, "ping", users=4, spawn_rate=20, params={"method": "POST"})
    driver.start()
    rec.wait_for(lambda line: line["totals"]["attempts"] >= 600, timeout=30)
    driver.stop()
    server = stub.stats()
    n = server["requests"]
    client = {k: rec.total(k) for k in ("attempts", "status_2xx", "status_5xx", "status_429", "status_4xx",
                                         "conn_errors", "ok", "failed")}
    expected = {"status_2xx": server["status"].get("201", 0), "status_5xx": server["status"].get("503", 0),
                "status_429": server["status"].get("429", 0), "conn_errors": server["dropped"]}
    tolerance = max(5, int(0.02 * n))
    for key, value in expected.items():
        assert abs(client[key] - value) <= tolerance, (key, client, server)
    assert client["status_4xx"] == client["status_429"]
    # and the shares are what the server was told
    for key, share in (("status_5xx", 0.2), ("status_429", 0.1), ("conn_errors", 0.1)):
        assert abs(client[key] / client["attempts"] - share) < 0.05, (key, client)
    assert client["ok"] == client["status_2xx"] and client["failed"] >= client["status_5xx"]
    assert rec.total("retries") == 0


def test_payments_journey_groups_dynamic_urls(stub, make_driver):
    driver, rec = make_driver(stub.url, "payments", users=3, spawn_rate=10, seed=5)
    driver.start()
    rec.wait_for(lambda line: line["totals"]["requests"] >= 150, timeout=30)
    driver.stop()
    names: dict[str, int] = {}
    for line in rec.lines:
        for name, entry in line["by_name"].items():
            names[name] = names.get(name, 0) + entry["requests"]
    assert set(names) == {"POST /charges", "GET /charges/{charge_id}", "POST /refunds"}
    assert names["POST /charges"] > names["GET /charges/{charge_id}"] > 0 and names["POST /refunds"] > 0
    server_paths = stub.stats()["by_path"]
    assert server_paths["POST /charges"] >= names["POST /charges"] - 3


def test_auth_journey_logs_in_verifies_and_refreshes(stub, make_driver):
    driver, rec = make_driver(stub.url, "auth", users=3, spawn_rate=10)
    driver.start()
    rec.wait_for(lambda line: line["totals"]["requests"] >= 150, timeout=30)
    driver.stop()
    names: dict[str, int] = {}
    for line in rec.lines:
        for name, entry in line["by_name"].items():
            names[name] = names.get(name, 0) + entry["requests"]
    assert set(names) == {"POST /login", "GET /verify", "POST /refresh"}
    assert names["GET /verify"] > 2 * names["POST /login"] and names["POST /refresh"] > 0


def _tiers(lines) -> dict[str, dict[str, int]]:
    tiers: dict[str, dict[str, int]] = {}
    for line in lines:
        for tier, entry in line["by_tier"].items():
            agg = tiers.setdefault(tier, {})
            for k, v in entry.items():
                agg[k] = agg.get(k, 0) + v
    return tiers


@pytest.mark.slow
def test_gateway_major_customers_send_most_traffic_and_tiers_are_reported(stub, make_driver):
    driver, rec = make_driver(stub.url, "gateway", users=4, spawn_rate=20, seed=2)
    driver.start()
    rec.wait_for(lambda line: line["totals"]["requests"] >= 400, timeout=30)
    healthy = _tiers(rec.lines)
    assert set(healthy) == {"major", "regular"}
    share = healthy["major"]["requests"] / (healthy["major"]["requests"] + healthy["regular"]["requests"])
    assert 0.5 <= share <= 0.7, healthy
    assert healthy["major"]["status_429"] == healthy["regular"]["status_429"] == 0

    # the rate-limit incident: major customers' traffic rejected, regular customers unaffected
    stub.control(tier_429={"major": 1.0})
    switched = time.time()
    rec.wait_for(lambda line: line["t"] - line["interval_s"] > switched + 0.05 and line["seq"] >= 2)
    later = rec.wait_for(lambda line: line["t"] - line["interval_s"] > switched + 1.1)
    driver.stop()
    limited = _tiers([line for line in rec.lines if line["t"] - line["interval_s"] > switched + 0.05])
    assert limited["major"]["status_429"] == limited["major"]["attempts"] > 0
    assert limited["major"]["ok"] == 0
    assert limited["regular"]["status_429"] == 0 and limited["regular"]["ok"] > 0
    assert later["status_429"] == later["by_tier"]["major"]["status_429"] > 0
    assert later["status_5xx"] == 0
    server = stub.stats()["by_tier"]
    assert abs(server["major"]["status_429"] - _tiers(rec.lines)["major"]["status_429"]) <= 4
