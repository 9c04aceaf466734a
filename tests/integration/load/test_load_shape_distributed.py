"""Load shapes from the scenario's stages, and distributed mode (a master and 2 workers)."""

from __future__ import annotations

import csv

import pytest


@pytest.mark.slow
def test_the_shape_follows_the_stages_in_game_time(stub, make_driver):
    # 6 s of game time at time scale 2 = 3 s of wall time per stage
    stages = [{"duration": "6s", "users": 1}, {"duration": "6s", "users": 5}]
    driver, rec = make_driver(stub.url, "ping", users=99, spawn_rate=20, stages=stages, time_scale=2.0, end="stop")
    driver.start()
    assert driver.wait(timeout=30) == 0  # the shape ran out: Locust ended by itself
    driver._eof.wait(10)
    assert driver.finished and driver.failure is None
    users = [line["users"] for line in rec.lines]
    assert 1 in users and 5 in users and 99 not in users
    assert users.index(5) > users.index(1)
    first_five = users.index(5)
    assert all(u == 1 for u in users[:first_five])
    assert users[-1] == 0 or users[-1] == 5  # the last, partial line may come after the users stopped
    assert 5 <= len(rec.lines) <= 9  # ~6 s of one-second lines
    # each line's rate follows the users of its interval (5 users: about 5 times the rate)
    low = [line["rps"] for line in rec.lines[:first_five]]
    high = [line["rps"] for line in rec.lines[first_five + 1:] if line["users"] == 5 and line["interval_s"] > 0.9]
    assert low and high and 2 * max(low) < min(high), (low, high)


@pytest.mark.slow
def test_distributed_mode_streams_aggregated_stats_from_two_workers(stub, make_driver, gone):
    driver, rec = make_driver(stub.url, "payments", users=4, spawn_rate=20, workers=2, params={})
    driver.start()
    assert driver.ready_info["mode"] == "master"
    assert len(driver.pids) == 3
    line = rec.wait_for(lambda x: x["workers"] == 2 and x["users"] == 4 and x["requests"] > 0, timeout=30)
    assert line["rps"] > 0 and line["p50_ms"] is not None
    assert set(line["by_name"]) <= {"POST /charges", "GET /charges/{charge_id}", "POST /refunds"}
    rec.wait_for(lambda x: x["seq"] >= line["seq"] + 2)
    pids = driver.pids
    driver.stop()
    assert all(gone(pid) for pid in pids)
    server = stub.stats()["requests"]
    seen = rec.total("attempts")
    # the last unreported second of each worker may be missing, nothing is counted twice
    assert 0.6 * server <= seen <= server, (seen, server)
    with open(driver.run_dir / "locust_stats.csv") as fh:
        aggregated = [r for r in csv.DictReader(fh) if r["Name"] == "Aggregated"]
    assert int(aggregated[0]["Request Count"]) > 0
    assert (driver.run_dir / "locust-worker-1.log").exists() and (driver.run_dir / "locust-worker-2.log").exists()
