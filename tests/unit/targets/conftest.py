"""In-process apps (the real FastAPI app, lifespan included) and a metrics reader."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from simulator.targets.apps import auth, gateway, payments

FACTORIES = {"payments": payments.create_app, "gateway": gateway.create_app, "auth": auth.create_app}


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """``app_client("payments", config=..., state_file=...)`` -> a TestClient with the lifespan running."""
    with ExitStack() as stack:

        def make(name: str, config: dict[str, Any] | None = None, state_file: Path | None = None) -> TestClient:
            data_dir = tmp_path / f"{name}-data"
            app = FACTORIES[name](config, state_file, data_dir)
            return stack.enter_context(TestClient(app, base_url="http://127.0.0.1"))

        yield make


def sample(text: str, name: str, /, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return float(s.value)
    return None


@pytest.fixture
def metric() -> Callable[..., float | None]:
    return sample
