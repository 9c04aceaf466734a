"""The gameday plugin for Locust: config, safety, retries, the load shape and the stats stream.

Runs only inside a Locust process (it imports locust, hence gevent): every bundled locustfile
imports it, which is what loads it. It hooks Locust's events rather than adding flags:

* ``init_command_line_parser``: the ``--gameday-config-json`` option (env
  ``GAMEDAY_LOAD_CONFIG_JSON``); a master forwards it to its workers with every spawn message.
* ``init``: the loopback check of ``--host`` (exit with a ``GAMEDAY-SAFETY:`` line otherwise),
  the role wiring (local / master / worker) and the parent watchdog.
* ``request``: every attempt goes into this process's cumulative ``Tally``.
* ``report_to_master`` (worker) / ``worker_report`` (master): each worker sends its cumulative
  tally and CPU with every report (every ``interval``: the worker report interval is set to
  the stats interval); the master keeps the latest per worker and sums them.
* ``test_start`` (local runner or master): the stats emitter starts, writing one JSON line per
  interval to the fd in ``GAMEDAY_STATS_FD`` (else the file/FIFO in ``GAMEDAY_STATS_PATH``,
  else stdout; Locust's own logs go to stderr). ``quitting``: a last line, then ``end``.

Lines: ``{"type": "ready", ...}`` once, ``{"type": "stats", ...}`` per interval (fields in
``simulator.load.tally`` and ``emit_line`` below), ``{"type": "end"}`` at the end.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import random
import signal
import sys
import time
from collections.abc import Callable
from typing import Any, NoReturn

import gevent
import psutil
from locust import FastHttpUser, LoadTestShape, events
from locust import runners as locust_runners
from locust.runners import MasterRunner, WorkerRunner

from simulator.errors import GamedayError, SafetyViolation
from simulator.load.config import (
    CONFIG_MARKER,
    ENV_CONFIG_JSON,
    ENV_CONFIG_PATH,
    ENV_PARENT_PID,
    ENV_STATS_FD,
    ENV_STATS_PATH,
    SAFETY_MARKER,
    LoadConfig,
)
from simulator.load.retry import parse_retry_after
from simulator.load.safety import check_loopback_url
from simulator.load.shapes import shape_tick
from simulator.load.tally import Tally, interval_stats

logger = logging.getLogger("gameday.load")

#: This process's cumulative tally (attempts of its users).
TALLY = Tally()
#: Master only: the latest cumulative tally and CPU of each worker, by client id.
WORKER_TALLIES: dict[str, Tally] = {}
WORKER_CPU: dict[str, float] = {}

_config_cache: dict[str, LoadConfig] = {}
_user_ids = itertools.count(1)
_process = psutil.Process()


def _die(marker: str, message: str, code: int = 2) -> NoReturn:
    """Report a problem on one stderr line the driver recognises, and exit at once."""
    sys.stderr.write(f"{marker} {message}\n")
    sys.stderr.flush()
    os._exit(code)


# -- configuration ---------------------------------------------------------------------------
@events.init_command_line_parser.add_listener
def _add_arguments(parser: Any) -> None:
    parser.add_argument(
        "--gameday-config-json", type=str, default="", env_var="GAMEDAY_LOAD_CONFIG_JSON",
        include_in_web_ui=False, help="gameday load configuration (JSON); forwarded to workers",
    )


def config(environment: Any) -> LoadConfig:
    """The load configuration: from the parsed option, else the environment variables."""
    raw = ""
    options = getattr(environment, "parsed_options", None)
    if options is not None:
        raw = getattr(options, "gameday_config_json", "") or ""
    cached = _config_cache.get(raw)
    if cached is not None:
        return cached
    try:
        cfg = LoadConfig.from_json(raw) if raw else LoadConfig.from_env()
    except SafetyViolation as exc:
        _die(SAFETY_MARKER, str(exc))
    except GamedayError as exc:
        _die(CONFIG_MARKER, str(exc))
    if cfg is None:
        _die(CONFIG_MARKER, "no load configuration: set GAMEDAY_LOAD_CONFIG_JSON or GAMEDAY_LOAD_CONFIG")
    _config_cache[raw] = cfg
    return cfg


def _config_if_available(environment: Any) -> LoadConfig | None:
    """A worker's config before the master sent one, if its own environment carries it."""
    options = getattr(environment, "parsed_options", None)
    given = options is not None and getattr(options, "gameday_config_json", "")
    if given or os.environ.get(ENV_CONFIG_JSON) or os.environ.get(ENV_CONFIG_PATH):
        return config(environment)
    return None


