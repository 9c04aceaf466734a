"""Loopback-only guard for load traffic.

gameday sends load only to the local machine: ``127.0.0.0/8``, ``localhost`` or ``[::1]``.
The driver checks the target before it starts Locust and the locustfiles check again inside
the Locust process (master, local runner and every worker), so a hand-started Locust is
held to the same rule. Names are never resolved: only the literal ``localhost`` is accepted.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from simulator.errors import SafetyViolation

LOOPBACK_HINT = "load goes only to loopback (127.0.0.0/8, localhost, [::1])"


def is_loopback_host(host: str | None) -> bool:
    """True for ``localhost``, any 127.0.0.0/8 address, ``::1`` (brackets allowed)."""
    if not host:
        return False
    name = host.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name in ("localhost", "localhost."):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if address.is_loopback:
        return True
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(mapped is not None and mapped.is_loopback)


def check_loopback_url(url: str) -> str:
    """Return ``url`` without a trailing slash if it is an http(s) URL on loopback.

    Raises ``SafetyViolation`` (one line) otherwise.
    """
    try:
        parts = urlsplit(str(url).strip())
        host = parts.hostname
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError as exc:
        raise SafetyViolation(f"refusing load target {url!r}: not a valid URL ({exc}); {LOOPBACK_HINT}") from None
    if parts.scheme not in ("http", "https"):
        raise SafetyViolation(f"refusing load target {url!r}: expected an http:// URL; {LOOPBACK_HINT}")
    if not is_loopback_host(host):
        raise SafetyViolation(f"refusing load target {url!r}: host {host!r} is not loopback; {LOOPBACK_HINT}")
    return str(url).strip().rstrip("/")
