"""Run Locust as a separate process (or a master and N workers) and stream its stats back.

The simulator never imports locust (gevent would monkey-patch the whole process): this module
only starts ``python -m locust`` with a bundled locustfile (or a user's own, ``adopt=True``: run as it
is beside ``locustfiles/_adopt.py``, ``-f _adopt.py,theirs.py`` plus its ``user_classes``) and reads the
JSON lines the gameday plugin writes to a pipe (one per interval; see ``locustfiles/_plugin.py``)::

    with LoadDriver("http://127.0.0.1:8001", "payments", users=20, spawn_rate=10, stages=[],
                    retry_policy={"policy": "immediate", "max_attempts": 5}, run_dir=run,
                    seed=7, time_scale=60, on_stats=print) as load:
        ...                     # load.latest is the last interval's figures
        load.check()            # raises if Locust died

What it starts (all in one new process group, so nothing leaks to the terminal's Ctrl-C):

* ``workers == 0``: ``python -m locust -f <locustfile> --headless --host URL --csv
  <run_dir>/locust --csv-full-history --only-summary --exit-code-on-error 0``.
* ``workers > 0``: the same command with ``--master --master-bind-host 127.0.0.1
  --expect-workers N``, plus N ``python -m locust -f <locustfile> --worker --master-host
  127.0.0.1 --master-port P`` processes. Explicit processes (rather than ``--processes``) so
  every pid is known for process stats and the layout is the one used across machines.

Locust's logs go to ``<run_dir>/locust.log`` (and ``locust-worker-<i>.log``); its CSVs, with
full history, to ``<run_dir>/locust_*.csv``: the audit record, next to ``load-stats.jsonl``
(every line of the stream) and ``load-config.json`` (what Locust was told). ``stop()`` sends
SIGINT (Locust's clean shutdown: final CSVs, workers told to quit), waits, then SIGTERM, then
kills the process group. A Locust that exits on its own with an error surfaces as
``EnvironmentProblem`` (``InputError`` for a bad custom locustfile, ``SafetyViolation`` for a
non-loopback host) carrying Locust's last log lines; ``start()`` never waits longer than
``start_timeout``. ``on_stats`` runs on its own thread: a slow consumer never stalls Locust.

Full-scale simulations: workers on other machines
-------------------------------------------------
One Locust process uses about one core. To generate more load than one machine can, give the
driver ``remote_workers=M`` and a fixed ``master_port`` (plus ``workers=N`` local ones if
wanted); ``start()`` then waits, up to ``start_timeout``, until ``N + M`` workers have
connected. The loopback rule still holds everywhere: the master listens on 127.0.0.1 only and
every worker refuses a non-loopback host, so a worker machine reaches the master and the
target through an SSH tunnel to the gameday host:

1. On each worker machine, with the same gameday version installed::

       ssh -N -L 5557:127.0.0.1:5557 -L 8001:127.0.0.1:8001 gameday-host &
       python -m locust --worker --master-host 127.0.0.1 --master-port 5557 -f \
           "$(python -c 'from simulator.load.locustfiles import locustfile_path as p; print(p("payments"))')"

   5557 is ``master_port``; 8001 the target's port, forwarded to the same number, since the
   master hands the workers its own target URL (``http://127.0.0.1:8001``).
2. Nothing else is copied: the master forwards the load configuration (retry policy, waits,
   seed) to every worker with its spawn message (the ``--gameday-config-json`` option), and
   the workers' statistics arrive in the same aggregated stream (``workers`` counts them).
   Remote workers exit when the master quits; ``pids`` lists only the local processes.

Mind that the tunnel carries all of a remote worker's traffic, and the target still runs on
the gameday host: remote workers add load-generating CPU, not target capacity.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import simulator
from simulator.errors import EnvironmentProblem, GamedayError, InputError, SafetyViolation
from simulator.load.config import (
    BUNDLED_APPS,
    CONFIG_MARKER,
    ENV_CONFIG_JSON,
    ENV_CONFIG_PATH,
    ENV_PARENT_PID,
    ENV_STATS_FD,
    ENV_STATS_PATH,
    SAFETY_MARKER,
    LoadConfig,
)
from simulator.load.locustfiles import ADOPT, locustfile_path
from simulator.load.retry import RetryPolicy
from simulator.load.safety import check_loopback_url
from simulator.load.shapes import EndMode, to_wall_stages
from simulator.netbind import free_port
from simulator.procs import spawn
from simulator.rundir import RunDir

logger = logging.getLogger("gameday.load")

StatsCallback = Callable[[dict[str, Any]], None]


def _tail(path: Path, lines: int = 20) -> list[str]:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 16384))
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [line.rstrip() for line in text.splitlines() if line.strip()][-lines:]


class LoadDriver:
    def __init__(
        self,
        target_url: str,
        app: str,
        users: int = 10,
        spawn_rate: float = 10.0,
        stages: Iterable[Any] = (),
        retry_policy: Any = None,
        run_dir: str | os.PathLike[str] = ".",
        seed: int = 0,
        time_scale: float = 1.0,
        workers: int = 0,
        interval: float = 1.0,
        *,
        wait: Sequence[float] = (0.05, 0.2),
        timeout: float = 10.0,
        target: str | None = None,
        end: EndMode = "hold",
        params: dict[str, Any] | None = None,
        locustfile: str | os.PathLike[str] | None = None,
        adopt: bool = False,
        user_classes: Sequence[str] = (),
        on_stats: StatsCallback | None = None,
        remote_workers: int = 0,
        master_port: int | None = None,
        start_timeout: float = 60.0,
        stop_timeout: float = 15.0,
        history: int = 3600,
    ) -> None:
        url = check_loopback_url(target_url)  # SafetyViolation before anything else happens
        if locustfile is None:
            if app not in BUNDLED_APPS:
                raise InputError(f"load: unknown app {app!r}; expected one of {', '.join(BUNDLED_APPS)}")
            self.locustfile = locustfile_path(app)
        else:
            self.locustfile = Path(locustfile).resolve()
            if not self.locustfile.is_file():
                raise InputError(f"load: locustfile {str(locustfile)!r} does not exist")
        if workers < 0 or remote_workers < 0:
            raise InputError("load: workers must be >= 0")
        self.custom_locustfile = locustfile is not None
        #: a user's own locustfile, left as it is: loaded beside ``_adopt.py`` (gameday's hooks, shape, retries)
        self.adopt = adopt
        self.user_classes = list(user_classes)
        self.config = LoadConfig(
            app=app, target_url=url, target=target or app, users=users, spawn_rate=float(spawn_rate),
            stages=tuple(to_wall_stages(stages, time_scale, float(spawn_rate))), end=end,
            retry=RetryPolicy.from_any(retry_policy), wait=(float(wait[0]), float(wait[1])),
            timeout=float(timeout), seed=int(seed), interval=float(interval), params=dict(params or {}),
        )
        self.run_dir = Path(run_dir)
        self.workers = workers
        self.remote_workers = remote_workers
        self.master_port = master_port
        self.on_stats = on_stats
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.latest: dict[str, Any] | None = None
        self.history: deque[dict[str, Any]] = deque(maxlen=history)
        self.ready_info: dict[str, Any] | None = None
        self._master: subprocess.Popen[bytes] | None = None
        self._workers: list[subprocess.Popen[bytes]] = []
        self._reader: threading.Thread | None = None
        self._dispatcher: threading.Thread | None = None
        self._outbox: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._ready = threading.Event()
        self._eof = threading.Event()
        self._stopping = False
        self._stopped = False
        self._failure: GamedayError | None = None
        self._ended = False

    # -- construction from a scenario ----------------------------------------------------------
    @classmethod
    def from_scenario(
        cls, scenario: Any, target_url: str, run_dir: str | os.PathLike[str], *, time_scale: float = 1.0,
        seed: int = 0, interval: float = 1.0, workers: int | None = None, on_stats: StatsCallback | None = None,
        end: EndMode = "hold",
    ) -> LoadDriver:
        """From a ``simulator.scenario.model.Scenario`` (its ``load`` section and load target)."""
        load = scenario.load
        target = scenario.target(scenario.load_target)
        return cls(
            target_url, target.kind, load.users, load.spawn_rate, load.stages, load.clients.retry, run_dir,
            seed, time_scale, load.workers if workers is None else workers, interval,
            wait=tuple(load.wait), timeout=load.clients.timeout, target=target.name, on_stats=on_stats, end=end,
            locustfile=load.locustfile, adopt=load.locustfile is not None, user_classes=load.user_classes,
        )

    # -- paths and processes -------------------------------------------------------------------
    @property
    def log_path(self) -> Path:
        return RunDir(self.run_dir).locust_log

    def worker_log_path(self, index: int) -> Path:
        return RunDir(self.run_dir).locust_worker_log(index)

    @property
    def stats_path(self) -> Path:
        """Every stats line as received (JSON lines): the stream's own audit record."""
        return RunDir(self.run_dir).load_stats

    @property
    def csv_prefix(self) -> Path:
        return RunDir(self.run_dir).locust_csv_prefix

    @property
    def pid(self) -> int | None:
        """The Locust process that emits the stream (the master in distributed mode)."""
        return self._master.pid if self._master is not None else None

    @property
    def pids(self) -> list[int]:
        procs = ([self._master] if self._master is not None else []) + self._workers
        return [p.pid for p in procs]

    @property
    def alive(self) -> bool:
        return self._master is not None and self._master.poll() is None

    @property
    def finished(self) -> bool:
        """Locust ended by itself without error (the shape ran out with ``end='stop'``)."""
        return self._eof.is_set() and self._failure is None and not self._stopping

    @property
    def failure(self) -> GamedayError | None:
        return self._failure

    def check(self) -> None:
        """Raise the problem if Locust died on its own; otherwise do nothing."""
        if self._failure is not None:
            raise self._failure

    # -- start -------------------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        root = str(Path(simulator.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
        env[ENV_CONFIG_JSON] = self.config.to_json()
        env[ENV_PARENT_PID] = str(os.getpid())
        env["PYTHONUNBUFFERED"] = "1"
        for key in (ENV_CONFIG_PATH, ENV_STATS_PATH, ENV_STATS_FD):
            env.pop(key, None)
        return env

    def commands(self, port: int | None = None) -> tuple[list[str], list[list[str]]]:
        """The master (or single) command and the worker commands."""
        files = f"{ADOPT},{self.locustfile}" if self.adopt else str(self.locustfile)
        base = [sys.executable, "-m", "locust", "-f", files]
        main = [*base, *self.user_classes, "--headless", "--host", self.config.target_url, "--csv",
                str(self.csv_prefix), "--csv-full-history", "--only-summary", "--exit-code-on-error", "0",
                "--loglevel", "INFO"]
        expected = self.workers + self.remote_workers
        if expected == 0:
            return main, []
        assert port is not None
        main += ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                 "--expect-workers", str(expected), "--expect-workers-max-wait", str(max(1, int(self.start_timeout)))]
        worker = [*base, *self.user_classes, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port),
                  "--loglevel", "INFO"]
        return main, [list(worker) for _ in range(self.workers)]

    def _spawn(self, cmd: list[str], log: Path, env: dict[str, str], **kw: Any) -> subprocess.Popen[bytes]:
        with open(log, "ab") as fh:
            fh.write(("$ " + " ".join(cmd) + "\n").encode())
        return spawn(cmd, log, env=env, cwd=self.run_dir, **kw)

    def start(self) -> LoadDriver:
        if self._master is not None:
            raise RuntimeError("LoadDriver.start() called twice")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        RunDir(self.run_dir).load_config.write_text(json.dumps(self.config.to_dict(), indent=2) + "\n")
        port = None
        if self.workers + self.remote_workers:
            port = self.master_port or free_port()
        main_cmd, worker_cmds = self.commands(port)
        env = self._env()
        read_fd, write_fd = os.pipe()
        try:
            master_env = {**env, ENV_STATS_FD: str(write_fd)}
            # a process group of their own (same session, so workers can join it): the terminal's
            # Ctrl-C reaches the simulator only, which stops Locust in order
            self._master = self._spawn(main_cmd, self.log_path, master_env, pass_fds=(write_fd,), process_group=0)
        except OSError as exc:
            os.close(read_fd)
            raise EnvironmentProblem(f"cannot start Locust ({exc}); is locust installed in {sys.executable}?") from None
        finally:
            os.close(write_fd)
        self._reader = threading.Thread(target=self._read, args=(read_fd,), name="gameday-load-reader", daemon=True)
        self._reader.start()
        if self.on_stats is not None:
            self._dispatcher = threading.Thread(target=self._dispatch, name="gameday-load-stats", daemon=True)
            self._dispatcher.start()
        try:
            for i, cmd in enumerate(worker_cmds, start=1):
                self._workers.append(self._spawn(cmd, self.worker_log_path(i), env, process_group=self._master.pid))
            self._wait_ready()
        except BaseException:
            self._stopping = True
            self._terminate(grace=2.0)
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while not self._ready.wait(0.05):
            if self._failure is not None:
                raise self._failure
            if self._master is not None and self._master.poll() is not None:
                self._eof.wait(2.0)
                raise self._failure or self._diagnose("start")
            for i, worker in enumerate(self._workers, start=1):
                if worker.poll() is not None:
                    raise self._diagnose("start", worker=i)
            if time.monotonic() > deadline:
                raise EnvironmentProblem(
                    f"Locust did not start within {self.start_timeout:.0f}s; see {self.log_path}: "
                    + " | ".join(_tail(self.log_path, 3))
                )

    # -- the stream ----------------------------------------------------------------------------
    def _read(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as stream, open(self.stats_path, "ab") as journal:
            for raw in stream:
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue
                if not isinstance(record, dict):
                    continue
                kind = record.get("type")
                if kind == "stats":
                    self.latest = record
                    self.history.append(record)
                    journal.write(raw)
                    journal.flush()
                    if self.on_stats is not None:
                        self._outbox.put(record)
                elif kind == "ready":
                    self.ready_info = record
                    self._ready.set()
                elif kind == "end":
                    self._ended = True
        master = self._master
        code = None
        if master is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = master.wait(timeout=self.stop_timeout)
        if not self._stopping and code != 0:
            self._failure = self._diagnose("run" if self._ready.is_set() else "start")
        self._eof.set()
        self._outbox.put(None)

    def _dispatch(self) -> None:
        """Calls ``on_stats`` off the reader thread, so a slow consumer never stalls Locust's pipe."""
        while (record := self._outbox.get()) is not None:
            try:
                assert self.on_stats is not None
                self.on_stats(record)
            except Exception:  # a consumer's bug must not stop the stream
                logger.exception("on_stats callback failed")

    def _diagnose(self, phase: str, worker: int | None = None) -> GamedayError:
        proc = self._master if worker is None else self._workers[worker - 1]
        log = self.log_path if worker is None else self.worker_log_path(worker)
        code = proc.poll() if proc is not None else None
        lines = _tail(log)
        if worker is None:
            for i in range(1, len(self._workers) + 1):
                lines += _tail(self.worker_log_path(i), 5)
        for line in lines:
            for marker, kind in ((SAFETY_MARKER, SafetyViolation), (CONFIG_MARKER, InputError)):
                if marker in line:
                    return kind(line.split(marker, 1)[1].strip())
        last = " | ".join(_tail(log, 4)) or "no output"
        who = "Locust" if worker is None else f"Locust worker {worker}"
        if self.custom_locustfile and phase == "start":
            return InputError(f"locustfile {self.locustfile} failed ({who} exit {code}): {last}")
        return EnvironmentProblem(
            f"{who} exited with code {code} during {phase}: {last} (full log: {log}; "
            f"check that '{sys.executable} -m locust --version' works)"
        )

    # -- stop ----------------------------------------------------------------------------------
    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for Locust to end by itself (e.g. ``end='stop'``); its exit code or ``None``."""
        if self._master is None:
            return None
        try:
            return self._master.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> int | None:
        """Stop Locust cleanly (SIGINT; SIGTERM and SIGKILL after ``stop_timeout``); idempotent."""
        if self._master is None or self._stopped:
            return self._master.returncode if self._master is not None else None
        self._stopping = True
        self._terminate(grace=self.stop_timeout)
        self._stopped = True
        return self._master.returncode

    def _terminate(self, grace: float) -> None:
        master = self._master
        assert master is not None
        if master.poll() is None:
            # SIGINT, not SIGTERM: with a LoadTestShape, headless Locust installs its SIGTERM
            # handler only after the shape ends, while Ctrl-C is handled (final CSVs, quitting
            # hooks, workers told to quit) in every phase.
            with contextlib.suppress(ProcessLookupError):
                master.send_signal(signal.SIGINT)
            try:
                master.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                logger.warning("Locust did not stop within %.0fs; killing it", grace)
        deadline = time.monotonic() + min(grace, 5.0)
        for worker in self._workers:  # the master told them to quit; give them a moment
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.wait(timeout=max(0.1, deadline - time.monotonic()))
        for proc in [*self._workers, master]:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        for proc in [*self._workers, master]:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2.0)
        if any(proc.poll() is None for proc in [*self._workers, master]):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(master.pid, signal.SIGKILL)
        for proc in [*self._workers, master]:
            proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=5.0)
        if self._dispatcher is not None:
            self._dispatcher.join(timeout=5.0)

    def __enter__(self) -> LoadDriver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
