"""The facilitator page's API: the game-day console driven over HTTP, against a real run."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulator.drills.console import FacilitatorConsole
from simulator.faults.ledger import Ledger
from simulator.journal import read_events
from simulator.tracker.embedded import start_tracker
from tests.helpers import web
from tests.helpers.facilitator_run import game_day_result, start_game_day, stop_game_day, wait_for

API = "/api/v1/facilitator"


def test_no_drill_attached_is_404_and_the_page_says_so(tmp_path: Path) -> None:
    with start_tracker(tmp_path / "t.db", run_id="fac-none") as handle:
        r = web.get(handle.url + API)
        assert r.status_code == 404 and "no drill is attached" in r.json()["detail"]
        r = web.post(handle.url + API + "/commands", json={"command": "pause"})
        assert r.status_code == 404
        html = web.get(handle.url + "/facilitator").text
        assert "FACILITATOR" in html and "No drill is attached" in html and 'href="/facilitator"' in html


def test_console_without_a_scenario_409_and_bad_input_422(tmp_path: Path) -> None:
    console = FacilitatorConsole()
    with start_tracker(tmp_path / "t.db", run_id="fac-idle") as handle:
        handle.service.facilitator = console  # what Runner._start_tracker does for a drill's runner
        state = web.get(handle.url + API).json()
        assert state["running"] is False and state["possible"]["pause"] is False
        r = web.post(handle.url + API + "/commands", json={"command": "pause"})
        assert r.status_code == 409 and r.json()["detail"] == "no scenario is running"
        for body in ({"command": "dance"}, {"command": "pause", "bogus": 1}, {"command": "herring", "n": 0}):
            r = web.post(handle.url + API + "/commands", json=body)
            assert r.status_code == 422, (body, r.text)
        # the web form goes through the same function: a 303 back with the reason
        r = web.post(handle.url + "/facilitator/do/resume", data={}, follow_redirects=False)
        assert r.status_code == 303 and "no+scenario+is+running" in r.headers["location"]
    # the terminal answers the same (one implementation): errors are printed, not raised
    assert console.handle("pause") == "error: no scenario is running"
    assert console.handle("herring x").startswith("error: herring N")


def test_facilitator_needs_the_token_like_the_rest(tmp_path: Path) -> None:
    console = FacilitatorConsole()
    with start_tracker(tmp_path / "t.db", run_id="fac-token", token="s3cret-token") as handle:
        handle.service.facilitator = console
        assert web.get(handle.url + API).status_code == 401
        assert web.post(handle.url + API + "/commands", json={"command": "abort"}).status_code == 401
        r = web.get(handle.url + "/facilitator", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2Ffacilitator")
        r = web.post(handle.url + "/facilitator/do/abort", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        assert not console.aborted.is_set()
        auth = {"Authorization": "Bearer s3cret-token"}
        assert web.get(handle.url + API, headers=auth).status_code == 200
        # a cross-site form post is refused even with the cookie
        r = web.post(handle.url + "/facilitator/do/abort", cookies={"gameday_token": "s3cret-token"},
                       headers={"Origin": "http://evil.example"}, follow_redirects=False)
        assert r.status_code == 403 and not console.aborted.is_set()
        r = web.post(handle.url + API + "/commands", json={"command": "abort"}, headers=auth)
        assert r.status_code == 200 and console.aborted.is_set()


@pytest.mark.slow
def test_commands_change_the_real_run(gameday_home: Path, tmp_path: Path) -> None:
    console = FacilitatorConsole()
    thread, box, url = start_game_day(tmp_path, console)
    client = httpx.Client(base_url=url, timeout=10)

    def cmd(command: str, **args: Any) -> httpx.Response:
        return client.post(API + "/commands", json={"command": command, **args})

    try:
        state = client.get(API).json()
        assert state["scenario"] == "pool-exhaustion" and state["label"].endswith("pool-exhaustion")
        assert state["faults_pending"] == 1 and state["herrings_remaining"] == 1
        wait_for(lambda: client.get(API).json()["possible"]["pause"], 60, "the game clock to start")

        # pause freezes the game clock (the runner's own clock)
        r = cmd("pause")
        assert r.status_code == 200 and r.json()["message"].startswith("paused at game")
        frozen = console.control.game_now()
        assert r.json()["state"]["paused"] is True
        time.sleep(1.0)
        assert console.control.game_now() == frozen
        assert cmd("pause").status_code == 409  # already paused
        r = cmd("resume")
        assert r.status_code == 200 and r.json()["state"]["paused"] is False
        time.sleep(0.5)
        assert console.control.game_now() > frozen

        # inject the next fault now: well before its scheduled 2m
        assert console.control.faults[0].spec.at == 120
        r = cmd("next")
        assert r.status_code == 200 and "leaky-release" in r.json()["message"]
        fault = wait_for(lambda: console.control.faults[0].injected_game is not None and console.control.faults[0],
                         30, "the fault to be injected")
        assert fault.injected_game < 120, fault.injected_game
        assert cmd("next").status_code == 409  # no fault left

        # a red herring now; then none left; extend; bad input
        r = cmd("herring")
        assert r.status_code == 200 and r.json()["message"].startswith("injected herring-")
        state = r.json()["state"]
        assert state["herrings_remaining"] == 0 and state["console_faults"][0]["kind"] == "proxy.latency"
        assert cmd("herring").status_code == 409
        before = console.control.max_duration
        r = cmd("extend", duration="10m")
        assert r.status_code == 200 and console.control.max_duration == before + 600
        assert cmd("extend", duration="soon").status_code == 422
        assert cmd("herring", n=7).status_code == 422
        state = client.get(API).json()
        assert state["faults_injected"] == 1 and state["faults"][0]["state"] == "on"

        # abort: the run ends through teardown, which reverts everything
        r = cmd("abort")
        assert r.status_code == 200 and r.json()["message"].startswith("aborting")
    finally:
        client.close()
        stop_game_day(thread, console)
    result = game_day_result(thread, box)
    assert result.aborted and len(result.parts) == 1 and result.parts[0].outcome == "interrupted"
    run_dir = Path(result.parts[0].run_dir)
    with Ledger.of_run(run_dir) as ledger:
        entries = ledger.entries()
    assert {e.id for e in entries} >= {"leaky-release"} and any(e.id.startswith("herring-") for e in entries)
    assert all(e.state == "reverted" for e in entries), [(e.id, e.state) for e in entries]
    injected = {e.data["id"]: e.game for e in read_events(run_dir / "journal.jsonl", "fault.injected")}
    assert injected["leaky-release"] is not None and injected["leaky-release"] < 120
    log = (run_dir / "console.log").read_text()
    assert "pause  [web:facilitator]" in log and "error: the game clock is already paused" in log


@pytest.mark.slow
def test_a_held_scenario_waits_for_start_in_the_one_drill_tracker(gameday_home: Path, tmp_path: Path) -> None:
    console = FacilitatorConsole()
    thread, box, url = start_game_day(tmp_path, console, start="facilitator")
    client = httpx.Client(base_url=url, timeout=10)
    try:
        state = wait_for(lambda: (s := client.get(API).json())["possible"]["start"] and s, 60, "the ready phase")
        assert state["phase"] == "ready" and state["waiting"] and not state["possible"]["pause"]
        assert client.post(API + "/commands", json={"command": "pause"}).status_code == 409  # no game clock yet
        runner = console.control
        # an incident opened by hand in the drill's tracker belongs to the held scenario
        r = client.post("/api/v1/incidents", json={"title": "Checkout looks slow", "service": "payments",
                                                   "severity": "P3"})
        assert r.status_code in (200, 201), r.text
        assert r.json()["run_id"] == runner.run_id
        time.sleep(1.0)
        assert runner.phase == "ready" and not runner.load_started and not runner.clock_started
        r = client.post(API + "/commands", json={"command": "start", "actor": "maria"})
        assert r.status_code == 200 and r.json()["message"].startswith("started pool-exhaustion")
        assert client.post(API + "/commands", json={"command": "start"}).status_code == 409
        wait_for(lambda: runner.clock_started, 60, "the game clock to start")
        assert runner.load_started
        assert client.post(API + "/commands", json={"command": "abort"}).status_code == 200
    finally:
        client.close()
        stop_game_day(thread, console)
    result = game_day_result(thread, box)
    run_dir = Path(result.parts[0].run_dir)
    events = read_events(run_dir / "journal.jsonl")
    [released] = [e for e in events if e.kind == "run.released"]
    assert released.data["by"] == "web:maria" and released.data["waited"] >= 1.0
    kinds = [e.kind for e in events]
    assert kinds.index("run.released") < kinds.index("load.started")
    # the hand-made incident is in this run's journal (mirrored from the drill's tracker) and the run folder
    # points at the drill's tracker database, which scoring reads
    assert any(e.kind == "incident.triggered" and "Checkout looks slow" in e.data["summary"] for e in events)
    info = json.loads((run_dir / "tracker.json").read_text())
    assert Path(info["db"]) == Path(result.folder) / "tracker.db" and not (run_dir / "tracker.db").exists()