def _check_host(host: str | None) -> None:
    try:
        check_loopback_url(host or "")
    except GamedayError as exc:
        _die(SAFETY_MARKER, str(exc))


# -- recording -------------------------------------------------------------------------------
@events.request.add_listener
def _on_request(
    request_type: str, name: str, response_time: float, response_length: int, response: Any = None,
    context: dict | None = None, exception: BaseException | None = None, **_kw: Any,
) -> None:
    status = getattr(response, "status_code", 0) or 0 if response is not None else 0
    ctx = context or {}
    TALLY.record_attempt(
        name, int(status), response_time or 0.0, exception is not None,
        ctx.get("gd_attempt", 1), ctx.get("gd_tier"),
    )


# -- users -----------------------------------------------------------------------------------
class GamedayUser(FastHttpUser):
    """Base user: seeded randomness, wait times from the config, ``call`` with retries."""

    abstract = True

    def __init__(self, environment: Any) -> None:
        cfg = config(environment)
        self.cfg = cfg
        self.network_timeout = cfg.timeout
        self.connection_timeout = cfg.timeout
        super().__init__(environment)
        _check_host(self.host)
        self.rng = user_rng(cfg, environment)

    def wait_time(self) -> float:
        low, high = self.cfg.wait
        return self.rng.uniform(low, high) if high > low else low

    def call(
        self, method: str, path: str, *, name: str, json: Any = None, headers: dict[str, str] | None = None,
        tier: str | None = None,
    ) -> Any:
        """One logical request: attempts under the retry policy; returns the last response."""
        if not path.startswith("/"):
            raise ValueError(f"gameday locustfiles send relative paths only, got {path!r}")
        return with_retries(
            lambda attempt: self.client.request(method, path, name=name, json=json, headers=headers,
                                                context={"gd_attempt": attempt, "gd_tier": tier}),
            self.cfg, self.rng, tier)


def user_rng(cfg: LoadConfig, environment: Any) -> random.Random:
    """A user's own randomness: seeded from the run's seed, the worker and the user's number."""
    runner = environment.runner
    worker = getattr(runner, "worker_index", 0) if runner is not None else 0
    return random.Random(f"{cfg.seed}:{worker}:{next(_user_ids)}")


def with_retries(send: Callable[[int], Any], cfg: LoadConfig, rng: random.Random, tier: str | None = None) -> Any:
    """One logical request: ``send(attempt)`` under the run's retry policy (each attempt is counted by the
    ``request`` hook); the end of it counted once, ok or failed; returns the last response."""
    attempt = 1
    while True:
        response = send(attempt)
        status = int(getattr(response, "status_code", 0) or 0)
        retry_after = None
        if status == 429 and getattr(response, "headers", None) is not None:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
        delay = cfg.retry.next_delay(status, attempt, retry_after, rng)
        if delay is None:
            TALLY.record_outcome(200 <= status < 400, tier)
            return response
        if delay > 0:
            gevent.sleep(delay)
        attempt += 1


def json_body(response: Any) -> dict[str, Any]:
    """The response's JSON object, or ``{}``."""
    try:
        data = json.loads(response.text or "")
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# -- load shape ------------------------------------------------------------------------------
class ScenarioShape(LoadTestShape):
    """The scenario's stages (already in wall time) as a Locust load shape."""

    def tick(self) -> tuple[int, float] | None:
        assert self.runner is not None
        cfg = config(self.runner.environment)
        return shape_tick(cfg.stages, self.get_run_time(), cfg.users, cfg.spawn_rate, cfg.end)


