"""One request per task against one path (``params.path``, default ``/``; ``params.method``,
default ``GET``).

The trivial journey: for checks of the load machinery itself and the throughput benchmark.
Note that the HTTP client (geventhttpclient) itself re-sends an idempotent request (GET) once
when the server closes a kept-alive connection under it, as most HTTP clients do; such a
resend is not an attempt of the retry policy and is not counted. Use ``POST`` to see every
dropped connection as a ``conn_errors`` attempt.
"""

from __future__ import annotations

from locust import task

from simulator.load.locustfiles._plugin import GamedayUser, ScenarioShape  # noqa: F401 -- the shape


class PingUser(GamedayUser):
    @task
    def ping(self) -> None:
        path = str(self.cfg.params.get("path", "/"))
        method = str(self.cfg.params.get("method", "GET")).upper()
        self.call(method, path, name=f"{method} {path}")
