"""Overhead of the TCP fault proxy with no toxic, against a direct connection measured in the same run.

    PYTHONPATH=. .venv/bin/python bench/proxy_overhead.py [--json] [--roundtrips N] [--megabytes M]
        [--seconds S] [--proxy-arg=--loop=asyncio ...]

Three processes, as in a real run: the upstream (its own process: ``proxy_overhead.py --upstream``, a
raw TCP server that echoes, streams or swallows bytes, and a keep-alive HTTP/1.1 server), the proxy
(``python -m simulator.proxy``, started as a run's supervisor starts it, ``--proxy-arg`` added to its
command line) and the clients, none of them in the proxy's process:

* round trips: 64-byte echoes on one kept-alive connection (a blocking socket here), p50 and p99,
  direct and through the proxy in alternating blocks so both see the same machine load;
* small requests: ``wrk`` (its own process, C) against the HTTP server, 16 connections, 512-byte
  responses, direct and through the proxy, alternating, best of 3;
* bulk: M MB streamed upstream -> client (download) and client -> upstream (upload), a blocking
  socket with a 1 MiB buffer here, direct and through the proxy, best of 3 each.

Reports the added p50/p99 and the proxy/direct ratios against the goals (issue #18): added p50 < 0.3 ms,
small-request and bulk throughput >= 0.7 of direct. Exit code 0 either way (figures, not a test).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from simulator.procs import stop_process
from simulator.proxy import ProxyClient, start_proxy
from simulator.proxy.process import control_url

GOAL_ADDED_P50_MS = 0.3
GOAL_THROUGHPUT_RATIO = 0.7
GOAL_REQUESTS_RATIO = 0.7
CONNECTIONS = 16
BODY = 512
PAYLOAD = b"x" * 64
BLOCK = 1 << 20


# -- the upstream (its own process: `proxy_overhead.py --upstream`) -----------------------------
class _Raw(asyncio.Protocol):
    """First line picks the mode: ``echo`` echoes; ``send N`` streams N bytes and closes;
    ``sink N`` reads N bytes, answers ``ok`` and closes."""

    def __init__(self) -> None:
        self.mode = b""
        self.head = b""
        self.left = 0
        self.writable = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.set_write_buffer_limits(high=4 * BLOCK)

    def data_received(self, data: bytes) -> None:
        if self.mode == b"echo":
            self.transport.write(data)
            return
        if self.mode == b"sink":
            self._swallow(len(data))
            return
        self.head += data
        if b"\n" not in self.head:
            return
        line, _, rest = self.head.partition(b"\n")
        cmd = line.split()
        self.mode = cmd[0]
        if self.mode == b"echo":
            if rest:
                self.transport.write(rest)
        elif self.mode == b"send":
            self.left = int(cmd[1])
            self._send()
        elif self.mode == b"sink":
            self.left = int(cmd[1])
            self._swallow(len(rest))

    def _swallow(self, n: int) -> None:
        self.left -= n
        if self.left <= 0:
            self.transport.write(b"ok\n")
            self.transport.close()

    def _send(self) -> None:
        while self.left > 0 and self.writable:
            n = min(self.left, BLOCK)
            self.transport.write(_ZEROS[:n])
            self.left -= n
        if self.left == 0:
            self.transport.close()

    def pause_writing(self) -> None:
        self.writable = False

    def resume_writing(self) -> None:
        self.writable = True
        if self.mode == b"send":  # not from inside the transport's callback (CPython 3.11 closes twice)
            asyncio.get_running_loop().call_soon(self._send)


_ZEROS = memoryview(b"\0" * BLOCK)
_RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % BODY + b"r" * BODY
)


class _Http(asyncio.Protocol):
    """A keep-alive HTTP/1.1 server answering every (bodiless) request with the same 512-byte body."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data
        n = buf.count(b"\r\n\r\n")
        if n:
            self.transport.write(_RESPONSE * n)
            buf = buf[buf.rindex(b"\r\n\r\n") + 4 :]
        self.buf = buf


