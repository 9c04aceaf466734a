"""The pager at work: the escalation loop and the outgoing webhook for real pagers.

* ``Pager(service).start()``: a daemon thread asking the service to escalate due pages every
  ``EVERY`` wall seconds (``TrackerService.escalate_due``); it stops with ``stop()``, when the
  served app stops, or when the service is gone. Every served tracker runs one (``api.create_app``).
* ``deliver(service, events)``: for every ``incident.paged`` event of a commit, a daemon thread POSTs the
  page (``body``) to each configured webhook with a bounded timeout and records the outcome on the page
  (``TrackerService.record_delivery``): a failure is recorded, never raised, and never holds up the tracker.

Webhooks are configured in the roster file (``paging: webhooks:``) or with ``gameday tracker serve
--page-webhook``. Only loopback URLs are allowed unless ``allow_remote`` is set explicitly (the project's
rule: traffic to 127.0.0.1 only, unless someone opts in).
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from simulator import http
from simulator.errors import InputError

log = logging.getLogger(__name__)

EVERY = 0.5  # wall seconds between escalation checks
TIMEOUT = 5.0  # seconds a webhook may take to answer (editable: paging.timeout in the roster file)
MAX_TIMEOUT = 30.0
BODY_VERSION = 1


def is_loopback_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_webhooks(urls: Sequence[str], allow_remote: bool) -> list[str]:
    """The URLs, checked: http(s) with a host; a host other than loopback only with ``allow_remote``."""
    checked = []
    for url in urls:
        parts = urlsplit(str(url).strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"paging webhook {url!r}: expected an http:// or https:// URL with a host")
        if not allow_remote and not is_loopback_url(url):
            raise InputError(f"paging webhook {url!r}: only loopback (127.0.0.1, localhost, ::1) unless "
                             "allow_remote: true (--page-allow-remote) says otherwise")
        checked.append(parts.geturl())
    return checked


def check_timeout(value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise InputError(f"paging timeout: expected seconds, not {value!r}") from None
    if not 0 < seconds <= MAX_TIMEOUT:
        raise InputError(f"paging timeout: expected more than 0 and at most {MAX_TIMEOUT:g} seconds, not {seconds:g}")
    return seconds


def body(event: Any, incident: Any) -> dict[str, Any]:
    """The JSON a webhook receives for one page (documented in the README: "Paging webhook")."""
    d = event.data
    return {
        "version": BODY_VERSION,
        "event": "page",
        "page": {"id": d.get("page"), "person": d.get("person"), "tier": d.get("tier"), "reason": d.get("reason"),
                 "at": event.at.isoformat(), "channel": d.get("channel"), "rotation": d.get("rotation"),
                 "window_seconds": d.get("window_seconds"), "window_basis": d.get("window_basis"),
                 "escalated_from": d.get("escalated_from")},
        "incident": {"ref": incident.ref, "title": incident.title, "service": incident.service,
                     "severity": incident.severity, "status": incident.status, "channel": incident.channel,
                     "run_id": incident.run_id, "exercise": incident.exercise},
    }


def post(url: str, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
    """One delivery: never raises; its outcome as recorded on the page."""
    started = time.monotonic()
    outcome: dict[str, Any] = {"url": url, "at": time.time()}
    try:
        response = http.shared_client().post(url, json=payload, timeout=timeout)
        outcome.update(ok=response.status_code < 300, status=response.status_code)
        if response.status_code >= 300:
            outcome["error"] = f"answered {response.status_code}"
    except http.HTTPError as exc:
        outcome.update(ok=False, status=None, error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    outcome["seconds"] = round(time.monotonic() - started, 3)
    return outcome


def deliver(service: Any, events: Sequence[Any]) -> list[threading.Thread]:
    """Send every ``incident.paged`` event of a commit to the webhooks, each page on its own daemon thread."""
    paged = [e for e in events if e.kind == "incident.paged"]
    if not paged:
        return []
    config = service.paging_settings()
    if not config.webhooks:
        return []
    threads = []
    for event in paged:
        thread = threading.Thread(target=_send, args=(service, event, list(config.webhooks), config.allow_remote,
                                                      config.timeout_seconds),
                                  name=f"page-{event.data.get('page')}", daemon=True)
        thread.start()
        threads.append(thread)
    return threads


def _send(service: Any, event: Any, urls: list[str], allow_remote: bool, timeout: float) -> None:
    try:
        payload = body(event, service.get_incident(event.incident))
        results = []
        for url in urls:
            if not allow_remote and not is_loopback_url(url):
                results.append({"url": url, "at": time.time(), "ok": False, "status": None,
                                "error": "refused: not loopback and allow_remote is off"})
                continue
            results.append(post(url, payload, timeout))
        service.record_delivery(int(event.data["page"]), results)
    except Exception:  # a delivery must never take the tracker down
        log.exception("paging webhook delivery failed")


class Pager:
    """The escalation loop of one service (held weakly: a service nobody holds any more ends it)."""

    def __init__(self, service: Any, stopping: threading.Event | None = None, every: float = EVERY):
        self._service = weakref.ref(service)
        self._stop = stopping or threading.Event()
        self.every = every
        self._thread: threading.Thread | None = None

    def start(self) -> Pager:
        self._thread = threading.Thread(target=self._loop, name="tracker-pager", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            service = self._service()
            if service is None or getattr(service.db, "closed", False):
                return
            try:
                service.escalate_due()
            except Exception:  # a busy or closed database: try again next time, never die loudly
                log.debug("pager: escalation check failed", exc_info=True)
            del service
