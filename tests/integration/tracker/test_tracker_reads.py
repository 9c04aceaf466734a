"""The API's reads stay answered while every write waits for the writer lock (they run on their own threads,
never queued behind writes in the shared thread pool). A real tracker (uvicorn, SQLite), real HTTP clients."""

from __future__ import annotations

import threading

import httpx

from simulator.tracker.api import READ_THREADS
from tests.helpers import web

WRITERS = 48  # more than the shared thread pool's 40 workers: every one of them is waiting


def test_reads_are_answered_while_every_write_waits_for_the_lock(tracker) -> None:
    client = tracker.client(actor="alice")
    ref = client.create_incident("Checkout failing", "payment-api", severity="P2")["ref"]
    done: list[int] = []

    def post_note(n: int) -> None:
        answer = web.post(f"{tracker.url}/api/v1/incidents/{ref}/notes", json={"text": f"note {n}",
                                                                                "actor": "bob"}, timeout=120)
        done.append(answer.status_code)

    writers = [threading.Thread(target=post_note, args=(n,), daemon=True) for n in range(WRITERS)]
    with tracker.service.db.write():  # the writer lock, held here: every write the API takes waits for it
        for w in writers:
            w.start()
        with httpx.Client(base_url=tracker.url, timeout=60) as http:
            for _ in range(3 * READ_THREADS):
                assert http.get(f"/api/v1/incidents/{ref}").json()["ref"] == ref
                assert http.get("/api/v1/incidents").json()[0]["ref"] == ref
                assert http.get(f"/api/v1/incidents/{ref}/timeline").status_code == 200
        assert done == []  # the reads were answered while every write still waited
    for w in writers:
        w.join(120)
    assert done == [201] * WRITERS
    assert len([e for e in client.timeline(ref) if e.kind == "incident.note"]) == WRITERS
