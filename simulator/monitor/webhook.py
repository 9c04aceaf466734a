"""Delivering alerts as Prometheus Alertmanager webhook payloads (version 4).

The payload (as Alertmanager's ``notify/webhook`` sends it)::

    {"version": "4", "groupKey": "{}:{alertname=\\"HighErrorRate\\", service=\\"payments\\"}",
     "truncatedAlerts": 0, "status": "firing", "receiver": "gameday",
     "groupLabels": {...}, "commonLabels": {...}, "commonAnnotations": {...},
     "externalURL": "...",
     "alerts": [{"status": "firing", "labels": {...}, "annotations": {...},
                 "startsAt": "2024-05-01T10:00:00.123Z", "endsAt": "0001-01-01T00:00:00Z",
                 "generatorURL": "...", "fingerprint": "a1b2c3d4e5f60718"}]}

``endsAt`` is Go's zero time while firing and the resolution time once resolved, like Alertmanager.
Every firing and resolved transition becomes one notification for its group (``group_by`` labels).

:class:`WebhookSender` posts from one background thread per receiver, so rule evaluation never
waits on the network and a dead receiver does not delay the others. Connection errors, timeouts,
408, 429 and 5xx are retried with exponential backoff up to ``max_attempts``; other statuses fail
at once. Each notification ends with one ``alert.delivered`` journal entry per receiver (``ok``
or not, status code, attempts, error).
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from simulator.errors import InputError
from simulator.http import HTTPError, http_client
from simulator.journal import Journal
from simulator.monitor.engine import AlertState, Transition

ZERO_TIME = "0001-01-01T00:00:00Z"
USER_AGENT = "gameday-monitor/0.1 (Alertmanager-webhook-compatible)"
DEFAULT_GROUP_BY = ("alertname", "service", "run_id")


def rfc3339(ts: float | None) -> str:
    """Unix seconds -> RFC 3339 in UTC with milliseconds; ``None`` -> Go's zero time."""
    if ts is None:
        return ZERO_TIME
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Notice:
    """One alert as it goes out in a notification."""

    status: str  # firing | resolved
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: float
    ends_at: float | None
    generator_url: str
    fingerprint: str

    def to_alert(self) -> dict[str, Any]:
        return {"status": self.status, "labels": dict(self.labels), "annotations": dict(self.annotations),
                "startsAt": rfc3339(self.starts_at),
                "endsAt": rfc3339(self.ends_at if self.status == "resolved" else None),
                "generatorURL": self.generator_url, "fingerprint": self.fingerprint}


def notice_from(transition: Transition, external_url: str = "") -> Notice | None:
    """The notice for a firing or resolved transition (``None`` for pending/inactive)."""
    if transition.to_state not in (AlertState.FIRING, AlertState.RESOLVED):
        return None
    resolved = transition.to_state == AlertState.RESOLVED
    url = f"{external_url.rstrip('/')}/alerts/{quote(transition.alertname)}?service={quote(transition.target)}"
    return Notice("resolved" if resolved else "firing", dict(transition.labels), dict(transition.annotations),
                  transition.fired_wall if transition.fired_wall is not None else transition.wall,
                  transition.resolved_wall if resolved else None, url, transition.fingerprint)