def serve_upstream() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        raw = await loop.create_server(_Raw, "127.0.0.1", 0, backlog=1024)
        http = await loop.create_server(_Http, "127.0.0.1", 0, backlog=1024)
        print(raw.sockets[0].getsockname()[1], http.sockets[0].getsockname()[1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


# -- clients (this process, or wrk's) -------------------------------------------------------------
def _connect(port: int, command: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(command.encode() + b"\n")
    return sock


def _recv_exactly(sock: socket.socket, n: int) -> None:
    got = 0
    while got < n:
        chunk = sock.recv(n - got)
        if not chunk:
            raise ConnectionError("upstream closed early")
        got += len(chunk)


def roundtrips(port: int, count: int) -> list[float]:
    sock = _connect(port, "echo")
    samples = []
    with sock:
        for _ in range(20):  # warm up
            sock.sendall(PAYLOAD)
            _recv_exactly(sock, len(PAYLOAD))
        for _ in range(count):
            start = time.perf_counter()
            sock.sendall(PAYLOAD)
            _recv_exactly(sock, len(PAYLOAD))
            samples.append((time.perf_counter() - start) * 1000.0)
    return samples


def download(port: int, total: int) -> float:
    """MB/s for streaming ``total`` bytes from the upstream to us."""
    view = memoryview(bytearray(BLOCK))
    with _connect(port, f"send {total}") as sock:
        start = time.perf_counter()
        got = 0
        while got < total:
            n = sock.recv_into(view)
            if not n:
                raise ConnectionError(f"stream ended after {got} of {total} bytes")
            got += n
        elapsed = time.perf_counter() - start
    return total / elapsed / 1e6


def upload(port: int, total: int) -> float:
    """MB/s for streaming ``total`` bytes from us to the upstream (until it says it has them all)."""
    view = memoryview(b"\0" * BLOCK)
    with _connect(port, f"sink {total}") as sock:
        start = time.perf_counter()
        sent = 0
        while sent < total:
            sent += sock.send(view[: min(BLOCK, total - sent)])
        _recv_exactly(sock, 3)
        elapsed = time.perf_counter() - start
    return total / elapsed / 1e6


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def wrk(port: int, seconds: float) -> dict[str, float]:
    """``wrk`` against the HTTP server on ``port``: requests/s and latency p50/p99 (ms)."""
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--latency", f"http://127.0.0.1:{port}/"],
        capture_output=True, text=True, timeout=seconds + 30, check=True,
    ).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", out)
    if rate is None or errors is not None:
        raise RuntimeError(f"wrk failed or saw errors:\n{out}")
    figures = {"rate": float(rate.group(1))}
    for name, q in (("p50", "50"), ("p99", "99")):
        m = re.search(rf"^\s+{q}%\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
        figures[name] = float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")
    return figures


# -- the run ----------------------------------------------------------------------------------------
def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(n_roundtrips: int, megabytes: int, seconds: float, proxy_args: list[str]) -> dict[str, object]:
    if shutil.which("wrk") is None:
        raise SystemExit("bench/proxy_overhead.py needs wrk (Debian: apt-get install wrk)")
    upstream = subprocess.Popen([sys.executable, __file__, "--upstream"], stdout=subprocess.PIPE, text=True)
    proxy_proc = None
    try:
        assert upstream.stdout is not None
        raw_port, http_port = (int(p) for p in upstream.stdout.readline().split())
        log = Path(tempfile.mkdtemp(prefix="gameday-bench-")) / "proxy.log"
        proxy_proc = start_proxy(log, extra_args=proxy_args)
        with ProxyClient(control_url(proxy_proc)) as client:
            raw_proxy = client.create_proxy("raw", "127.0.0.1:0", f"127.0.0.1:{raw_port}").listen_port
            http_proxy = client.create_proxy("http", "127.0.0.1:0", f"127.0.0.1:{http_port}").listen_port
        cpu = psutil.Process(proxy_proc.pid)

        direct: list[float] = []
        proxied: list[float] = []
        blocks = 5
        for _ in range(blocks):  # alternate so both see the same background load
            direct += roundtrips(raw_port, n_roundtrips // blocks)
            proxied += roundtrips(raw_proxy, n_roundtrips // blocks)

        wrk_direct, wrk_proxy, request_cpu = [], [], []
        for _ in range(3):
            wrk_direct.append(wrk(http_port, seconds))
            before = _cpu(cpu)
            wrk_proxy.append(wrk(http_proxy, seconds))
            request_cpu.append((_cpu(cpu) - before) / (wrk_proxy[-1]["rate"] * seconds))

        total = megabytes * 1_000_000
        bulk: dict[str, dict[str, list[float]]] = {}
        for name, fn in (("download", download), ("upload", upload)):
            figures = bulk[name] = {"direct": [], "proxy": [], "cpu": []}
            for _ in range(3):
                figures["direct"].append(fn(raw_port, total))
                before = _cpu(cpu)
                figures["proxy"].append(fn(raw_proxy, total))
                figures["cpu"].append((_cpu(cpu) - before) / (total / 1e9))
    finally:
        if proxy_proc is not None:
            stop_process(proxy_proc.pid, proxy_proc.create_time)
        upstream.kill()
        upstream.wait()

    d50, d99 = percentile(direct, 0.50), percentile(direct, 0.99)
    p50, p99 = percentile(proxied, 0.50), percentile(proxied, 0.99)
    best_direct = max(wrk_direct, key=lambda f: f["rate"])
    best_proxy = max(wrk_proxy, key=lambda f: f["rate"])
    throughput = {
        name: {
            "direct_mb_s": max(f["direct"]),
            "proxy_mb_s": max(f["proxy"]),
            "ratio": max(f["proxy"]) / max(f["direct"]),
            "proxy_cpu_s_per_gb": min(f["cpu"]),
        }
        for name, f in bulk.items()
    }
    bulk_ratio = min(t["ratio"] for t in throughput.values())
    requests_ratio = best_proxy["rate"] / best_direct["rate"]
    added_p50 = p50 - d50
    return {
        "proxy_args": proxy_args,
        "roundtrips": len(direct),
        "payload_bytes": len(PAYLOAD),
        "direct_ms": {"p50": d50, "p99": d99},
        "proxy_ms": {"p50": p50, "p99": p99},
        "added_ms": {"p50": added_p50, "p99": p99 - d99},
        "requests": {
            "tool": "wrk -t1", "connections": CONNECTIONS, "body_bytes": BODY, "seconds": seconds,
            "direct": best_direct, "proxy": best_proxy, "ratio": requests_ratio,
            "proxy_cpu_us_per_request": min(request_cpu) * 1e6,
        },
        "throughput": {"megabytes": megabytes, **throughput},
        "goals": {
            "added_p50_ms": GOAL_ADDED_P50_MS,
            "requests_ratio": GOAL_REQUESTS_RATIO,
            "throughput_ratio": GOAL_THROUGHPUT_RATIO,
            "added_p50_met": added_p50 < GOAL_ADDED_P50_MS,
            "requests_met": requests_ratio >= GOAL_REQUESTS_RATIO,
            "throughput_met": bulk_ratio >= GOAL_THROUGHPUT_RATIO,
        },
        "cpus": os.cpu_count(),
    }


def report(r: dict) -> str:
    d, p, a, g, q, t = r["direct_ms"], r["proxy_ms"], r["added_ms"], r["goals"], r["requests"], r["throughput"]
    ok = {True: "met", False: "NOT met"}
    lines = [
        f"proxy overhead (no toxics{', proxy ' + ' '.join(r['proxy_args']) if r['proxy_args'] else ''}), "
        f"{r['cpus']} CPUs",
        f"  round trip  direct  p50 {d['p50']:.3f} ms  p99 {d['p99']:.3f} ms   "
        f"({r['roundtrips']} x {r['payload_bytes']} B echo, one connection)",
        f"              proxy   p50 {p['p50']:.3f} ms  p99 {p['p99']:.3f} ms",
        f"              added   p50 {a['p50']:+.3f} ms  p99 {a['p99']:+.3f} ms   "
        f"(goal p50 < {g['added_p50_ms']} ms: {ok[g['added_p50_met']]})",
        f"  requests    direct {q['direct']['rate']:.0f}/s (p50 {q['direct']['p50']:.2f} ms, "
        f"p99 {q['direct']['p99']:.2f} ms)  proxy {q['proxy']['rate']:.0f}/s (p50 {q['proxy']['p50']:.2f} ms, "
        f"p99 {q['proxy']['p99']:.2f} ms)",
        f"              ratio {q['ratio']:.2f}   (goal >= {g['requests_ratio']}: {ok[g['requests_met']]}; "
        f"{q['tool']}, {q['connections']} connections, {q['body_bytes']} B responses)",
    ]
    for name in ("download", "upload"):
        f = t[name]
        lines.append(
            f"  {name:<10}  direct {f['direct_mb_s']:.0f} MB/s  proxy {f['proxy_mb_s']:.0f} MB/s  "
            f"ratio {f['ratio']:.2f}   (goal >= {g['throughput_ratio']}: {ok[f['ratio'] >= g['throughput_ratio']]}; "
            f"{t['megabytes']} MB)"
        )
    lines.append(
        f"  proxy CPU   {t['download']['proxy_cpu_s_per_gb']:.2f} CPU-s per GB streamed, "
        f"{q['proxy_cpu_us_per_request']:.0f} µs per request (both directions)"
    )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--roundtrips", type=int, default=5000)
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each wrk run")
    parser.add_argument("--proxy-arg", action="append", default=[], help="added to the proxy's command line")
    parser.add_argument("--upstream", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upstream:
        serve_upstream()
        return 0
    result = run(args.roundtrips, args.megabytes, args.seconds, args.proxy_arg)
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
