"""Run the bundled apps as real processes on 127.0.0.1 (port 0) and always stop them."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[3]
START_TIMEOUT_S = 60.0


@dataclass
class RunningApp:
    name: str
    proc: subprocess.Popen[str]
    port: int
    pid: int
    listening: dict[str, Any]
    log_path: Path
    state_file: Path | None
    data_dir: Path | None
    clients: list[httpx.Client] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, timeout: float = 30.0, **kwargs: Any) -> httpx.Client:
        client = httpx.Client(base_url=self.url, timeout=timeout, trust_env=False, **kwargs)
        self.clients.append(client)
        return client

    def metrics(self) -> str:
        with httpx.Client(base_url=self.url, timeout=30.0, trust_env=False) as client:
            response = client.get("/metrics")
        assert response.status_code == 200, response.text
        return response.text

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stop(self) -> int:
        for client in self.clients:
            client.close()
        self.clients.clear()
        return stop_process(self.proc)


def stop_process(proc: subprocess.Popen[str]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
    if proc.stdout is not None:
        proc.stdout.close()
    return proc.returncode


def sample(text: str, name: str, /, **labels: str) -> float | None:
    """The value of one sample in Prometheus text (None when absent). Labels must match exactly."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and s.labels == labels:
                return float(s.value)
    return None


def sample_sum(text: str, name: str, /, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += float(s.value)
    return total


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch(
    name: str,
    workdir: Path,
    *,
    config: dict[str, Any] | None = None,
    state_file: Path | None = None,
    data_dir: Path | None = None,
    port: int = 0,
    extra_args: list[str] | None = None,
) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", f"simulator.targets.apps.{name}", "--port", str(port)]
    if state_file is not None:
        cmd += ["--state-file", str(state_file)]
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    if config is not None:
        cmd += ["--config", json.dumps(config)]
    cmd += extra_args or []
    workdir.mkdir(parents=True, exist_ok=True)
    log = open(workdir / f"{name}.log", "a", encoding="utf-8")  # noqa: SIM115 -- the child owns it
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(var, None)
    try:
        return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    finally:
        log.close()


def read_listening(proc: subprocess.Popen[str], timeout: float = START_TIMEOUT_S) -> dict[str, Any] | None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=0.5):
                if proc.poll() is not None:
                    return None
                continue
            line = proc.stdout.readline()
            if not line:
                return None
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("event") == "listening":
                return event
    return None


StartApp = Callable[..., RunningApp]


@pytest.fixture
def start_app(tmp_path: Path) -> Iterator[StartApp]:
    """``start_app("payments", config=..., state_file=..., data_dir=...)`` -> a running app, stopped
    at teardown whatever happens."""
    running: list[RunningApp] = []
    procs: list[subprocess.Popen[str]] = []

    def start(
        name: str,
        *,
        config: dict[str, Any] | None = None,
        state_file: Path | None = None,
        data_dir: Path | None = None,
    ) -> RunningApp:
        workdir = tmp_path / "logs"
        proc = launch(name, workdir, config=config, state_file=state_file, data_dir=data_dir)
        procs.append(proc)
        event = read_listening(proc)
        log_path = workdir / f"{name}.log"
        if event is None:
            stop_process(proc)
            pytest.fail(f"{name} did not start: {log_path.read_text(errors='replace')[-3000:]}")
        app = RunningApp(name, proc, int(event["port"]), int(event["pid"]), event, log_path, state_file, data_dir)
        running.append(app)
        return app

    try:
        yield start
    finally:
        for app in running:
            app.stop()
        for proc in procs:
            stop_process(proc)


@pytest.fixture
def metric() -> Callable[..., float | None]:
    return sample


@pytest.fixture
def metric_sum() -> Callable[..., float]:
    return sample_sum


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (was free a moment ago)."""
    return free_port()
