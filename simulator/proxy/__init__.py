"""gameday's TCP fault proxy, modelled on Toxiproxy.

One server process hosts many named proxies (``server.py``), each forwarding 127.0.0.1 traffic to a
loopback upstream through per-direction chains of toxics (``toxics.py`` describes them,
``effects.py`` applies them). It is driven over an HTTP JSON control API (``api.py``) with
``ProxyClient`` (``client.py``). Start it with ``python -m simulator.proxy`` or ``start_proxy()``
(``process.py``). Its own package: both ``targets`` (the supervisors start it) and ``faults``
(network faults drive it) import it, and it imports neither.

Public surface:

* ``TOXIC_TYPES`` / ``validate_attributes(type, attributes)``: the catalog, import-light.
* ``ProxyClient``, ``ProxyInfo``, ``ToxicInfo``, ``ProxyStats``.
* ``start_proxy(log_path, seed=...) -> simulator.procs.Child``.
"""

from typing import TYPE_CHECKING

from simulator.proxy.toxics import TOXIC_TYPES, ToxicType, validate_attributes

__all__ = [
    "TOXIC_TYPES",
    "ProxyClient",
    "ProxyInfo",
    "ProxyStats",
    "ToxicInfo",
    "ToxicType",
    "validate_attributes",
    "start_proxy",
]


if TYPE_CHECKING:
    from simulator.proxy.client import ProxyClient, ProxyInfo, ProxyStats, ToxicInfo
    from simulator.proxy.process import start_proxy

_CLIENT = {"ProxyClient", "ProxyInfo", "ProxyStats", "ToxicInfo"}


def __getattr__(name: str) -> object:
    # keep `import simulator.proxy.toxics` light: httpx, uvicorn and starlette load on use
    if name in _CLIENT:
        from simulator.proxy import client

        return getattr(client, name)
    if name == "start_proxy":
        from simulator.proxy.process import start_proxy

        return start_proxy
    raise AttributeError(name)