def _common(maps: Sequence[Mapping[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    first = maps[0]
    return {k: v for k, v in first.items() if all(m.get(k) == v for m in maps[1:])}


def group_key(group_labels: Mapping[str, str], route: str = "{}") -> str:
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(group_labels.items()))
    return f"{route}:{{{inner}}}"


def alertmanager_payload(notices: Sequence[Notice], *, receiver: str = "gameday", external_url: str = "",
                         group_by: Iterable[str] = DEFAULT_GROUP_BY, max_alerts: int = 0) -> dict[str, Any]:
    """The version-4 webhook body for one group of alerts."""
    if not notices:
        raise ValueError("a notification needs at least one alert")
    common_labels = _common([n.labels for n in notices])
    group_labels = {k: common_labels[k] for k in group_by if k in common_labels}
    shown = list(notices)
    truncated = 0
    if max_alerts > 0 and len(shown) > max_alerts:
        truncated = len(shown) - max_alerts
        shown = shown[:max_alerts]
    return {
        "version": "4",
        "groupKey": group_key(group_labels),
        "truncatedAlerts": truncated,
        "status": "firing" if any(n.status == "firing" for n in notices) else "resolved",
        "receiver": receiver,
        "groupLabels": group_labels,
        "commonLabels": common_labels,
        "commonAnnotations": _common([n.annotations for n in notices]),
        "externalURL": external_url,
        "alerts": [n.to_alert() for n in shown],
    }


def redact(url: str) -> str:
    """A receiver URL fit for the journal: no credentials, no query string."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass(frozen=True)
class Delivery:
    receiver: str
    alertname: str
    fingerprint: str
    status: str
    ok: bool
    status_code: int | None
    attempts: int
    error: str | None
    elapsed_ms: float
    group_key: str

    def journal_data(self) -> dict[str, Any]:
        return {"receiver": self.receiver, "alertname": self.alertname, "fingerprint": self.fingerprint,
                "status": self.status, "ok": self.ok, "status_code": self.status_code, "attempts": self.attempts,
                "error": self.error, "elapsed_ms": round(self.elapsed_ms, 1), "group_key": self.group_key}


def _retryable(status: int) -> bool:
    return status >= 500 or status in (408, 429)


class _Pending:
    """Counts notifications not yet finished, so ``flush`` can wait for them."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._count = 0

    def add(self) -> None:
        with self._cond:
            self._count += 1

    def done(self) -> None:
        with self._cond:
            self._count -= 1
            self._cond.notify_all()

    def wait(self, timeout: float | None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._count == 0, timeout)


class WebhookSender:
    """Background delivery of Alertmanager-format notifications to receiver URLs."""

    def __init__(self, receivers: Sequence[str], journal: Journal | None = None, *, receiver_name: str = "gameday",
                 external_url: str = "gameday://monitor", group_by: Iterable[str] = DEFAULT_GROUP_BY,
                 max_attempts: int = 5, backoff: float = 0.25, max_backoff: float = 4.0, timeout: float = 2.0,
                 max_alerts: int = 0, keep: int = 1000):
        for url in receivers:
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
                raise InputError(f"expected an http(s) URL for an alert receiver, got {url!r}")
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.receivers = list(receivers)
        self.journal = journal
        self.receiver_name = receiver_name
        self.external_url = external_url
        self.group_by = tuple(group_by)
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_alerts = max_alerts
        self._deliveries: deque[Delivery] = deque(maxlen=keep)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._closed = False
        self._pending = _Pending()
        self._client = http_client(timeout=timeout, headers={"User-Agent": USER_AGENT})
        self._queues: list[queue.Queue[dict[str, Any] | None]] = []
        self._threads: list[threading.Thread] = []
        for index, url in enumerate(self.receivers):
            q: queue.Queue[dict[str, Any] | None] = queue.Queue()
            thread = threading.Thread(target=self._run, args=(url, q), name=f"gameday-webhook-{index}", daemon=True)
            self._queues.append(q)
            self._threads.append(thread)
            thread.start()

    # ---- producer side (called from the evaluating thread; never blocks on the network) ----------

    def notify(self, transition: Transition) -> None:
        """An ``AlertEngine.on_transition`` hook: deliver firing and resolved transitions."""
        notice = notice_from(transition, self.external_url)
        if notice is not None and not self._closed:  # after close, late transitions are only journaled
            self.send([notice])

    def send(self, notices: Sequence[Notice]) -> None:
        if not notices or not self.receivers:
            return
        if self._closed:
            raise RuntimeError("the webhook sender is closed")
        payload = alertmanager_payload(notices, receiver=self.receiver_name, external_url=self.external_url,
                                       group_by=self.group_by, max_alerts=self.max_alerts)
        for q in self._queues:
            self._pending.add()
            q.put(payload)

    # ---- delivery threads -------------------------------------------------------------------------

    def _run(self, url: str, q: queue.Queue[dict[str, Any] | None]) -> None:
        while True:
            payload = q.get()
            if payload is None:
                return
            try:
                try:
                    delivery = self._deliver(url, payload)
                except Exception as exc:  # noqa: BLE001 - a delivery thread must not die
                    first = payload["alerts"][0]
                    delivery = Delivery(redact(url), first["labels"].get("alertname", ""), first["fingerprint"],
                                        payload["status"], False, None, 0, f"{type(exc).__name__}: {exc}"[:300],
                                        0.0, payload["groupKey"])
                with self._lock:
                    self._deliveries.append(delivery)
                if self.journal is not None:
                    self.journal.write("alert.delivered", **delivery.journal_data())
            finally:
                self._pending.done()

    def _deliver(self, url: str, payload: dict[str, Any]) -> Delivery:
        started = time.monotonic()
        attempts = 0
        status_code: int | None = None
        error: str | None = None
        ok = False
        while attempts < self.max_attempts:
            attempts += 1
            try:
                response = self._client.post(url, json=payload)
                status_code = response.status_code
                if 200 <= status_code < 300:
                    ok, error = True, None
                    break
                error = f"HTTP {status_code}"
                if not _retryable(status_code):
                    break
            except HTTPError as exc:
                status_code, error = None, f"{type(exc).__name__}: {exc}"[:300]
            if attempts < self.max_attempts:
                delay = min(self.backoff * 2 ** (attempts - 1), self.max_backoff)
                if self._stop.wait(delay):
                    error = f"{error} (gave up: sender closing)"
                    break
        first = payload["alerts"][0]
        return Delivery(redact(url), first["labels"].get("alertname", ""), first["fingerprint"], payload["status"],
                        ok, status_code, attempts, error, (time.monotonic() - started) * 1000, payload["groupKey"])

    # ---- lifecycle --------------------------------------------------------------------------------

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries)

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Wait until every queued notification is delivered or given up; False on timeout."""
        return self._pending.wait(timeout)

    def close(self, timeout: float = 10.0) -> bool:
        """Deliver what is queued (up to ``timeout``), then stop the threads. True if all drained."""
        if self._closed:
            return True
        self._closed = True
        drained = self.flush(timeout)
        self._stop.set()  # cut remaining backoff waits short
        for q in self._queues:
            q.put(None)
        for thread in self._threads:
            thread.join(timeout=max(1.0, self._client.timeout.read or 1.0) * 2)
        self._client.close()
        return drained

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
