"""Failover's proxies on a real fault proxy (a thread of this process) over two real HTTP instances on loopback:
a link to a target with a standby is a route in front of two paths; a failover points the route (and the front
proxy) at the standby, so a fault on the path to the primary stops hurting while its toxic stays where it was."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulator.bounded import DamagedFile
from simulator.errors import Conflict, InputError
from simulator.proxy import ProxyClient
from simulator.rundir import RunDir
from simulator.targets import failover
from simulator.targets.supervisor import Managed
from tests.helpers.proxy import BackgroundProxyServer


class Instance:
    """An HTTP server on 127.0.0.1 that answers every GET with its name."""

    def __init__(self, name: str):
        body = name.encode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.addr = f"127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def answer(url: str, timeout: float = 5.0) -> str | None:
    """Who answered a GET of ``url`` on a fresh connection; None when nobody did within ``timeout``."""
    try:
        with httpx.Client(trust_env=False, timeout=timeout) as client:
            return client.get(url).text
    except httpx.HTTPError:
        return None


@pytest.fixture
def proxies() -> Iterator[ProxyClient]:
    with BackgroundProxyServer(seed=7) as server, ProxyClient(server.base_url) as client:
        yield client


@pytest.fixture
def instances() -> Iterator[tuple[Instance, Instance]]:
    primary, standby = Instance("primary"), Instance("standby")
    yield primary, standby
    primary.close()
    standby.close()


def payments(primary: Instance, standby: Instance, status: str = "running") -> Managed:
    """The supervisor's own record of a target with a standby."""
    m = Managed({"name": "payments", "app": "payments"}, status="running", extra={"internal_addr": primary.addr})
    m.standby = Managed(failover.standby_spec(m.spec), status=status, extra={"internal_addr": standby.addr})
    return m


def test_a_failover_routes_the_link_around_a_fault_on_the_path_to_the_primary(
        proxies: ProxyClient, instances: tuple[Instance, Instance]) -> None:
    primary, standby = instances
    front = proxies.create_proxy("payments", "127.0.0.1:0", primary.addr)
    link = failover.create_link(proxies, "gateway", "payments", primary.addr, standby.addr)
    links = {"gateway->payments": link}
    assert (link["proxy"], link["route"], link["standby_proxy"]) == (
        "gateway--payments", "gateway--payments.route", "gateway--payments.standby")
    assert answer(link["url"]) == "primary"
    # the network fault, where 'gameday fault inject proxy.timeout -t gateway->payments' puts it: data stops
    proxies.add_toxic(link["proxy"], "timeout", name="slow-link", timeout=0)
    assert answer(link["url"], timeout=1.0) is None

    m = payments(primary, standby)
    m.extra["serving"] = "standby"
    assert failover.point(proxies, m, links) == 1
    assert answer(link["url"]) == "standby"  # the link's new connections go round the faulty path
    assert answer(f"http://127.0.0.1:{front.listen_port}") == "standby"  # and so does the target's address
    # the fault is still where the ledger put it, and its revert works as before
    assert [t.name for t in proxies.toxics(link["proxy"])] == ["slow-link"]
    assert proxies.remove_toxic(link["proxy"], "slow-link") is True

    m.extra["serving"] = "primary"  # fail back
    failover.point(proxies, m, links)
    assert answer(link["url"]) == "primary"
    assert answer(f"http://127.0.0.1:{front.listen_port}") == "primary"
    upstreams = {name: p.upstream for name, p in proxies.proxies().items()}
    assert all(u.startswith("127.0.0.1:") for u in upstreams.values()), upstreams


def test_a_link_to_a_target_without_a_standby_is_one_proxy_as_before(
        proxies: ProxyClient, instances: tuple[Instance, Instance]) -> None:
    primary, _ = instances
    link = failover.create_link(proxies, "gateway", "payments", primary.addr, None)
    assert set(link) == {"url", "from", "to", "proxy"}
    assert set(proxies.proxies()) == {"gateway--payments"}
    assert answer(link["url"]) == "primary"


def test_the_proxy_never_routes_to_a_standby_off_loopback(proxies: ProxyClient,
                                                          instances: tuple[Instance, Instance]) -> None:
    primary, _ = instances
    with pytest.raises(InputError, match="not a loopback address"):
        failover.create_link(proxies, "gateway", "payments", primary.addr, "10.1.2.3:80")


def test_switch_names_the_instance_or_says_why_not(instances: tuple[Instance, Instance]) -> None:
    primary, standby = instances
    m = payments(primary, standby)
    assert failover.switch(m, "standby") is m.standby and failover.switch(m, "primary") is m
    with pytest.raises(InputError, match="expected one of standby, primary, got 'secondary'"):
        failover.switch(m, "secondary")
    with pytest.raises(Conflict, match="payments.standby is crashed: a failover to it would send traffic nowhere"):
        failover.switch(payments(primary, standby, status="crashed"), "standby")
    alone = Managed({"name": "auth"}, status="running")
    with pytest.raises(InputError, match=r"target auth has no standby \(declare targets\[\].standby: true\)"):
        failover.switch(alone, "standby")


def test_a_standby_pid_in_targets_json_is_checked_like_the_primarys(tmp_path: Path) -> None:
    folder = RunDir(tmp_path)
    good = {"pid": 4321, "create_time": 1.5, "standby": {"name": "payments.standby", "pid": 4322, "create_time": 2.5}}
    folder.targets_json.write_text(json.dumps({"run_id": "r", "targets": {"payments": good}}))
    assert folder.targets_state()["targets"]["payments"]["standby"]["pid"] == 4322
    bad = {**good, "standby": {"pid": -1, "create_time": 2.5}}  # cleanup signals only what the folder checked
    folder.targets_json.write_text(json.dumps({"run_id": "r", "targets": {"payments": bad}}))
    with pytest.raises(DamagedFile, match=r"targets\.payments\.standby\.pid: expected a positive whole number"):
        folder.targets_state()
