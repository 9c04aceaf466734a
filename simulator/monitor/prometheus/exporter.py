"""The gameday exporter: the figures no target's ``/metrics`` has, served for a real Prometheus to scrape.

It serves the metric contract of :mod:`simulator.monitor.prometheus.signals` on ``127.0.0.1`` (``/metrics``):

* the load generator's figures, added up from every stats line Locust streams (:class:`LoadStats`, one per
  target per interval) as they arrive: ``gameday_load_requests_total{service, code[, customer_tier]}`` (every
  attempt once; a customer tier's attempts carry ``customer_tier``), the duration histogram (from each line's
  ``histogram``, Locust's millisecond buckets, into :data:`signals.LATENCY_BUCKETS`), retries, users and the load
  generator's CPU warning;
* the process figures the monitor takes by pid each interval: ``gameday_process_<field>{service}``;
* the trend baselines once captured: ``gameday_trend_baseline_slope_per_hour`` and ``..._level``
  ``{service, alertname}``.

A customer tier's line says how many of its attempts were 429, 5xx or got no response; the rest of its attempts
are counted as ``2xx`` (the load generator does not split a tier's other classes). Every code's series of a
target exists from the start, at 0, so a rate over it is 0 rather than absent.

    exporter = Exporter(["payments", "gateway"])
    exporter.start()                      # -> port on 127.0.0.1
    exporter.add_load(stats)              # any thread: one LoadStats line
    exporter.set_process("payments", {"rss_bytes": 5.1e7})
    exporter.set_baselines(figures)       # Monitor.capture_baseline's figures
    exporter.close()
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from simulator.monitor.prometheus import signals
from simulator.monitor.sample import LoadStats

HOST = "127.0.0.1"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_CODE_FIELDS = (("2xx", "status_2xx"), ("3xx", "status_3xx"), ("429", "status_429"), ("5xx", "status_5xx"),
                ("conn_error", "conn_errors"), ("other", "other_status"))
_TIER_CODES = (("429", "status_429"), ("5xx", "status_5xx"), ("conn_error", "conn_errors"))


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _num(value: float) -> str:
    if value != value:  # noqa: PLR0124 - NaN
        return "NaN"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def split_codes(stats: LoadStats) -> dict[str | None, dict[str, int]]:
    """One line's attempts by customer tier (``None``: no tier) and code class, every attempt counted once."""
    codes = {code: int(getattr(stats, field)) for code, field in _CODE_FIELDS}
    codes["4xx"] = max(int(stats.status_4xx) - int(stats.status_429), 0)
    out: dict[str | None, dict[str, int]] = {}
    for tier, figures in sorted(stats.by_tier.items()):
        counted = {code: int(figures.get(field, 0) or 0) for code, field in _TIER_CODES}
        counted["2xx"] = max(int(figures.get("attempts", 0) or 0) - sum(counted.values()), 0)
        out[tier] = counted
        for code, n in counted.items():
            codes[code] = codes.get(code, 0) - n
    out[None] = {code: max(n, 0) for code, n in codes.items()}
    return out


class _Histogram:
    def __init__(self) -> None:
        self.counts = [0] * len(signals.LATENCY_BUCKETS)
        self.total = 0
        self.sum = 0.0

    def add(self, pairs: Iterable[tuple[float, int]]) -> None:
        for ms, n in pairs:
            seconds = float(ms) / 1000.0
            for i, bound in enumerate(signals.LATENCY_BUCKETS):
                if seconds <= bound:
                    self.counts[i] += int(n)
            self.total += int(n)
            self.sum += seconds * int(n)


