"""Overhead of the TCP fault proxy with no toxic, against a direct connection measured in the same run.

    PYTHONPATH=. .venv/bin/python bench/proxy_overhead.py [--json] [--roundtrips N] [--megabytes M]
        [--seconds S] [--rounds R] [--proxy-arg=--loop=asyncio ...] [--before /path/to/main]

Three processes, as in a real run: the upstream (its own process: ``proxy_overhead.py --upstream``, a
raw TCP server that echoes, streams or swallows bytes, and a keep-alive HTTP/1.1 server), the proxy
(``python -m simulator.proxy``, started as a run's supervisor starts it, ``--proxy-arg`` added to its
command line) and the clients, none of them in the proxy's process:

* round trips: 64-byte echoes on one kept-alive connection (a blocking socket here), p50 and p99,
  direct and through the proxy in alternating blocks so both see the same machine load;
* small requests: ``wrk`` (its own process, C) against the HTTP server, 16 connections, 512-byte
  responses, direct and through the proxy;
* bulk: M MB streamed upstream -> client (download) and client -> upstream (upload), a blocking
  socket with a 1 MiB buffer here, direct and through the proxy.

A second baseline, the floor: ``relay_floor.c``, a minimal epoll relay in C (compiled with ``cc`` when there
is one; ``--no-floor`` skips it), measured the same way: what any extra process in the path costs here.

Requests and bulk run in R interleaved rounds (direct, floor, proxy, [before]); each figure is the best of its
R: on a shared machine the best run is the one least disturbed by other work. ``--before ROOT`` measures a
second proxy, another checkout's (``PYTHONPATH=ROOT``), in the same rounds: before and after on one load.
The proxy's own CPU per request and per GB (psutil) is reported too: it moves less with the machine's load.

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

from simulator.procs import Child, start_listening, stop_process
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


def wrk(port: int, seconds: int) -> dict[str, float]:
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


def _start_proxy(proxy_args: list[str], root: str | None) -> Child:
    log = Path(tempfile.mkdtemp(prefix="gameday-bench-")) / "proxy.log"
    if root is None:
        return start_proxy(log, extra_args=proxy_args)
    # another checkout's proxy: its directory first on sys.path (ahead of the current directory `-m` would put
    # there), then run as `python -m simulator.proxy --control-port 0` runs
    argv = ["simulator.proxy", "--control-port", "0", *proxy_args]
    code = (f"import runpy, sys; sys.path.insert(0, {str(Path(root).resolve())!r}); sys.argv = {argv!r}; "
            "runpy.run_module('simulator.proxy', run_name='__main__', alter_sys=True)")
    return start_listening(["-c", code], log, env={"PYTHONUNBUFFERED": "1"})


def _floor_binary() -> Path | None:
    """``relay_floor.c`` compiled into a temporary directory; None without a C compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    out = Path(tempfile.mkdtemp(prefix="gameday-bench-")) / "relay_floor"
    built = subprocess.run([cc, "-O2", "-o", str(out), str(Path(__file__).with_name("relay_floor.c"))],
                           capture_output=True, text=True)
    return out if built.returncode == 0 else None


