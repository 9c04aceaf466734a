"""``simulator.http``: clients that ignore the environment's proxies, and one error mapping."""

from __future__ import annotations

import socket

import httpx
import pytest

from simulator.errors import Conflict, EnvironmentProblem, GamedayError, InputError, NotFound
from simulator.http import answers, error_for, http_client, send, server_message


def _answer(status: int, **kwargs: object) -> httpx.Response:
    return httpx.Response(status, request=httpx.Request("GET", "http://127.0.0.1:1/x"), **kwargs)  # type: ignore[arg-type]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_clients_never_use_the_environment_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    with http_client("http://127.0.0.1:1", timeout=1) as client:
        assert client.trust_env is False
        assert client.follow_redirects is False
        assert str(client.base_url) == "http://127.0.0.1:1"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"json": {"error": "not_found", "message": "no charge 'c1'", "detail": "no charge 'c1'"}}, "no charge 'c1'"),
    ({"json": {"detail": [{"loc": ["body"], "msg": "field required"}, {"msg": "bad"}]}}, "field required; bad"),
    ({"json": {"errors": ["one", "two"], "message": "ignored"}}, "one; two"),
    ({"json": {"error": "proxy 'x' not found", "status": 404}}, "proxy 'x' not found"),
    ({"text": "plain words"}, "plain words"),
    ({}, "Not Found"),
])
def test_the_server_message(kwargs: dict[str, object], message: str) -> None:
    assert server_message(_answer(404, **kwargs)) == message


def test_errors_by_status() -> None:
    assert type(error_for(_answer(404, json={"detail": "gone"}))) is NotFound
    assert type(error_for(_answer(409, json={"detail": "taken"}))) is Conflict
    assert type(error_for(_answer(400, json={"detail": "x"}))) is InputError
    assert type(error_for(_answer(422, json={"detail": "x"}))) is InputError
    other = error_for(_answer(500, json={"detail": "boom"}))
    assert type(other) is GamedayError and str(other) == "boom"
    custom = error_for(_answer(503, text="down"), otherwise=lambda text: EnvironmentProblem(f"it said {text}"))
    assert isinstance(custom, EnvironmentProblem) and str(custom) == "it said down"
    assert str(error_for(_answer(404), "mine")) == "mine"


def test_no_answer_is_an_environment_problem_with_the_callers_words() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/ops"
    with pytest.raises(EnvironmentProblem, match=r"^payments: ops API unreachable at http://127\.0\.0\.1:\d+/ops \("):
        send("GET", url, timeout=2, unreachable=lambda exc: f"payments: ops API unreachable at {url} ({exc})")
    assert answers(url, timeout=1) is False
