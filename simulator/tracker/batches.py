"""A large alert batch stored in transactions that each hold the write lock only briefly.

One webhook of thousands of alerts stored in one transaction holds SQLite's single writer lock for the whole
storm, so every other write (a person's ack, a one-alert POST) waits behind it. ``ingest_batched`` stores it
in batches instead: the first of ``limits.INGEST_BATCH`` alerts, each next one sized from how long the last
took, to hold the lock about ``limits.INGEST_BATCH_SECONDS`` (a batch of new incidents is far slower than
one of duplicates), with a pause between them in which a waiting writer takes the lock. The caller answers
once every batch is on disk.
"""

from __future__ import annotations

import time

from simulator.tracker import limits
from simulator.tracker.ingest import NormalizedAlert
from simulator.tracker.schemas import IngestResult
from simulator.tracker.service import TrackerService


def ingest_batched(svc: TrackerService, alerts: list[NormalizedAlert], *, actor: str) -> IngestResult:
    """Store ``alerts`` in transactions that each hold the write lock about ``limits.INGEST_BATCH_SECONDS``
    (the first has ``limits.INGEST_BATCH`` alerts; each next one is sized from how long the last took),
    letting other writers in between; the answer adds the batches up."""
    if len(alerts) <= limits.INGEST_BATCH:
        return svc.ingest(alerts, actor=actor)
    totals = {"received": 0, "created": 0, "deduplicated": 0, "resolved": 0}
    incidents: dict[str, None] = {}
    new: dict[str, None] = {}
    start, size = 0, limits.INGEST_BATCH
    while start < len(alerts):
        began = time.perf_counter()
        part = svc.ingest(alerts[start:start + size], actor=actor)
        elapsed = time.perf_counter() - began
        start += size
        for key in totals:
            totals[key] += getattr(part, key)
        incidents.update(dict.fromkeys(part.incidents))
        new.update(dict.fromkeys(part.new_incidents))
        size = max(5, min(10 * limits.INGEST_BATCH, int(size * limits.INGEST_BATCH_SECONDS / max(elapsed, 1e-3))))
        time.sleep(0.005)  # a waiting writer takes the lock now, not after the whole storm
    return IngestResult(**totals, incidents=list(incidents), new_incidents=list(new))
