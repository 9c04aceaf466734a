"""Listening sockets for our uvicorn servers (apps, fault proxy control API, tracker).

``resolve``/``loopback_only``: what "loopback" means for a host we are asked to bind or trust: an IP address
in 127.0.0.0/8 or ``::1``, checked after name resolution (never a text prefix).

Made with ``IPPROTO_TCP``: asyncio sets TCP_NODELAY only on accepted sockets whose protocol says
TCP, and without it every kept-alive response waits out a 40 ms delayed ACK (Nagle).
"""

from __future__ import annotations

import errno
import functools
import ipaddress
import random
import socket

from simulator.errors import EnvironmentProblem, InputError


def resolve(host: str) -> list[str]:
    """The IP addresses ``host`` stands for (a literal address is itself; a name is resolved, once)."""
    name = host.strip().strip("[]")
    try:
        return [str(ipaddress.ip_address(name.split("%", 1)[0]))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(name, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise InputError(f"host {host!r} does not resolve to an address ({exc})") from None
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


def is_loopback_ip(address: str) -> bool:
    """An address in 127.0.0.0/8 or ``::1`` (IPv4-mapped ``::ffff:127.x`` counts as its IPv4)."""
    try:
        ip = ipaddress.ip_address(address.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped is not None and mapped.is_loopback)


def loopback_only(host: str) -> bool:
    """``host`` resolves, and every address it resolves to is loopback (``127.invalid`` does not resolve;
    a name that resolves to 127.0.0.1 and 10.0.0.1 is not loopback)."""
    try:
        addresses = resolve(host)
    except InputError:
        return False
    return bool(addresses) and all(is_loopback_ip(a) for a in addresses)


def listen_tcp(host: str, port: int, *, busy: str, backlog: int = 128, inheritable: bool = False) -> socket.socket:
    """A bound, listening socket on ``host:port``; ``busy`` is the one-line fix when the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise EnvironmentProblem(busy) from None
        raise EnvironmentProblem(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(inheritable)
    return sock


#: where :func:`free_port` looks first: below the kernel's ephemeral range, which outgoing connections also draw
#: their source ports from (with many loopback connections a port picked there may be a connection's by the
#: time the child binds it: seen as Docker's "address already in use" with two test runs side by side)
QUIET_PORTS = (20000, 32767)


@functools.cache
def _ephemeral_low(default: int = 32768) -> int:
    """The kernel's lowest ephemeral port (read once per process)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range", encoding="ascii") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return default


def free_port(host: str = "127.0.0.1", quiet: tuple[int, int] = QUIET_PORTS) -> int:
    """A port free on ``host`` right now, for a child that binds it itself (a small race: another process may take
    it first; the child then fails to start and says so). Tried first at random below the kernel's ephemeral range
    (``quiet``), where no outgoing connection takes it meanwhile; else any port the kernel gives."""
    low, high = quiet[0], min(quiet[1], _ephemeral_low() - 1)
    for _ in range(20 if high >= low else 0):
        port = random.randint(low, high)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