def _start_floor(binary: Path, upstream_port: int) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen([str(binary), str(upstream_port)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def run(n_roundtrips: int, megabytes: int, seconds: int, rounds: int, proxy_args: list[str],
        before: str | None, floor: bool = True) -> dict:
    if shutil.which("wrk") is None:
        raise SystemExit("bench/proxy_overhead.py needs wrk (Debian: apt-get install wrk)")
    upstream = subprocess.Popen([sys.executable, __file__, "--upstream"], stdout=subprocess.PIPE, text=True)
    procs: dict[str, Child] = {}
    floors: list[subprocess.Popen[str]] = []
    try:
        assert upstream.stdout is not None
        raw_port, http_port = (int(p) for p in upstream.stdout.readline().split())
        ports = {"direct": (raw_port, http_port)}
        binary = _floor_binary() if floor else None
        if binary is not None:
            (raw_floor, raw_floor_port), (http_floor, http_floor_port) = (
                _start_floor(binary, raw_port), _start_floor(binary, http_port))
            floors += [raw_floor, http_floor]
            ports["floor"] = (raw_floor_port, http_floor_port)
        for name, root in (("proxy", None), ("before", before)):
            if name == "before" and root is None:
                continue
            procs[name] = _start_proxy(proxy_args if root is None else [], root)
            with ProxyClient(control_url(procs[name])) as client:
                ports[name] = (
                    client.create_proxy("raw", "127.0.0.1:0", f"127.0.0.1:{raw_port}").listen_port,
                    client.create_proxy("http", "127.0.0.1:0", f"127.0.0.1:{http_port}").listen_port,
                )
        cpu = {name: psutil.Process(child.pid) for name, child in procs.items()}
        samples: dict[str, dict[str, list]] = {name: {"rt": [], "wrk": [], "download": [], "upload": [],
                                                      "cpu_request": [], "cpu_gb": []} for name in ports}
        blocks = 5
        for _ in range(blocks):  # alternate so all see the same background load
            for name, (raw, _http) in ports.items():
                samples[name]["rt"] += roundtrips(raw, n_roundtrips // blocks)
        total = megabytes * 1_000_000
        for _ in range(rounds):  # best of `rounds`, interleaved: the best is the least disturbed by other load
            for name, (raw, http) in ports.items():
                before_cpu = _cpu(cpu[name]) if name in cpu else 0.0
                samples[name]["wrk"].append(wrk(http, seconds))
                if name in cpu:
                    samples[name]["cpu_request"].append(
                        (_cpu(cpu[name]) - before_cpu) / (samples[name]["wrk"][-1]["rate"] * seconds))
                for kind, fn in (("download", download), ("upload", upload)):
                    before_cpu = _cpu(cpu[name]) if name in cpu else 0.0
                    samples[name][kind].append(fn(raw, total))
                    if name in cpu:
                        samples[name]["cpu_gb"].append((_cpu(cpu[name]) - before_cpu) / (total / 1e9))
    finally:
        for child in procs.values():
            stop_process(child.pid, child.create_time)
        for proc in (*floors, upstream):
            proc.kill()
            proc.wait()

    def figures(name: str) -> dict:
        got = samples[name]
        return {
            "p50_ms": percentile(got["rt"], 0.50),
            "p99_ms": percentile(got["rt"], 0.99),
            "requests": max(got["wrk"], key=lambda f: f["rate"]),
            "download_mb_s": max(got["download"]),
            "upload_mb_s": max(got["upload"]),
            "cpu_us_per_request": min(got["cpu_request"]) * 1e6 if got["cpu_request"] else None,
            "cpu_s_per_gb": min(got["cpu_gb"]) if got["cpu_gb"] else None,
        }

    direct = figures("direct")
    result: dict = {
        "proxy_args": proxy_args, "before_root": before, "cpus": os.cpu_count(), "load_average": os.getloadavg(),
        "roundtrips": n_roundtrips, "payload_bytes": len(PAYLOAD), "megabytes": megabytes, "rounds": rounds,
        "requests_tool": f"wrk -t1 -c{CONNECTIONS} -d{seconds:g}s, {BODY} B responses",
        "goals": {"added_p50_ms": GOAL_ADDED_P50_MS, "requests_ratio": GOAL_REQUESTS_RATIO,
                  "throughput_ratio": GOAL_THROUGHPUT_RATIO},
        "direct": direct,
    }
    for name in ports:
        if name == "direct":
            continue
        f = figures(name)
        f["added_ms"] = {"p50": f["p50_ms"] - direct["p50_ms"], "p99": f["p99_ms"] - direct["p99_ms"]}
        f["ratios"] = {
            "requests": f["requests"]["rate"] / direct["requests"]["rate"],
            "download": f["download_mb_s"] / direct["download_mb_s"],
            "upload": f["upload_mb_s"] / direct["upload_mb_s"],
        }
        f["goals_met"] = {
            "added_p50": f["added_ms"]["p50"] < GOAL_ADDED_P50_MS,
            "requests": f["ratios"]["requests"] >= GOAL_REQUESTS_RATIO,
            "throughput": min(f["ratios"]["download"], f["ratios"]["upload"]) >= GOAL_THROUGHPUT_RATIO,
        }
        if name == "floor":
            del f["goals_met"], f["cpu_us_per_request"], f["cpu_s_per_gb"]
        result[name] = f
    return result


def report(r: dict) -> str:
    g, d = r["goals"], r["direct"]
    ok = {True: "met", False: "NOT met"}
    args = " ".join(r["proxy_args"])
    lines = [
        f"proxy overhead, no toxics{' (proxy ' + args + ')' if args else ''}; {r['cpus']} CPUs, "
        f"load average {r['load_average'][0]:.1f}; best of {r['rounds']} interleaved rounds",
        f"  direct      round trip p50 {d['p50_ms']:.3f} ms  p99 {d['p99_ms']:.3f} ms   "
        f"({r['roundtrips']} x {r['payload_bytes']} B echo, one connection)",
        f"              requests {d['requests']['rate']:.0f}/s (p99 {d['requests']['p99']:.2f} ms)   "
        f"({r['requests_tool']})",
        f"              download {d['download_mb_s']:.0f} MB/s  upload {d['upload_mb_s']:.0f} MB/s   "
        f"({r['megabytes']} MB)",
    ]
    if "floor" in r:
        f, q = r["floor"], r["floor"]["ratios"]
        lines += [
            "  floor       a minimal epoll relay in C (bench/relay_floor.c): what any extra process in the path costs",
            f"              added p50 {f['added_ms']['p50']:+.3f} ms  p99 {f['added_ms']['p99']:+.3f} ms;  "
            f"requests ratio {q['requests']:.2f};  download ratio {q['download']:.2f};  upload ratio {q['upload']:.2f}",
        ]
    for name, label in (("before", f"before ({r['before_root']})"), ("proxy", "proxy")):
        if name not in r:
            continue
        f = r[name]
        a, q = f["added_ms"], f["ratios"]
        lines += [
            f"  {label}",
            f"              added p50 {a['p50']:+.3f} ms  p99 {a['p99']:+.3f} ms   "
            f"(goal p50 < {g['added_p50_ms']} ms: {ok[f['goals_met']['added_p50']]})",
            f"              requests {f['requests']['rate']:.0f}/s (p99 {f['requests']['p99']:.2f} ms)  "
            f"ratio {q['requests']:.2f}   (goal >= {g['requests_ratio']}: {ok[f['goals_met']['requests']]})",
            f"              download {f['download_mb_s']:.0f} MB/s ratio {q['download']:.2f}  "
            f"upload {f['upload_mb_s']:.0f} MB/s ratio {q['upload']:.2f}   "
            f"(goal >= {g['throughput_ratio']}: {ok[f['goals_met']['throughput']]})",
            f"              CPU {f['cpu_s_per_gb']:.2f} CPU-s per GB streamed, "
            f"{f['cpu_us_per_request']:.0f} µs per request (both directions)",
        ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--roundtrips", type=int, default=5000)
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=2, help="length of each wrk run (whole seconds)")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds; each figure is the best")
    parser.add_argument("--proxy-arg", action="append", default=[], help="added to the proxy's command line")
    parser.add_argument("--before", metavar="ROOT", default=None,
                        help="also measure the proxy of another checkout (e.g. main), interleaved with this one")
    parser.add_argument("--no-floor", action="store_true", help="skip the C relay baseline (relay_floor.c)")
    parser.add_argument("--upstream", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upstream:
        serve_upstream()
        return 0
    result = run(args.roundtrips, args.megabytes, args.seconds, args.rounds, args.proxy_arg, args.before,
                 floor=not args.no_floor)
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
