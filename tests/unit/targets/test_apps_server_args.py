"""The app entry point's error paths (in-process: they end before uvicorn starts)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from simulator.errors import EnvironmentProblem, InputError
from simulator.targets.apps import payments
from simulator.targets.apps.common.server import bind, load_config_arg, main


def test_config_arg_json_or_file(tmp_path: Path) -> None:
    assert load_config_arg(None) is None
    assert load_config_arg('{"pool_size": 3}') == {"pool_size": 3}
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"fraud_check_ms": 1}))
    assert load_config_arg(f"@{path}") == {"fraud_check_ms": 1}
    with pytest.raises(InputError, match="not valid JSON"):
        load_config_arg("{nope")
    with pytest.raises(InputError, match="must be a JSON object, got list"):
        load_config_arg("[1]")
    with pytest.raises(InputError, match="--config file"):
        load_config_arg(f"@{tmp_path / 'missing.json'}")


def test_main_reports_bad_config_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main("payments", payments.create_app, ["--config", '{"pool_sise": 3}', "--data-dir", str(tmp_path)])
    assert code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert (
        err == "error: --config: unknown config key 'pool_sise' for payments "
        "(known: pool_size, max_overflow, pool_timeout, fraud_check_ms, db_url, auto_fallback, "
        "auto_fallback_timeouts, auto_fallback_window)\n"
    )


def test_bind_only_loopback_and_reports_a_taken_port() -> None:
    sock = bind(0)
    try:
        host, port = sock.getsockname()
        assert host == "127.0.0.1"
        assert port > 0
        with pytest.raises(EnvironmentProblem, match=f"port {port} on 127.0.0.1 is already in use"):
            sock.listen()
            bind(port)
    finally:
        sock.close()
    assert sock.proto == socket.IPPROTO_TCP  # so asyncio sets TCP_NODELAY on accepted connections
