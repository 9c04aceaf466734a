"""Loaded beside a user's own locustfile (``load.locustfile``; ``locust -f _adopt.py,theirs.py``), which it leaves
as it is: importing the gameday plugin registers its event hooks (the stats stream, the loopback check, the
worker reports), ``ScenarioShape`` gives Locust the scenario's stages (listed first, so it is the shape Locust
uses), and at ``init`` every user class of the run is *adopted*: once a user is made, its client's ``request``
(which ``get``, ``post`` and the rest go through) runs each call as one logical request under the run's retry
policy (``with_retries``: the same loop as the bundled locustfiles' ``call``), counts its end once, refuses an
absolute URL that is not loopback, and gets the scenario's client timeout when the call names none.

A request made with ``catch_response=True`` is one attempt (its outcome is decided in the user's ``with``
block, which a retry cannot re-enter); it is still counted, as every request is, by the ``request`` hook.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlsplit

from locust import FastHttpUser, events
from locust.clients import HttpSession

from simulator.load.config import SAFETY_MARKER
from simulator.load.locustfiles._plugin import (  # noqa: F401 -- ScenarioShape: the run's load shape
    TALLY,
    ScenarioShape,
    _config_if_available,
    _die,
    config,
    user_rng,
    with_retries,
)
from simulator.load.safety import is_loopback_host


def _adopt_client(user: Any) -> None:
    client = getattr(user, "client", None)
    if client is None or getattr(client, "_gameday_adopted", False):
        return
    cfg = config(user.environment)
    rng = user_rng(cfg, user.environment)
    send = client.request
    timed = isinstance(client, HttpSession)  # requests takes a timeout per call; FastHttpUser's is set on its class

    @functools.wraps(send)
    def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        host = urlsplit(str(url)).hostname
        if host is not None and not is_loopback_host(host):
            _die(SAFETY_MARKER, f"the locustfile called {url!r}: gameday sends load to 127.0.0.1 only")
        if timed:
            kwargs.setdefault("timeout", cfg.timeout)
        if kwargs.get("catch_response"):
            response = send(method, url, *args, **kwargs)
            status = int(getattr(response, "status_code", 0) or 0)
            TALLY.record_outcome(200 <= status < 400)
            return response
        context = dict(kwargs.pop("context", None) or {})
        return with_retries(lambda attempt: send(method, url, *args, context={**context, "gd_attempt": attempt},
                                                 **kwargs), cfg, rng)

    client.request = request
    client._gameday_adopted = True


def adopt(user_class: type) -> None:
    """Make every user of ``user_class`` send its requests through gameday's retry loop (once per class)."""
    if user_class.__dict__.get("_gameday_adopted"):
        return
    original = user_class.__init__

    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807 -- the class's own constructor
        original(self, *args, **kwargs)
        _adopt_client(self)

    user_class.__init__ = __init__
    user_class._gameday_adopted = True


@events.init.add_listener
def _adopt_users(environment: Any, **_kw: Any) -> None:
    cfg = _config_if_available(environment)  # a remote worker has it only once the master sends it
    for user_class in environment.user_classes or []:
        adopt(user_class)
        # the scenario's client timeout, unless the class sets its own
        if cfg is not None and issubclass(user_class, FastHttpUser):
            for name in ("network_timeout", "connection_timeout"):
                if not any(name in c.__dict__ for c in user_class.__mro__ if c is not FastHttpUser
                           and issubclass(c, FastHttpUser)):
                    setattr(user_class, name, cfg.timeout)
