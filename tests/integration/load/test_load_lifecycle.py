"""Starting, failing and stopping: errors instead of hangs, and no process left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from simulator.errors import EnvironmentProblem, InputError
from simulator.load import LoadConfig
from simulator.load.locustfiles import locustfile_path


def test_clean_stop_leaves_no_process_and_writes_the_csvs(stub, make_driver, gone):
    driver, rec = make_driver(stub.url, "ping", users=2, spawn_rate=10)
    with driver:
        rec.wait_lines(1)
        pids = driver.pids
        assert driver.alive and driver.pid == pids[0]
    assert all(gone(pid) for pid in pids)
    assert driver.stop() == 0  # idempotent; Locust exited by itself, cleanly
    assert driver.failure is None and not driver.alive
    assert "Aggregated" in (driver.run_dir / "locust_stats.csv").read_text()
    assert "Shutting down" in driver.log_path.read_text()


def test_a_driver_started_with_ctrl_c_ignored_still_stops_locust_cleanly(stub, make_driver, gone):
    """A background job of a non-interactive shell (``make test &``, CI scripts) starts with SIGINT ignored, and
    everything it starts inherits that: Locust must still take the driver's Ctrl-C and write its CSVs."""
    driver, rec = make_driver(stub.url, "ping", users=2, spawn_rate=10)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        driver.start()  # Locust inherits the ignored SIGINT
    finally:
        signal.signal(signal.SIGINT, previous)
    rec.wait_lines(1)
    pids = driver.pids
    assert driver.stop() == 0  # not -15: killed by the SIGTERM that follows a Ctrl-C it never took
    assert all(gone(pid) for pid in pids)
    assert "Aggregated" in (driver.run_dir / "locust_stats.csv").read_text()
    assert "Shutting down" in driver.log_path.read_text()


def test_a_locustfile_that_fails_to_import_is_an_input_error_not_a_hang(stub, make_driver, tmp_path):
    bad = tmp_path / "broken_locustfile.py"
    bad.write_text("raise RuntimeError('the locustfile is broken on purpose')\n")
    driver, _ = make_driver(stub.url, "custom", locustfile=bad, start_timeout=30)
    started = time.monotonic()
    with pytest.raises(InputError) as err:
        driver.start()
    assert time.monotonic() - started < 25
    assert "broken on purpose" in str(err.value) and "\n" not in str(err.value)
    assert not driver.alive


def test_locust_dying_mid_run_surfaces_as_an_environment_problem(stub, make_driver):
    driver, rec = make_driver(stub.url, "ping", users=2, spawn_rate=10)
    driver.start()
    rec.wait_lines(1)
    os.kill(driver.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while driver.failure is None and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(EnvironmentProblem, match="exited with code -9"):
        driver.check()
    started = time.monotonic()
    driver.stop()
    assert time.monotonic() - started < 5


def _locust(host: str, config: LoadConfig, tmp_path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GAMEDAY_LOAD_CONFIG_JSON": config.to_json()}
    cmd = [sys.executable, "-m", "locust", "-f", str(locustfile_path("ping")), "--headless", "--host", host,
           "-t", "3s", *extra]
    return subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)


def test_the_locustfile_itself_refuses_a_non_loopback_host(stub, tmp_path):
    config = LoadConfig(app="ping", target_url=stub.url)
    out = _locust("http://10.20.30.40:80", config, tmp_path)
    assert out.returncode == 2
    assert "GAMEDAY-SAFETY:" in out.stderr and "10.20.30.40" in out.stderr
    assert stub.stats()["requests"] == 0


def test_the_locustfile_refuses_a_config_aimed_elsewhere(tmp_path):
    env = {**os.environ, "GAMEDAY_LOAD_CONFIG_JSON": json.dumps({"app": "ping", "target_url": "http://8.8.8.8"})}
    cmd = [sys.executable, "-m", "locust", "-f", str(locustfile_path("ping")), "--headless", "-t", "3s"]
    out = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "GAMEDAY-SAFETY:" in out.stderr


def test_the_locustfile_reports_a_bad_config_on_one_line(tmp_path):
    env = {**os.environ, "GAMEDAY_LOAD_CONFIG_JSON": json.dumps({"app": "ping", "users": -3,
                                                                 "target_url": "http://127.0.0.1:9"})}
    cmd = [sys.executable, "-m", "locust", "-f", str(locustfile_path("ping")), "--headless", "-t", "3s"]
    out = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert [line for line in out.stderr.splitlines() if "GAMEDAY-CONFIG:" in line] == [
        "GAMEDAY-CONFIG: load: users must be an integer >= 0, got -3"]


@pytest.mark.slow
def test_locust_stops_when_the_driver_process_dies(stub, tmp_path, gone):
    code = (
        "import sys, time\n"
        "from simulator.load import LoadDriver\n"
        f"d = LoadDriver({stub.url!r}, 'ping', users=2, spawn_rate=10, workers=1, run_dir={str(tmp_path)!r})\n"
        "d.start()\n"
        "print(' '.join(map(str, d.pids)), flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    pids: list[int] = []
    try:
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 2
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 20
        while not all(gone(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert all(gone(pid) for pid in pids)
    finally:
        parent.kill()
        for pid in pids:
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_slow_or_failing_stats_consumer_does_not_stall_the_stream(stub, make_driver):
    calls: list[int] = []

    def consumer(record):
        calls.append(record["seq"])
        if len(calls) == 1:
            raise RuntimeError("a consumer bug")
        time.sleep(2.5)

    driver, _ = make_driver(stub.url, "ping", users=2, spawn_rate=10, on_stats=consumer)
    driver.start()
    deadline = time.monotonic() + 15
    while (driver.latest is None or driver.latest["seq"] < 4) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert driver.latest is not None and driver.latest["seq"] >= 4
    assert len(calls) < driver.latest["seq"] + 1  # the consumer lags; the stream does not
    assert driver.alive and driver.failure is None


@pytest.mark.slow
def test_a_worker_started_by_hand_joins_the_master_without_any_config(stub, make_driver, tmp_path, free_port):
    """What a worker on another machine does (docs in simulator/load/driver.py), minus the SSH tunnel."""
    port = free_port()
    driver, rec = make_driver(stub.url, "gateway", users=3, spawn_rate=10, remote_workers=1, master_port=port,
                              start_timeout=40, seed=9)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAMEDAY_")}
    cmd = [sys.executable, "-m", "locust", "-f", str(locustfile_path("gateway")), "--worker",
           "--master-host", "127.0.0.1", "--master-port", str(port)]
    with open(tmp_path / "remote-worker.log", "wb") as log:
        worker = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        driver.start()
        line = rec.wait_for(lambda x: x["workers"] == 1 and x["users"] == 3 and x["requests"] > 0, timeout=30)
        assert set(line["by_tier"]) <= {"major", "regular"} and line["by_tier"]
        driver.stop()
        assert worker.wait(timeout=15) == 0  # the master told it to quit
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