# -- the stream ------------------------------------------------------------------------------
class _Emitter:
    def __init__(self, environment: Any, cfg: LoadConfig) -> None:
        self.environment = environment
        self.cfg = cfg
        self.out = self._open()
        self.seq = 0
        self.prev = self.current()
        self.prev_at = time.monotonic()
        self.closed = False
        _process.cpu_percent(None)

    @staticmethod
    def _open() -> Any:
        fd = os.environ.get(ENV_STATS_FD)
        if fd:
            return os.fdopen(int(fd), "w", buffering=1, encoding="utf-8")
        path = os.environ.get(ENV_STATS_PATH)
        if path:
            return open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 -- lives as long as Locust
        return sys.stdout

    def write(self, record: dict[str, Any]) -> None:
        if self.closed:
            return
        try:
            self.out.write(json.dumps(record, separators=(",", ":")) + "\n")
            self.out.flush()
        except (BrokenPipeError, OSError, ValueError):
            # the reader (the driver) is gone: stop the test the normal way
            self.closed = True
            os.kill(os.getpid(), signal.SIGINT)

    def current(self) -> Tally:
        if isinstance(self.environment.runner, MasterRunner):
            return Tally.total(WORKER_TALLIES.values())
        return TALLY.copy()

    def emit(self) -> None:
        now = time.monotonic()
        snapshot = self.current()
        runner = self.environment.runner
        record: dict[str, Any] = {
            "type": "stats",
            "t": round(time.time(), 3),
            "seq": self.seq,
            "interval_s": round(now - self.prev_at, 3),
            "target": self.cfg.target,
            "app": self.cfg.app,
            "users": runner.user_count,
        }
        record.update(interval_stats(snapshot, self.prev, now - self.prev_at))
        cpu = _process.cpu_percent(None)
        if isinstance(runner, MasterRunner):
            record["workers"] = len(WORKER_TALLIES)
            cpu = max([cpu, *WORKER_CPU.values()])
        emitted = bool(runner.cpu_warning_emitted or getattr(runner, "worker_cpu_warning_emitted", False))
        record["cpu_percent"] = round(cpu, 1)
        record["cpu_warning"] = cpu > locust_runners.CPU_WARNING_THRESHOLD
        record["cpu_warning_emitted"] = emitted
        record["totals"] = {k: snapshot.counts[k] for k in ("requests", "attempts", "retries", "ok", "failed")}
        self.write(record)
        self.seq += 1
        self.prev, self.prev_at = snapshot, now

    def run(self) -> None:
        interval = self.cfg.interval
        due = time.monotonic() + interval
        while not self.closed:
            gevent.sleep(max(0.0, due - time.monotonic()))
            due += interval
            if due < time.monotonic():
                due = time.monotonic() + interval
            _watch_parent()
            self.emit()


# The driver stops Locust with a Ctrl-C (SIGINT: final CSVs, workers told to quit). A process started with SIGINT
# ignored -- a background job of a non-interactive shell (`make test &`, many CI scripts), and everything it
# starts -- passes that on, and Python then installs no Ctrl-C handler: such a Locust ignored the driver's SIGINT
# and was killed by its SIGTERM 15 s later, without its final CSVs. Locust loads this module before it runs.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


_emitter: _Emitter | None = None


def _watch_parent() -> None:
    """If the driver that started us is gone, stop the way Locust stops on Ctrl-C."""
    parent = os.environ.get(ENV_PARENT_PID)
    if parent and str(os.getppid()) != parent:
        logger.warning("gameday driver (pid %s) is gone: shutting down", parent)
        os.kill(os.getpid(), signal.SIGINT)


def _worker_watchdog(interval: float) -> None:
    while True:
        gevent.sleep(interval)
        _watch_parent()


@events.init.add_listener
def _on_init(environment: Any, runner: Any = None, **_kw: Any) -> None:
    if isinstance(runner, WorkerRunner):
        local = _config_if_available(environment)
        if local is not None:
            locust_runners.WORKER_REPORT_INTERVAL = local.interval

        def on_report(client_id: str, data: dict[str, Any]) -> None:
            data["gameday"] = TALLY.to_wire()
            data["gameday_cpu"] = _process.cpu_percent(None)

        environment.events.report_to_master.add_listener(on_report)
        if os.environ.get(ENV_PARENT_PID):
            gevent.spawn(_worker_watchdog, 1.0)
        return
    cfg = config(environment)
    if environment.host is None:
        environment.host = cfg.target_url
    _check_host(environment.host)
    if isinstance(runner, MasterRunner):
        def on_worker_report(client_id: str, data: dict[str, Any]) -> None:
            if "gameday" in data:
                WORKER_TALLIES[client_id] = Tally.from_wire(data["gameday"])
                WORKER_CPU[client_id] = float(data.get("gameday_cpu", 0.0))

        environment.events.worker_report.add_listener(on_worker_report)


@events.test_start.add_listener
def _on_test_start(environment: Any, **_kw: Any) -> None:
    global _emitter
    cfg = config(environment)
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        # report every stats interval instead of Locust's default 3 s
        locust_runners.WORKER_REPORT_INTERVAL = cfg.interval
        return
    if _emitter is not None:
        return
    _emitter = _Emitter(environment, cfg)
    _emitter.write({"type": "ready", "t": round(time.time(), 3), "pid": os.getpid(),
                    "mode": "master" if isinstance(runner, MasterRunner) else "local",
                    "interval": cfg.interval})
    gevent.spawn(_emitter.run)


@events.quitting.add_listener
def _on_quitting(environment: Any, **_kw: Any) -> None:
    if _emitter is not None and not _emitter.closed:
        _emitter.emit()
        _emitter.write({"type": "end", "t": round(time.time(), 3)})
        _emitter.closed = True
