"""Fixtures for the load tests: the stub target (a real loopback HTTP server in its own
process) and a driver factory that stops every Locust it started and checks none is left."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from simulator.load import LoadDriver
from simulator.procs import start_listening, stop_process
from tests.helpers import load_stub


class Stub:
    """``tests/helpers/load_stub.py`` in its own process."""

    def __init__(self, log_path: Path) -> None:
        self.child = start_listening([load_stub.__file__], log_path)
        self.port = self.child.port
        self.url = f"http://127.0.0.1:{self.port}"

    def _call(self, method: str, path: str, body: dict | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def control(self, **settings: Any) -> None:
        self._call("POST", "/__control", settings)

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/__stats")

    def reset(self) -> None:
        self._call("POST", "/__reset", {})

    def close(self) -> None:
        stop_process(self.child.pid, self.child.create_time)
        self.child.proc.wait(5)


@pytest.fixture
def stub(tmp_path: Path) -> Iterator[Stub]:
    s = Stub(tmp_path / "stub.log")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def stub2(tmp_path: Path) -> Iterator[Stub]:
    s = Stub(tmp_path / "stub2.log")
    try:
        yield s
    finally:
        s.close()


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.fixture
def free_port():
    from simulator.load.driver import free_port as pick

    return pick


@pytest.fixture
def gone():
    """``gone(pid)``: the process has exited (or is a zombie waiting to be reaped)."""
    return _gone


class Recorder:
    """An ``on_stats`` callback that keeps every line."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def __call__(self, record: dict[str, Any]) -> None:
        self.lines.append(record)

    def total(self, key: str) -> int:
        return sum(line[key] for line in self.lines)

    def wait_for(self, predicate, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if predicate(line):
                    return line
            time.sleep(0.05)
        raise AssertionError(f"no stats line matched within {timeout}s; last: {self.lines[-1:]}")

    def wait_lines(self, n: int, timeout: float = 30.0) -> None:
        self.wait_for(lambda _line: len(self.lines) >= n, timeout)


@pytest.fixture
def make_driver(tmp_path: Path) -> Iterator[Any]:
    drivers: list[LoadDriver] = []

    def make(url: str, app: str = "ping", **kw: Any) -> tuple[LoadDriver, Recorder]:
        recorder = Recorder()
        kw.setdefault("run_dir", tmp_path / f"run{len(drivers)}")
        kw.setdefault("wait", (0.01, 0.02))
        kw.setdefault("on_stats", recorder)
        driver = LoadDriver(url, app, **kw)
        drivers.append(driver)
        return driver, recorder

    yield make
    for driver in drivers:
        driver.stop()
    leftovers = [pid for driver in drivers for pid in driver.pids if not _gone(pid)]
    assert not leftovers, f"Locust processes left running: {leftovers}"
