"""Auth-service clients: log in, verify the token several times, refresh it, now and then log in again.

Accounts are ``user<N>``/``pw<N>`` for N in 1..``params.accounts`` (default 100), picked with
the user's seeded randomness. A 401 on verify or refresh drops the token, so the next task
logs in again (what real clients do when a degraded service loses sessions).

Contract: ``POST /login {"username","password"}`` -> token; ``GET /verify`` and
``POST /refresh`` with ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

from typing import Any

from locust import task

from simulator.load.locustfiles._plugin import GamedayUser, ScenarioShape, json_body  # noqa: F401


def token_of(body: dict[str, Any]) -> str | None:
    value = body.get("token") or body.get("access_token")
    return str(value) if value else None


class AuthClient(GamedayUser):
    token: str | None = None

    def on_start(self) -> None:
        self.login()

    def login(self) -> None:
        n = self.rng.randint(1, int(self.cfg.params.get("accounts", 100)))
        response = self.call("POST", "/login", name="POST /login", json={"username": f"user{n}", "password": f"pw{n}"})
        self.token = token_of(json_body(response)) if response.status_code in (200, 201) else None

    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @task(6)
    def verify(self) -> None:
        if self.token is None:
            self.login()
            return
        response = self.call("GET", "/verify", name="GET /verify", headers=self.bearer())
        if response.status_code == 401:
            self.token = None

    @task(1)
    def refresh(self) -> None:
        if self.token is None:
            self.login()
            return
        response = self.call("POST", "/refresh", name="POST /refresh", headers=self.bearer())
        if response.status_code == 401:
            self.token = None
        elif response.status_code in (200, 201):
            self.token = token_of(json_body(response)) or self.token

    @task(1)
    def relogin(self) -> None:
        self.login()
