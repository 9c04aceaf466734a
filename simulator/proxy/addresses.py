"""Loopback-only ``host:port`` addresses: the proxy never listens on or connects to anything else."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from simulator.errors import InputError, SafetyViolation

LOOPBACK_HINT = "gameday only proxies on loopback: 127.0.0.0/8, localhost or ::1"


@dataclass(frozen=True)
class Address:
    host: str  # a literal loopback IP ("127.0.0.1", "::1")
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def with_port(self, port: int) -> Address:
        return Address(self.host, port)


def parse_address(text: object, what: str = "address", allow_port_zero: bool = True) -> Address:
    """Parse ``127.0.0.1:8080``, ``localhost:0`` or ``[::1]:9000``; refuse anything not loopback.

    Raises ``InputError`` for a malformed address and ``SafetyViolation`` (an ``InputError``) for a
    well-formed one that is not loopback.
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"{what}: expected 'host:port' (e.g. 127.0.0.1:8080), got {text!r}")
    raw = text.strip()
    if raw.startswith("["):
        host, sep, rest = raw[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise InputError(f"{what}: expected '[ipv6]:port', got {raw!r}")
        port_text = rest[1:]
    else:
        host, sep, port_text = raw.rpartition(":")
        if not sep or not host:
            raise InputError(f"{what}: expected 'host:port' (e.g. 127.0.0.1:8080), got {raw!r}")
        if ":" in host:
            raise InputError(f"{what}: write IPv6 addresses as '[::1]:port', got {raw!r}")
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise InputError(f"{what}: port must be a number 0-65535, got {port_text!r} in {raw!r}")
    port = int(port_text)
    if port == 0 and not allow_port_zero:
        raise InputError(f"{what}: port 0 is not a valid destination in {raw!r}")
    return Address(_loopback_host(host, what, raw), port)


def _loopback_host(host: str, what: str, raw: str) -> str:
    if host.lower() == "localhost":
        return "127.0.0.1"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise SafetyViolation(f"{what} {raw!r} is not a loopback address; {LOOPBACK_HINT}") from None
    if not ip.is_loopback:
        raise SafetyViolation(f"{what} {raw!r} is not a loopback address; {LOOPBACK_HINT}")
    return str(ip)


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a literal loopback IP (brackets allowed)."""
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
