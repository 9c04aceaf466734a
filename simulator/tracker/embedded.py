"""Start a tracker for a run, in a background thread (default) or a subprocess.

    handle = start_tracker("runs/r1/tracker.db", run_id="r1")
    handle.url          # http://127.0.0.1:<port>
    handle.client()     # a TrackerClient for it
    handle.stop()

With ``journal=`` (a ``simulator.journal.Journal``) every ``incident.*`` and ``postmortem.*``
timeline event is also written to the run journal (thread mode), with the incident id, the actor
and the tracker's sequence number; the payload is under ``detail``.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.errors import EnvironmentProblem
from simulator.procs import start_listening, wait_until
from simulator.tracker.client import TrackerClient
from simulator.tracker.schemas import TimelineEventOut
from simulator.tracker.server import TOKEN_ENV, TrackerServer, bind, make_server, url_for, url_of
from simulator.tracker.service import TrackerService

JOURNAL_PREFIXES = ("incident.", "postmortem.")


@dataclass
class TrackerHandle:
    url: str
    db: str
    token: str | None = None
    service: TrackerService | None = None  # thread mode: the live service (same process)
    pid: int | None = None  # subprocess mode
    _server: TrackerServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _unsubscribe: Any = field(default=None, repr=False)

    def client(self, actor: str | None = None) -> TrackerClient:
        return TrackerClient(self.url, token=self.token, actor=actor)

    @property
    def running(self) -> bool:
        if self._thread is not None:
            return self._thread.is_alive()
        return self._proc is not None and self._proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and wait for it; safe to call twice."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._server is not None and self._thread is not None:
            self._server.stop()
            self._thread.join(timeout)
            if self._thread.is_alive():  # pragma: no cover - uvicorn did not stop in time
                self._server.force_exit = True
                self._thread.join(timeout)
            if self.service is not None:
                self.service.db.close()
            self._server = None
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait(timeout)
            self._proc = None

    def __enter__(self) -> TrackerHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def journal_mirror(journal: Any, service: TrackerService | None = None, run_id: str | None = None) -> Any:
    """A listener writing ``incident.*``/``postmortem.*`` timeline events to ``journal``; with ``run_id``
    (a tracker shared by a drill's runs) only the events of that run's incidents."""
    runs: dict[str, str | None] = {}

    def ours(ref: str) -> bool:
        if run_id is None or service is None:
            return True
        if ref not in runs:
            try:
                runs[ref] = service.get_incident(ref).run_id
            except Exception:  # noqa: BLE001 - an incident gone or unreadable is not ours
                return False
        return runs[ref] == run_id

    def write(events: list[TimelineEventOut]) -> None:
        for e in events:
            if e.kind.startswith(JOURNAL_PREFIXES) and ours(e.incident):
                journal.write(e.kind, incident=e.incident, actor=e.actor, summary=e.summary, tracker_seq=e.seq,
                              at=e.at.isoformat(), detail=e.data)

    return write


def attach_run(service: TrackerService, journal: Any, run_id: str | None, *, only_run: bool = True) -> Any:
    """A run joins ``service``: its incidents' events are mirrored into ``journal`` (only ``run_id``'s with
    ``only_run``), and its pages' escalation windows are measured on the journal's game clock. Returns the undo."""
    unsubscribe = service.subscribe(journal_mirror(journal, service, run_id=run_id) if only_run
                                    else journal_mirror(journal))
    forget = service.set_game_clock(run_id, journal.game_now)

    def undo() -> None:
        unsubscribe()
        forget()

    return undo


def start_tracker(db_path: str | os.PathLike[str], host: str = "127.0.0.1", port: int = 0, *,
                  token: str | None = None, run_id: str | None = None, exercise: bool = True,
                  run_url: str | None = None, scenario: str | None = None, journal: Any = None,
                  mode: str = "thread", startup_timeout: float = 30.0) -> TrackerHandle:
    """Start a tracker on ``host:port`` (port 0: the OS picks) and return once it answers."""
    db = os.fspath(db_path)
    if mode == "subprocess":
        return _start_subprocess(db, host, port, token=token, run_id=run_id, exercise=exercise,
                                 timeout=startup_timeout)
    if mode != "thread":
        raise ValueError("mode must be 'thread' or 'subprocess'")
    svc = TrackerService(db, run_id=run_id, exercise=exercise, run_url=run_url, scenario=scenario)
    server = make_server(svc, host=host, token=token)
    sock = bind(host, port)
    url = url_for(sock, host)
    unsubscribe = attach_run(svc, journal, run_id, only_run=False) if journal is not None else None

    def run() -> None:
        try:
            server.run(sockets=[sock])
        finally:
            sock.close()

    thread = threading.Thread(target=run, name=f"tracker-{url}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.stop()
            raise EnvironmentProblem(f"the embedded tracker did not start on {url}")
        time.sleep(0.01)
    return TrackerHandle(url=url, db=db, token=token, service=svc, _server=server, _thread=thread,
                         _unsubscribe=unsubscribe)


def _start_subprocess(db: str, host: str, port: int, *, token: str | None, run_id: str | None, exercise: bool,
                      timeout: float) -> TrackerHandle:
    args = ["-m", "simulator.tracker", "--db", db, "--host", host, "--port", str(port)]
    if run_id:
        args += ["--run-id", run_id]
    if exercise:
        args.append("--exercise")
    started = time.monotonic()
    child = start_listening(args, log_path(db), timeout, env={TOKEN_ENV: token} if token else None,
                            die_with_parent=False)
    url = url_of(host, child.port)
    with TrackerClient(url, token=token) as client:
        wait_until(client.ping, timeout - (time.monotonic() - started))
    return TrackerHandle(url=url, db=db, token=token, pid=child.pid, _proc=child.proc)


def log_path(db: str) -> Path:
    """Where a tracker subprocess's stderr goes: beside its database file (else the temp folder)."""
    if "://" in db:
        return Path(tempfile.gettempdir()) / f"gameday-tracker-{os.getpid()}.log"
    return Path(db).with_suffix(".log")
