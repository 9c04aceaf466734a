"""``gameday incident`` and ``gameday tracker`` as users run them (real processes)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.helpers import web

pytestmark = pytest.mark.slow

GAMEDAY = [sys.executable, "-c", "from simulator.cli import main; main()"]


def gameday(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    full_env.pop("GAMEDAY_TRACKER_URL", None)
    return subprocess.run([*GAMEDAY, *args], capture_output=True, text=True, timeout=timeout, env=full_env)


def test_incident_commands_on_the_local_database(tmp_path):
    db = str(tmp_path / "t.db")
    from simulator.tracker.local import LocalTracker

    with LocalTracker(db) as local:
        ref = local.send_alert("HighErrorRate", "payment-api", severity="critical")["new_incidents"][0]

    listed = gameday("incident", "list", "--db", db, "--json")
    assert listed.returncode == 0, listed.stderr
    assert [i["ref"] for i in json.loads(listed.stdout)] == [ref]
    assert gameday("incident", "ack", ref, "--db", db, "--as", "alice").returncode == 0
    declared = gameday("incident", "declare", ref, "-s", "p1", "--db", db, "--as", "alice", "--json")
    assert json.loads(declared.stdout)["severity"] == "P1"
    env = {"GAMEDAY_TRACKER_DB": db}
    assert gameday("incident", "assign", ref, "ic", "alice", env=env).returncode == 0
    update = gameday("incident", "update", ref, "--status", "investigating", "--know", "5xx at 30%",
                     "--doing", "rolling back", "--next-in", "15", env=env)
    assert update.returncode == 0 and "What we know:\n- 5xx at 30%" in update.stdout
    assert gameday("incident", "checklist", ref, "logs", "--as", "bob", env=env).returncode == 0
    assert gameday("incident", "mitigate", ref, "-m", "rolled back", "--force", env=env).returncode == 0  # firing

    again = gameday("incident", "mitigate", ref, env=env)
    assert again.returncode == 2
    assert again.stderr.strip() == f"error: cannot mitigate {ref}: it is already mitigated"
    missing = gameday("incident", "show", "INC-1999-0001", env=env)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr and "no incident" in missing.stderr

    pm = gameday("incident", "postmortem", ref, "--set", "root_cause=Pool exhausted", "--action", "Pool alert",
                 "--owner", "bob", "--due", "2030-01-01", "--type", "monitoring", "--check", env=env)
    assert pm.returncode == 1 and "[monitoring] Pool alert" in pm.stdout  # incomplete: --check fails
    md = gameday("incident", "postmortem", ref, "--md", env=env)
    assert md.returncode == 0 and md.stdout.startswith("# Incident Post-Mortem: ")
    assert "## Root Cause\nPool exhausted" in md.stdout
    shown = json.loads(gameday("incident", "show", ref, "--json", env=env).stdout)
    kinds = [e["kind"] for e in shown["timeline"]]
    assert kinds[:3] == ["incident.triggered", "incident.acknowledged", "incident.declared"]
    assert shown["timeline"][1]["actor"] == "alice" and "postmortem.updated" in kinds


def test_incident_commands_against_a_tracker_url(tracker):
    c = tracker.client()
    ref = c.send_alert("HighLatency", "auth", severity="warning")["new_incidents"][0]
    acked = gameday("incident", "ack", ref, "--tracker", tracker.url, "--as", "erin", "--json")
    assert acked.returncode == 0, acked.stderr
    assert json.loads(acked.stdout)["status"] == "acknowledged"
    assert c.timeline(ref)[-1]["actor"] == "erin"
    ops = gameday("incident", "ops-action", ref, "restart", "--target", "auth", "--param", "graceful=true",
                  "--tracker", tracker.url, "--json")
    assert json.loads(ops.stdout)["kind"] == "ops.restart"
    down = gameday("incident", "list", "--tracker", "http://127.0.0.1:9")
    assert down.returncode == 3 and "gameday tracker serve" in down.stderr


def test_customers_are_told_from_the_terminal(tmp_path, tracker):
    db = str(tmp_path / "t.db")
    from simulator.tracker.local import LocalTracker

    with LocalTracker(db) as local:
        ref = local.create_incident("Payments failing", "payment-api", severity="P1")["ref"]
        local.declare(ref, "P1")
    env = {"GAMEDAY_TRACKER_DB": db}
    update = gameday("incident", "update", ref, "--status", "Investigating", "--know", "Card payments fail",
                     "--doing", "Switching to the fallback processor", "--external", "--as", "carol", env=env)
    assert update.returncode == 0, update.stderr
    assert update.stdout.startswith("external Incident: Payments failing")
    told = gameday("incident", "notify", ref, "--channel", "email", "--to", "Acme account team",
                   "We are switching processors; ETA 10:30.", "--as", "carol", "--json", env=env)
    assert told.returncode == 0, told.stderr
    assert {k: json.loads(told.stdout)[k] for k in ("channel", "to", "actor")} == {
        "channel": "email", "to": "Acme account team", "actor": "carol"}
    page = gameday("incident", "notify", ref, "Payments degraded", env=env)  # the status page by default
    assert page.returncode == 0 and "customer message (status_page) recorded" in page.stdout
    bad = gameday("incident", "notify", ref, "--channel", "pigeon", "hello", env=env)
    assert bad.returncode == 2 and "channel must be one of status_page, email, support" in bad.stderr
    with LocalTracker(db) as local:
        assert [u.audience for u in local.status_updates(ref)] == ["external"]
        assert [m.channel for m in local.customer_messages(ref)] == ["email", "status_page"]

    remote = tracker.client().create_incident("Login errors", "auth")["ref"]
    sent = gameday("incident", "notify", remote, "--channel", "support", "Logins fail for some users",
                   "--tracker", tracker.url, "--as", "dana")
    assert sent.returncode == 0, sent.stderr
    assert [(m.channel, m.actor) for m in tracker.client().customer_messages(remote)] == [("support", "dana")]
    external = gameday("incident", "update", remote, "--status", "Investigating", "--know", "x", "--doing", "y",
                      "--external", "--tracker", tracker.url)
    assert external.returncode == 0 and tracker.client().status_updates(remote)[0].audience == "external"


def test_tracker_serve_and_stop(tmp_path):
    roster = tmp_path / "roster.yaml"
    roster.write_text("- {name: Alice, handle: '@alice', oncall: primary}\n- {name: Bob, oncall: secondary}\n")
    proc = subprocess.Popen([*GAMEDAY, "tracker", "serve", "--port", "0", "--db", str(tmp_path / "s.db"),
                             "--roster", str(roster)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "COLUMNS": "200"})
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match, line + proc.stderr.read() if proc.poll() is not None else line
        url = match.group(0)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if web.get(url + "/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        people = web.get(url + "/api/v1/people").json()
        assert [(p["name"], p["oncall"]) for p in people] == [("Alice", "primary"), ("Bob", "secondary")]
        assert "Primary on call:</strong> Alice" in web.get(url + "/").text
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_refuses_a_public_address_without_a_token(tmp_path):
    result = gameday("tracker", "serve", "--host", "0.0.0.0", "--port", "0", "--db", str(tmp_path / "x.db"))
    assert result.returncode == 2 and "needs an API token" in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("people: [name: x\n")
    result = gameday("tracker", "roster", str(bad), "--db", str(tmp_path / "x.db"))
    assert result.returncode == 2 and "bad.yaml:" in result.stderr
