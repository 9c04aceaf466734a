"""A small synchronous client for the proxy control API.

    with ProxyClient("http://127.0.0.1:8474") as proxies:
        info = proxies.create_proxy("payments-db", "127.0.0.1:0", "127.0.0.1:5432")
        proxies.add_toxic("payments-db", "latency", latency=200, jitter=20)
        ...
        proxies.remove_toxic("payments-db", "latency_downstream")

Errors are gameday's: ``InputError`` (422/400, the server's one-line message), ``NotFound`` (404),
``Conflict`` (409), ``EnvironmentProblem`` (control API unreachable, or a listen port in use).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from simulator.errors import EnvironmentProblem, GamedayError, NotFound, SafetyViolation
from simulator.http import STATUS_ERRORS, HTTPError, TimeoutException, error_for, http_client, json_body, send
from simulator.proxy.addresses import LOOPBACK_HINT, is_loopback_host
from simulator.proxy.toxics import TOXIC_TYPES, ToxicType, validate_attributes

__all__ = [
    "ProxyClient",
    "ProxyInfo",
    "ProxyStats",
    "ToxicInfo",
    "TOXIC_TYPES",
    "ToxicType",
    "validate_attributes",
]


@dataclass(frozen=True)
class ToxicInfo:
    name: str
    type: str
    stream: str
    toxicity: float
    attributes: dict[str, Any]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ToxicInfo:
        return cls(data["name"], data["type"], data["stream"], float(data["toxicity"]), dict(data["attributes"]))


@dataclass(frozen=True)
class ProxyStats:
    connections_active: int
    connections_total: int
    bytes_upstream: int  # client -> upstream, bytes delivered
    bytes_downstream: int  # upstream -> client, bytes delivered
    upstream_errors: int  # client connections closed because the upstream could not be reached

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProxyStats:
        return cls(**{k: int(data[k]) for k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class ProxyInfo:
    name: str
    listen: str  # actual address, e.g. "127.0.0.1:40123" even when created with port 0
    upstream: str
    enabled: bool
    toxics: tuple[ToxicInfo, ...]
    stats: ProxyStats

    @property
    def listen_host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def listen_port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProxyInfo:
        return cls(
            name=data["name"],
            listen=data["listen"],
            upstream=data["upstream"],
            enabled=bool(data["enabled"]),
            toxics=tuple(ToxicInfo.from_json(t) for t in data.get("toxics", [])),
            stats=ProxyStats.from_json(data["stats"]),
        )


class ProxyClient:
    """Drive a proxy server's control API (``python -m simulator.proxy``)."""

    def __init__(self, base_url: str, timeout: float = 5.0):
        host = urlsplit(base_url).hostname or ""
        if not is_loopback_host(host):
            raise SafetyViolation(f"proxy control API {base_url!r} is not on loopback; {LOOPBACK_HINT}")
        self.base_url = base_url.rstrip("/")
        self._http = http_client(self.base_url, timeout=timeout)

    # -- plumbing ------------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: Any = None) -> Any:
        response = send(method, path, via=self._http, json=body, unreachable=lambda exc: self._unreachable(
            exc, f"{method} {path}"))
        if response.status_code == 204:
            return None
        data = json_body(response)
        if response.status_code < 400:
            return data
        message = data.get("error") if isinstance(data, dict) else None
        message = message or f"{method} {path}: HTTP {response.status_code}"
        if response.status_code == 409 and isinstance(data, dict) and data.get("code") == "port_in_use":
            raise EnvironmentProblem(message)
        raise error_for(response, message, errors={**STATUS_ERRORS, 503: EnvironmentProblem},
                        otherwise=lambda text: GamedayError(f"proxy control API error: {text}"))

    def _unreachable(self, exc: HTTPError, call: str) -> str:
        if isinstance(exc, TimeoutException):
            return (f"the proxy control API at {self.base_url} did not answer {call} in time ({exc}); "
                    "is the proxy server overloaded or stopped (SIGSTOP)?")
        return (f"cannot reach the proxy control API at {self.base_url} ({exc}); start it with "
                "`python -m simulator.proxy --control-port PORT` or check the URL")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ProxyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- proxies -------------------------------------------------------------------------------
    def version(self) -> str:
        return str(self._request("GET", "/version")["version"])

    def proxies(self) -> dict[str, ProxyInfo]:
        return {name: ProxyInfo.from_json(p) for name, p in self._request("GET", "/proxies").items()}

    def proxy(self, name: str) -> ProxyInfo:
        return ProxyInfo.from_json(self._request("GET", f"/proxies/{name}"))

    def create_proxy(self, name: str, listen: str, upstream: str, enabled: bool = True) -> ProxyInfo:
        """Create a proxy; ``listen`` may use port 0 (the returned ``listen_port`` is the real one)."""
        body = {"name": name, "listen": listen, "upstream": upstream, "enabled": enabled}
        return ProxyInfo.from_json(self._request("POST", "/proxies", body))

    def delete_proxy(self, name: str) -> bool:
        """Delete a proxy (closing its connections). Idempotent: False if it did not exist."""
        try:
            self._request("DELETE", f"/proxies/{name}")
        except NotFound:
            return False
        return True

    def set_enabled(self, name: str, enabled: bool) -> ProxyInfo:
        """``False`` is the ``down`` fault: listener closed, connections dropped. ``True`` restores."""
        return ProxyInfo.from_json(self._request("POST", f"/proxies/{name}", {"enabled": enabled}))

    def set_upstream(self, name: str, upstream: str) -> ProxyInfo:
        return ProxyInfo.from_json(self._request("POST", f"/proxies/{name}", {"upstream": upstream}))

    def stats(self, name: str) -> ProxyStats:
        return ProxyStats.from_json(self._request("GET", f"/proxies/{name}/stats"))

    def reset(self) -> None:
        """Remove every toxic from every proxy and enable them all."""
        self._request("POST", "/reset")

    # -- toxics --------------------------------------------------------------------------------
    def add_toxic(
        self,
        proxy: str,
        type: str,
        name: str | None = None,
        stream: str = "downstream",
        toxicity: float = 1.0,
        **attributes: Any,
    ) -> ToxicInfo:
        """Add a toxic; its name defaults to ``<type>_<stream>`` as in Toxiproxy."""
        body = {"type": type, "stream": stream, "toxicity": toxicity, "attributes": attributes}
        if name is not None:
            body["name"] = name
        return ToxicInfo.from_json(self._request("POST", f"/proxies/{proxy}/toxics", body))

    def update_toxic(self, proxy: str, name: str, toxicity: float | None = None, **attributes: Any) -> ToxicInfo:
        body: dict[str, Any] = {"attributes": attributes}
        if toxicity is not None:
            body["toxicity"] = toxicity
        return ToxicInfo.from_json(self._request("POST", f"/proxies/{proxy}/toxics/{name}", body))

    def remove_toxic(self, proxy: str, name: str) -> bool:
        """Remove a toxic. Idempotent: False if the toxic (or the proxy) does not exist."""
        try:
            self._request("DELETE", f"/proxies/{proxy}/toxics/{name}")
        except NotFound:
            return False
        return True

    def toxics(self, proxy: str) -> list[ToxicInfo]:
        return [ToxicInfo.from_json(t) for t in self._request("GET", f"/proxies/{proxy}/toxics")]

    def toxic(self, proxy: str, name: str) -> ToxicInfo:
        return ToxicInfo.from_json(self._request("GET", f"/proxies/{proxy}/toxics/{name}"))