class Exporter:
    """The series state, and a tiny HTTP server over it (its own daemon thread)."""

    def __init__(self, services: Iterable[str]):
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str | None], dict[str, int]] = {}
        self._durations: dict[str, _Histogram] = {}
        self._retries: dict[str, int] = {}
        self._users: dict[str, float] = {}
        self._cpu_warning: dict[str, float] = {}
        self._process: dict[str, dict[str, float]] = {}
        self._baselines: dict[tuple[str, str], tuple[float, float]] = {}
        self.lines = 0
        for service in services:
            self._service(service)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _service(self, service: str) -> None:
        if service not in self._durations:
            self._requests[(service, None)] = dict.fromkeys(signals.CODES, 0)
            self._durations[service] = _Histogram()
            self._retries[service] = 0
            self._users[service] = 0.0
            self._cpu_warning[service] = 0.0

    # ---- inputs (any thread)
    def add_load(self, stats: LoadStats) -> None:
        service = stats.target
        if service is None:
            return
        with self._lock:
            self._service(service)
            for tier, counted in split_codes(stats).items():
                into = self._requests.setdefault((service, tier), dict.fromkeys(signals.CODES, 0))
                for code, n in counted.items():
                    into[code] = into.get(code, 0) + n
            self._durations[service].add(stats.histogram)
            self._retries[service] += int(stats.retries)
            self._users[service] = float(stats.users)
            self._cpu_warning[service] = 1.0 if stats.cpu_warning else 0.0
            self.lines += 1

    def set_process(self, service: str, figures: Mapping[str, float] | None) -> None:
        with self._lock:
            self._process[service] = {k: float(v) for k, v in (figures or {}).items()
                                      if isinstance(v, int | float) and k.replace("_", "").isalnum()}

    def set_baselines(self, figures: Mapping[str, Mapping[str, Any]]) -> None:
        """``Monitor.capture_baseline``'s figures: per target, ``trends`` per rule (slope per hour, level)."""
        with self._lock:
            for service, entry in figures.items():
                for alertname, trend in (entry.get("trends") or {}).items():
                    slope, level = trend.get("slope_per_hour"), trend.get("level")
                    if slope is not None and level is not None:
                        self._baselines[(service, alertname)] = (float(slope), float(level))

    # ---- the exposition
    def render(self) -> str:
        out: list[str] = []
        with self._lock:
            out += [f"# HELP {signals.REQUESTS} Every HTTP attempt of the load generator, by outcome class.",
                    f"# TYPE {signals.REQUESTS} counter"]
            for (service, tier), codes in sorted(self._requests.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
                extra = "" if tier is None else f',customer_tier="{_label(tier)}"'
                for code in signals.CODES:
                    out.append(f'{signals.REQUESTS}{{service="{_label(service)}",code="{code}"{extra}}} '
                               f'{codes.get(code, 0)}')
            name = signals.DURATION
            out += [f"# HELP {name} Response time of every attempt of the load generator.",
                    f"# TYPE {name} histogram"]
            for service, h in sorted(self._durations.items()):
                svc = f'service="{_label(service)}"'
                for bound, n in zip(signals.LATENCY_BUCKETS, h.counts, strict=True):
                    out.append(f'{name}_bucket{{{svc},le="{bound}"}} {n}')
                out += [f'{name}_bucket{{{svc},le="+Inf"}} {h.total}', f"{name}_sum{{{svc}}} {_num(h.sum)}",
                        f"{name}_count{{{svc}}} {h.total}"]
            for metric, kind, values, text in (
                    (signals.RETRIES, "counter", self._retries, "Retried attempts of the load generator."),
                    (signals.USERS, "gauge", self._users, "Simulated users."),
                    (signals.CPU_WARNING, "gauge", self._cpu_warning, "1 while the load generator's CPU is "
                     "saturated.")):
                out += [f"# HELP {metric} {text}", f"# TYPE {metric} {kind}"]
                out += [f'{metric}{{service="{_label(s)}"}} {_num(v)}' for s, v in sorted(values.items())]
            fields = sorted({f for figures in self._process.values() for f in figures})
            for field in fields:
                metric = signals.PROCESS_PREFIX + field
                out += [f"# HELP {metric} The target's process figure {field}, sampled by pid.",
                        f"# TYPE {metric} gauge"]
                out += [f'{metric}{{service="{_label(s)}"}} {_num(figures[field])}'
                        for s, figures in sorted(self._process.items()) if field in figures]
            if self._baselines:
                for metric, index, text in ((signals.BASELINE_SLOPE, 0, "The trend rule's baseline slope per "
                                             "game hour."), (signals.BASELINE_LEVEL, 1, "The trend rule's "
                                                             "baseline level.")):
                    out += [f"# HELP {metric} {text}", f"# TYPE {metric} gauge"]
                    out += [f'{metric}{{service="{_label(s)}",alertname="{_label(a)}"}} {_num(v[index])}'
                            for (s, a), v in sorted(self._baselines.items())]
        return "\n".join(out) + "\n"

    # ---- the server
    def start(self) -> int:
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404)
                    return
                body = exporter.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a scrape Prometheus gave up on (its timeout, or it stopping) is not the run's problem

        self._server = Server((HOST, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="gameday-exporter", daemon=True)
        self._thread.start()
        return self.port

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
