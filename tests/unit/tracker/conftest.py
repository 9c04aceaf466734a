from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulator.tracker.service import TrackerService


class Clock:
    """A clock the test moves by hand (the service reads it for every write)."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2024, 4, 25, 9, 0, tzinfo=UTC))  # a Thursday


@pytest.fixture
def svc(tmp_path, clock) -> TrackerService:
    service = TrackerService(str(tmp_path / "tracker.db"), clock=clock)
    yield service
    service.db.close()


@pytest.fixture
def incident(svc) -> str:
    return svc.create_incident(title="Payments failing", service="payment-api", severity="P2", actor="alice").ref
