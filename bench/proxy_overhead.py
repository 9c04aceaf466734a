"""Overhead of the TCP fault proxy with no toxic, against a direct connection measured in the same run.

    PYTHONPATH=. .venv/bin/python bench/proxy_overhead.py [--json] [--roundtrips N] [--megabytes M]

Starts an upstream server (its own process: a tiny blocking TCP server that either echoes or
streams N bytes) and the proxy server (``python -m simulator.proxy``), then measures:

* request/response round trips (64-byte echo on one kept-alive connection): p50 and p99, direct and
  through the proxy, in alternating blocks so both see the same machine load;
* throughput: M MB streamed upstream -> client, direct and through the proxy, best of 3 each.

Reports added p50/p99 (ms) and the proxy/direct throughput ratio against the goals:
< 0.3 ms added p50 and >= 0.8 of direct throughput. Exit code is 0 either way (figures, not a test).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
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
GOAL_THROUGHPUT_RATIO = 0.8
PAYLOAD = b"x" * 64
BLOCK = 1 << 20


# -- the upstream (runs in its own process: `proxy_overhead.py --upstream`) -----------------------
class _Upstream(asyncio.Protocol):
    """First line picks the mode: ``echo`` echoes everything; ``send N`` streams N bytes and closes."""

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


def serve_upstream() -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Upstream, "127.0.0.1", 0)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(main())


# -- measurements -------------------------------------------------------------------------------
def _connect(port: int, command: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(command.encode() + b"\n")
    return sock


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


def _recv_exactly(sock: socket.socket, n: int) -> None:
    got = 0
    while got < n:
        chunk = sock.recv(n - got)
        if not chunk:
            raise ConnectionError("upstream closed early")
        got += len(chunk)


def throughput(port: int, total: int) -> float:
    """MB/s for streaming ``total`` bytes from the upstream to us."""
    buf = bytearray(BLOCK)
    view = memoryview(buf)
    sock = _connect(port, f"send {total}")
    with sock:
        start = time.perf_counter()
        got = 0
        while got < total:
            n = sock.recv_into(view)
            if not n:
                raise ConnectionError(f"stream ended after {got} of {total} bytes")
            got += n
        elapsed = time.perf_counter() - start
    return total / elapsed / 1e6


def request_rate(port: int, connections: int, seconds: float, size: int = 512) -> float:
    """Requests per second: ``connections`` concurrent echo loops of ``size``-byte requests."""

    async def main() -> int:
        deadline = time.perf_counter() + seconds
        payload = b"r" * size

        async def worker() -> int:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"echo\n")
            done = 0
            while time.perf_counter() < deadline:
                writer.write(payload)
                await reader.readexactly(size)
                done += 1
            writer.close()
            return done

        counts = await asyncio.gather(*(worker() for _ in range(connections)))
        return sum(counts)

    return asyncio.run(main()) / seconds


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(n_roundtrips: int, megabytes: int) -> dict[str, object]:
    upstream = subprocess.Popen([sys.executable, __file__, "--upstream"], stdout=subprocess.PIPE, text=True)
    proxy_proc = None
    try:
        assert upstream.stdout is not None
        up_port = int(upstream.stdout.readline())
        proxy_proc = start_proxy(Path(tempfile.mkdtemp(prefix="gameday-bench-")) / "proxy.log")
        with ProxyClient(control_url(proxy_proc)) as client:
            info = client.create_proxy("bench", "127.0.0.1:0", f"127.0.0.1:{up_port}")
        px_port = info.listen_port

        direct: list[float] = []
        proxied: list[float] = []
        blocks = 5
        for _ in range(blocks):  # alternate so both see the same background load
            direct += roundtrips(up_port, n_roundtrips // blocks)
            proxied += roundtrips(px_port, n_roundtrips // blocks)

        rate_direct, rate_proxy = [], []
        cpu = psutil.Process(proxy_proc.pid)
        requests_cpu = 0.0
        for _ in range(2):
            rate_direct.append(request_rate(up_port, 16, 1.5))
            before = _cpu(cpu)
            rate_proxy.append(request_rate(px_port, 16, 1.5))
            requests_cpu = max(requests_cpu, (_cpu(cpu) - before) / (rate_proxy[-1] * 1.5))

        total = megabytes * 1_000_000
        tp_direct, tp_proxy, stream_cpu = [], [], []
        for _ in range(3):
            tp_direct.append(throughput(up_port, total))
            before = _cpu(cpu)
            tp_proxy.append(throughput(px_port, total))
            stream_cpu.append((_cpu(cpu) - before) / (total / 1e9))
    finally:
        if proxy_proc is not None:
            stop_process(proxy_proc.pid, proxy_proc.create_time)
        upstream.kill()
        upstream.wait()

    d50, d99 = percentile(direct, 0.50), percentile(direct, 0.99)
    p50, p99 = percentile(proxied, 0.50), percentile(proxied, 0.99)
    best_direct, best_proxy = max(tp_direct), max(tp_proxy)
    added_p50 = p50 - d50
    ratio = best_proxy / best_direct
    return {
        "roundtrips": len(direct),
        "payload_bytes": len(PAYLOAD),
        "direct_ms": {"p50": d50, "p99": d99, "mean": statistics.fmean(direct)},
        "proxy_ms": {"p50": p50, "p99": p99, "mean": statistics.fmean(proxied)},
        "added_ms": {"p50": added_p50, "p99": p99 - d99},
        "throughput_mb_s": {"direct": best_direct, "proxy": best_proxy, "megabytes": megabytes},
        "throughput_ratio": ratio,
        "requests_per_s": {"direct": max(rate_direct), "proxy": max(rate_proxy), "connections": 16},
        "requests_ratio": max(rate_proxy) / max(rate_direct),
        "proxy_cpu": {"s_per_gb": min(stream_cpu), "us_per_request": requests_cpu * 1e6},
        "goals": {
            "added_p50_ms": GOAL_ADDED_P50_MS,
            "throughput_ratio": GOAL_THROUGHPUT_RATIO,
            "added_p50_met": added_p50 < GOAL_ADDED_P50_MS,
            "throughput_met": ratio >= GOAL_THROUGHPUT_RATIO,
        },
        "cpus": os.cpu_count(),
    }


def report(r: dict[str, object]) -> str:
    d, p, a = r["direct_ms"], r["proxy_ms"], r["added_ms"]
    t, g, q, c = r["throughput_mb_s"], r["goals"], r["requests_per_s"], r["proxy_cpu"]
    ok = {True: "met", False: "NOT met"}
    return "\n".join(
        [
            f"proxy overhead (no toxics), {r['roundtrips']} round trips of {r['payload_bytes']} B, "
            f"{t['megabytes']} MB streams, {r['cpus']} CPUs",
            f"  round trip  direct  p50 {d['p50']:.3f} ms  p99 {d['p99']:.3f} ms",
            f"              proxy   p50 {p['p50']:.3f} ms  p99 {p['p99']:.3f} ms",
            f"              added   p50 {a['p50']:+.3f} ms  p99 {a['p99']:+.3f} ms   "
            f"(goal p50 < {g['added_p50_ms']} ms: {ok[g['added_p50_met']]})",
            f"  requests    direct {q['direct']:.0f}/s  proxy {q['proxy']:.0f}/s  ratio {r['requests_ratio']:.2f}"
            f"   ({q['connections']} connections, 512 B echo)",
            f"  throughput  direct {t['direct']:.0f} MB/s  proxy {t['proxy']:.0f} MB/s  "
            f"ratio {r['throughput_ratio']:.2f}   (goal >= {g['throughput_ratio']}: {ok[g['throughput_met']]})",
            f"  proxy CPU   {c['s_per_gb']:.2f} CPU-s per GB streamed, {c['us_per_request']:.0f} µs per request "
            "(both directions)",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--roundtrips", type=int, default=5000)
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--upstream", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upstream:
        serve_upstream()
        return 0
    result = run(args.roundtrips, args.megabytes)
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
