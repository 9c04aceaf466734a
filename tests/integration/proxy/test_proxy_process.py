"""The proxy server started as a subprocess and driven through ``ProxyClient``, with HTTP traffic."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from proxy_http_upstream import BODY

from simulator.errors import EnvironmentProblem
from simulator.proxy import ProxyClient
from tests.helpers.proxy import ProxyServerProcess, start_proxy_server


def _get(port: int, timeout: float = 10.0) -> tuple[httpx.Response, float]:
    with httpx.Client(timeout=timeout, trust_env=False) as http:
        start = time.perf_counter()
        response = http.get(f"http://127.0.0.1:{port}/")
        return response, time.perf_counter() - start


def test_http_through_the_proxy_process_with_latency(proxy_client: ProxyClient, http_upstream: str) -> None:
    info = proxy_client.create_proxy("web", "127.0.0.1:0", http_upstream)
    response, fast = _get(info.listen_port)
    assert response.status_code == 200 and response.content == BODY

    proxy_client.add_toxic("web", "latency", latency=400)
    response, slow = _get(info.listen_port)
    assert response.content == BODY
    assert 0.38 <= slow < 3.0

    assert proxy_client.remove_toxic("web", "latency_downstream")
    _, after = _get(info.listen_port)
    assert after < 0.3
    stats = proxy_client.stats("web")
    assert stats.connections_total == 3
    assert stats.bytes_downstream > 3 * len(BODY)


def test_http_clients_see_faults(proxy_client: ProxyClient, http_upstream: str) -> None:
    info = proxy_client.create_proxy("faulty", "127.0.0.1:0", http_upstream)

    proxy_client.add_toxic("faulty", "reset_peer", timeout=0)
    with pytest.raises(httpx.TransportError):
        _get(info.listen_port)
    proxy_client.remove_toxic("faulty", "reset_peer_downstream")

    proxy_client.add_toxic("faulty", "limit_data", bytes=200)
    with pytest.raises(httpx.RemoteProtocolError):  # the body is cut short
        _get(info.listen_port)
    proxy_client.remove_toxic("faulty", "limit_data_downstream")

    proxy_client.add_toxic("faulty", "timeout", timeout=300)
    start = time.perf_counter()
    with pytest.raises(httpx.RemoteProtocolError):  # closed without a response
        _get(info.listen_port)
    assert 0.27 <= time.perf_counter() - start < 2.5
    proxy_client.remove_toxic("faulty", "timeout_downstream")

    proxy_client.set_enabled("faulty", False)
    with pytest.raises(httpx.ConnectError):
        _get(info.listen_port)
    proxy_client.set_enabled("faulty", True)
    assert _get(info.listen_port)[0].status_code == 200


def test_sigterm_stops_the_server_cleanly(http_upstream: str) -> None:
    process = start_proxy_server()
    try:
        with process.client() as client:
            port = client.create_proxy("x", "127.0.0.1:0", http_upstream).listen_port
        assert _get(port)[0].status_code == 200
        os.kill(process.pid, signal.SIGTERM)
        assert process.popen.wait(10) == 0
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        process.stop()
    assert not process.running()


def test_ready_line_is_one_json_object(proxy_process: ProxyServerProcess) -> None:
    cmd = [sys.executable, "-m", "simulator.proxy", "--control-port", "0", "--seed", "3"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as popen:
        try:
            assert popen.stdout is not None
            event = json.loads(popen.stdout.readline())
            assert event["event"] == "listening" and event["pid"] == popen.pid and event["port"] > 0
            with ProxyClient(f"http://127.0.0.1:{event['port']}") as client:
                assert client.proxies() == {}
        finally:
            popen.terminate()
            popen.wait(10)


def test_control_port_in_use_exits_3_with_the_fix(proxy_process: ProxyServerProcess) -> None:
    cmd = [sys.executable, "-m", "simulator.proxy", "--control-port", str(proxy_process.port)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert done.returncode == 3
    assert f"control port {proxy_process.port} on 127.0.0.1 is in use" in done.stderr
    assert "Traceback" not in done.stderr
    with pytest.raises(EnvironmentProblem, match="is in use"):
        start_proxy_server(control_port=proxy_process.port)


def test_config_file_creates_proxies_at_start(tmp_path: Path, http_upstream: str) -> None:
    config = tmp_path / "proxies.yaml"
    config.write_text(
        f"- name: web\n  listen: 127.0.0.1:0\n  upstream: {http_upstream}\n"
        "  toxics:\n    - {type: latency, attributes: {latency: 150}}\n"
    )
    with start_proxy_server(config=config) as process, process.client() as client:
        info = client.proxy("web")
        assert [t.type for t in info.toxics] == ["latency"]
        response, elapsed = _get(info.listen_port)
        assert response.status_code == 200 and elapsed >= 0.135


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- name: bad\n  listen: 0.0.0.0:0\n  upstream: 127.0.0.1:80\n", "is not a loopback address"),
        (
            "- {name: t, upstream: '127.0.0.1:80', toxics: [{type: latency, attributes: {latency: -1}}]}\n",
            "attribute 'latency' = -1",
        ),
        ("proxies: [1, 2]\n", "expected a list of proxies"),
        ("- [unclosed\n", "not valid JSON or YAML"),
    ],
)
def test_bad_config_exits_2_with_one_line(tmp_path: Path, content: str, message: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(content)
    cmd = [sys.executable, "-m", "simulator.proxy", "--config", str(config)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stdout == ""
