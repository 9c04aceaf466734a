"""Standby instances and failover (``targets[].standby: true``, ``gameday ops failover``): the proxies' side.

A target with a standby runs twice under the local supervisor: the primary and ``<name>.standby`` (same app or
command, its own 127.0.0.1 port, its own state, supervised, restarted and stopped like the primary). What a
failover moves, and what it does not:

* the target's **front proxy** (its public address: what the load and the monitor reach) sends new connections
  to the serving instance, like a load balancer's backend pool or a virtual IP moving; a fault *on* the front
  proxy (``proxy.* --target payments``) sits in front of both instances and stays in the way;
* each **link** ``a->t`` to it is three proxies: ``a--t`` the path to the primary (where the link's network
  faults go: ``proxy.* --target a->t``, unchanged), ``a--t.standby`` the path to the standby, and ``a--t.route``,
  the address ``a`` is configured with, which forwards to one path or the other. A failover points the route at
  the standby's path, so a fault on the path to the primary no longer hurts traffic, while its toxics stay where
  the ledger put them (its revert works as before). Switching drops the route's open connections (clients
  reconnect on the new path, as after a real failover); a link to a target without a standby is one proxy, as
  before.

The ops API, faults on the process and restarts act on the primary (the instance the target's name means);
the standby keeps the release, flags and config the scenario starts it with, its own ops state, and shares the
primary's data folder (a bundled app's database: two instances over one store, so a charge made on one can be
refunded on the other). Every address is 127.0.0.1: the
proxy refuses anything that is not loopback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simulator.domain.ops_action import FAILOVER_SIDES
from simulator.errors import Conflict, InputError
from simulator.proxy.client import ProxyClient

HOST = "127.0.0.1"
#: the standby instance's name: ``payments.standby`` (no target name has a dot)
STANDBY = ".standby"
SIDES = FAILOVER_SIDES


def standby_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """What the supervisor starts as the standby of ``spec``'s target."""
    return {**spec, "name": spec["name"] + STANDBY, "standby_of": spec["name"], "standby": False}


def create_link(client: ProxyClient, source: str, dep: str, primary: str, standby: str | None) -> dict[str, Any]:
    """The proxies of the link ``source->dep`` (``primary``/``standby``: the instances' ``host:port``); returns
    the link's entry in ``targets.json``."""
    proxy = f"{source}--{dep}"
    path = client.create_proxy(proxy, f"{HOST}:0", primary)
    link: dict[str, Any] = {"url": f"http://{HOST}:{path.listen_port}", "from": source, "to": dep, "proxy": proxy}
    if standby is None:
        return link
    spare = client.create_proxy(f"{proxy}{STANDBY}", f"{HOST}:0", standby)
    route = client.create_proxy(f"{proxy}.route", f"{HOST}:0", path.listen)
    link.update(url=f"http://{HOST}:{route.listen_port}", route=route.name, standby_proxy=spare.name,
                paths={"primary": path.listen, "standby": spare.listen})
    return link


def point(client: ProxyClient, target: Any, links: dict[str, dict[str, Any]]) -> int:
    """Point the proxies of ``target`` (a supervisor's ``Managed``) at its instances as they are now (after a
    restart, a failover): the front proxy at the serving one, each link's paths at their instance, each route at
    the serving side's path. A proxy already pointing there is left alone (its connections too). Returns how many
    links were routed."""
    name, serving, primary = target.name, target.extra.get("serving", "primary"), target.extra["internal_addr"]
    standby = target.standby.extra.get("internal_addr") if target.standby else None
    client.set_upstream(name, standby if serving == "standby" and standby else primary)
    routed = 0
    for link in links.values():
        if link["to"] != name:
            continue
        client.set_upstream(link["proxy"], primary)
        if "route" in link and standby:
            client.set_upstream(link["standby_proxy"], standby)
            client.set_upstream(link["route"], link["paths"][serving])
            routed += 1
    return routed


def switch(target: Any, side: str) -> Any:
    """The instance of a supervisor's ``Managed`` target that ``side`` names, once it may serve; ``InputError``
    for a target without a standby or an unknown side, ``Conflict`` when that instance is not running."""
    if target.standby is None:
        raise InputError(f"target {target.name} has no standby (declare targets[].standby: true)")
    if side not in SIDES:
        raise InputError(f"failover: expected one of {', '.join(SIDES)}, got {side!r}")
    to = target.standby if side == "standby" else target
    if to.status != "running":
        raise Conflict(f"{to.name} is {to.status}: a failover to it would send traffic nowhere")
    return to


def entry(instance: Any, log: Path) -> dict[str, Any]:
    """A standby (a supervisor's ``Managed``) as ``targets.json`` shows it under its target's ``standby``."""
    child = instance.child
    return {"name": instance.name, "status": instance.status, "url": instance.extra.get("internal_url"),
            "pid": child.pid if child else None, "create_time": child.create_time if child else None,
            "pgid": child.pid if child and instance.ops else None, "restarts": instance.restarts,
            "oom_kills": instance.oom_kills, "last_exit": instance.last_exit, "log": str(log)}
