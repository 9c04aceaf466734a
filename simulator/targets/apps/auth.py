"""auth (critical tier): login, token verification and refresh.

Users ``user<N>`` / ``pw<N>`` for N < 10000, checked against real PBKDF2 hashes (few iterations, so
login is cheap). Tokens are HMAC-signed, the key kept in the data dir so a restart keeps sessions.

Release ``v3.1.0-leaky``'s audit trail retains real objects in a module-level cache it never frees,
and scans it on every request: memory and latency grow. It retains ``leak_bytes_per_game_hour`` per
hour of *game* time under load (the run's time scale comes from the backend, ``common/clock.py``; the
bytes are allocated in records of at least ``LEAK_QUANTUM``, not per request, so the cost stays bounded
at any speed), plus ``leak_bytes_per_request`` per request (0 in the bundled scenario; the
``app.leak_rate`` fault raises it). A quiet spell (no request for ``MAX_GAP_WALL`` wall seconds) does
not leak: the leak is in the request path. A deploy or rollback starts "a new process" and so empties
the cache; the ``audit_trail`` flag off stops the growth without freeing what is held. Release
``v3.1.1`` is the fix: the same duplicate check, over a bounded ring of the last records (older ones
are evicted), so memory stays flat.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import hmac
import os
import re
import secrets
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from pydantic import BaseModel, Field

from simulator.targets.apps.catalog import AUTH
from simulator.targets.apps.common.app import error_body, make_app
from simulator.targets.apps.common.metrics import CallbackGauges
from simulator.targets.apps.common.server import main as serve
from simulator.targets.apps.common.service import Service
from simulator.targets.apps.common.state import OpsChange

LEAKY_RELEASE = "v3.1.0-leaky"
FIXED_RELEASE = "v3.1.1"
USER_COUNT = 10_000
USER_RE = re.compile(r"^user(0|[1-9][0-9]{0,3})$")
CHUNK_BYTES = 1024
#: the duplicate check reads every SCAN_STRIDE-th chunk of what is retained: its cost grows with memory
SCAN_STRIDE = 64
#: the game-time leak is allocated in records of at least this many bytes (bounded work per request)
LEAK_QUANTUM = 64 * 1024
#: no request for this many wall seconds is a quiet spell, not load: it does not leak
MAX_GAP_WALL = 1.0
GAME_HOUR = 3600.0
SECRET_FILE = "auth-token.key"

#: The leaky release's audit cache: one (event, user, time, [chunks]) record per request. Never freed
#: by the code that fills it (only a "new process", i.e. a deploy or rollback, starts it empty).
_AUDIT_CACHE: list[tuple[str, str, float, list[bytes]]] = []
_AUDIT_LOCK = threading.Lock()
_AUDIT_STATS = {"bytes": 0, "objects": 0}


@dataclass
class GameLeak:
    """What the leaky release owes its cache: ``bytes_per_game_hour`` for every game second under load.

    ``due(now, rate)`` is called on every request with the wall clock (monotonic): the wall time since the
    previous request (capped at ``MAX_GAP_WALL``: longer is a quiet spell) times the time scale is game
    time; the bytes it owes accumulate and are paid in whole chunks, once there is at least a quantum."""

    time_scale: float = 1.0
    last: float | None = None
    owed: float = 0.0

    def due(self, now: float, bytes_per_game_hour: float, quantum: int = LEAK_QUANTUM) -> int:
        """Bytes to retain now (a multiple of ``CHUNK_BYTES``, 0 until ``quantum`` is owed)."""
        if self.last is not None and bytes_per_game_hour > 0:
            wall = min(max(now - self.last, 0.0), MAX_GAP_WALL)
            self.owed += wall * self.time_scale * bytes_per_game_hour / GAME_HOUR
        self.last = now
        if self.owed < quantum:
            return 0
        paid = int(self.owed // CHUNK_BYTES) * CHUNK_BYTES
        self.owed -= paid
        return paid

    def quiet(self) -> None:
        """No leaking request (the audit trail is off): the next one starts a new stretch of load."""
        self.last = None

    def reset(self) -> None:
        """A new process: nothing owed."""
        self.last, self.owed = None, 0.0


def game_hours_to_limit(headroom_bytes: float, bytes_per_game_hour: float) -> float:
    """Game hours of load until a leak of ``bytes_per_game_hour`` fills ``headroom_bytes`` (inf without a leak)."""
    return headroom_bytes / bytes_per_game_hour if bytes_per_game_hour > 0 else float("inf")


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class AuthService(Service):
    track_gc_objects = True

    def __init__(self, config: Mapping[str, Any] | None, state_file: Path | None, data_dir: Path | None) -> None:
        super().__init__(AUTH, config, state_file, data_dir)
        self.logins_total = Counter(
            "auth_logins", "Login attempts by outcome (success|failure)", ["outcome"], registry=self.registry
        )
        self.verifications_total = Counter(
            "auth_token_checks",
            "Token verifications and refreshes by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.audit_repeats = Counter(
            "auth_audit_repeats", "Earlier audit records of the same user found by the duplicate check (v3.1.1)",
            registry=self.registry,
        )
        self.registry.register(
            CallbackGauges(
                {
                    "auth_retained_bytes": ("Bytes held by the audit trail", lambda: _AUDIT_STATS["bytes"]),
                    "auth_retained_objects": (
                        "Objects held by the audit trail",
                        lambda: _AUDIT_STATS["objects"],
                    ),
                }
            )
        )
        self._secret = self._load_secret()
        self._hashes: dict[int, tuple[bytes, bytes]] = {}
        self._hash_lock = threading.Lock()
        self._audit_ring: collections.deque[tuple[str, str, float]] = collections.deque(maxlen=1024)
        self._game_leak = GameLeak(self.time_scale)
        _clear_audit_cache()

    # -- runtime

    def _load_secret(self) -> bytes:
        path = self.data_dir / SECRET_FILE
        try:
            text = path.read_text(encoding="ascii").strip()
            if len(text) >= 32:
                return bytes.fromhex(text)
        except (OSError, ValueError):
            pass
        secret = secrets.token_bytes(32)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secret.hex(), encoding="ascii")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
        return secret

    def apply(self, change: OpsChange) -> None:
        if change.release_changed:
            _clear_audit_cache()  # a new release is a new process: the cache starts empty
            with _AUDIT_LOCK:
                self._game_leak.reset()
        if change.config_changed and (change.old_config or {}).get("hash_iterations") != self.ops.config.get(
            "hash_iterations"
        ):
            with self._hash_lock:
                self._hashes = {}

    @property
    def leaky(self) -> bool:
        return self.ops.release == LEAKY_RELEASE

    # -- users and tokens

    def _stored_hash(self, number: int) -> tuple[bytes, bytes]:
        """The user table: (salt, pbkdf2 hash) of user<N>'s password, computed on first use."""
        with self._hash_lock:
            found = self._hashes.get(number)
        if found is not None:
            return found
        salt = hashlib.sha256(f"gameday-user{number}".encode()).digest()[:16]
        digest = hashlib.pbkdf2_hmac("sha256", f"pw{number}".encode(), salt, self.ops.config["hash_iterations"])
        with self._hash_lock:
            self._hashes[number] = (salt, digest)
        return salt, digest

    def check_password(self, username: str, password: str) -> bool:
        match = USER_RE.match(username)
        if match is None or int(match.group(1)) >= USER_COUNT:
            # still spend the hashing time, so unknown users are not faster than bad passwords
            hashlib.pbkdf2_hmac("sha256", password.encode(), b"unknown-user-salt", self.ops.config["hash_iterations"])
            return False
        salt, expected = self._stored_hash(int(match.group(1)))
        given = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, self.ops.config["hash_iterations"])
        return hmac.compare_digest(given, expected)

    def issue(self, username: str) -> dict[str, Any]:
        ttl = int(self.ops.config["token_ttl_seconds"])
        payload = f"{username}|{int(time.time()) + ttl}|{secrets.token_hex(8)}".encode()
        body = _b64(payload)
        signature = _b64(hmac.new(self._secret, body.encode("ascii"), hashlib.sha256).digest())
        return {"token": f"{body}.{signature}", "token_type": "bearer", "expires_in": ttl}

    def verify(self, token: str) -> tuple[str, int] | None:
        body, _, signature = token.partition(".")
        if not body or not signature:
            return None
        expected = _b64(hmac.new(self._secret, body.encode("ascii", "replace"), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, signature):
            return None
        try:
            username, expires, _nonce = _unb64(body).decode("utf-8").split("|")
            expires_at = int(expires)
        except ValueError:
            return None
        if expires_at <= time.time():
            return None
        return username, expires_at

    def bearer(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    # -- audit trail

    def audit(self, event: str, username: str) -> None:
        if not self.ops.flag("audit_trail"):
            with _AUDIT_LOCK:
                self._game_leak.quiet()
            return
        now = time.time()
        if not self.leaky:
            self._audit_ring.append((event, username, now))
            if self.ops.release == FIXED_RELEASE:  # v3.1.1: the duplicate check over the bounded ring
                self.audit_repeats.inc(sum(1 for _e, user, _t in self._audit_ring if user == username) - 1)
            return
        with _AUDIT_LOCK:
            owed = self._game_leak.due(time.monotonic(), float(self.ops.config["leak_bytes_per_game_hour"]))
        size = int(self.ops.config["leak_bytes_per_request"]) + owed
        if size > 0:
            chunks = [os.urandom(CHUNK_BYTES) for _ in range(size // CHUNK_BYTES)]
            if size % CHUNK_BYTES:
                chunks.append(os.urandom(size % CHUNK_BYTES))
            record = (event, username, now, chunks)
            retained = sys.getsizeof(record) + sys.getsizeof(chunks) + sum(sys.getsizeof(c) for c in chunks)
            with _AUDIT_LOCK:
                _AUDIT_CACHE.append(record)
                _AUDIT_STATS["bytes"] += retained
                _AUDIT_STATS["objects"] += 2 + len(chunks)
        with _AUDIT_LOCK:
            cache = list(_AUDIT_CACHE)
        _scan(cache, username.encode()[:1] or b"\0")

    # -- HTTP

    def unauthorized(self, code: str, message: str) -> JSONResponse:
        return JSONResponse(error_body(code, message), status_code=401, headers={"WWW-Authenticate": "Bearer"})

    def router(self) -> APIRouter:
        router = APIRouter(tags=["auth"])

        @router.post("/login")
        def login(body: LoginIn) -> JSONResponse:
            self.audit("login", body.username)
            if not self.check_password(body.username, body.password):
                self.logins_total.labels("failure").inc()
                return self.unauthorized("invalid_credentials", "wrong username or password")
            self.logins_total.labels("success").inc()
            return JSONResponse(self.issue(body.username))

        @router.get("/verify")
        def verify(request: Request) -> JSONResponse:
            token = self.bearer(request)
            claims = self.verify(token) if token else None
            self.audit("verify", claims[0] if claims else "-")
            if claims is None:
                self.verifications_total.labels("invalid").inc()
                return self.unauthorized("invalid_token", "missing, invalid or expired bearer token")
            self.verifications_total.labels("valid").inc()
            return JSONResponse({"valid": True, "sub": claims[0], "exp": claims[1]})

        @router.post("/refresh")
        def refresh(request: Request) -> JSONResponse:
            token = self.bearer(request)
            claims = self.verify(token) if token else None
            self.audit("refresh", claims[0] if claims else "-")
            if claims is None:
                self.verifications_total.labels("invalid").inc()
                return self.unauthorized("invalid_token", "missing, invalid or expired bearer token")
            self.verifications_total.labels("refreshed").inc()
            return JSONResponse(self.issue(claims[0]))

        return router


def _scan(cache: list[tuple[str, str, float, list[bytes]]], marker: bytes) -> int:
    """The leaky release's duplicate check over the cache (every SCAN_STRIDE-th chunk of every record):
    its cost, and so the latency, grows with what is retained (bounded: the memory limit bounds it)."""
    hits = 0
    for record in cache:
        for chunk in record[3][::SCAN_STRIDE]:
            if chunk[:1] == marker:
                hits += 1
    return hits


def _clear_audit_cache() -> None:
    with _AUDIT_LOCK:
        _AUDIT_CACHE.clear()
        _AUDIT_STATS["bytes"] = 0
        _AUDIT_STATS["objects"] = 0


def retained() -> dict[str, int]:
    """What the leaky audit trail holds right now (bytes, objects, records)."""
    with _AUDIT_LOCK:
        return {**_AUDIT_STATS, "records": len(_AUDIT_CACHE)}


def create_app(
    config: dict[str, Any] | None = None, state_file: Path | None = None, data_dir: Path | None = None
) -> FastAPI:
    return make_app(AuthService(config, state_file, data_dir))


if __name__ == "__main__":
    raise SystemExit(serve(AUTH.name, create_app))
