"""Customer communication, as a deliberate act: who a status update is for, where a customer message goes.

A status update's ``audience`` is ``internal`` (the team, the incident channel; the default) or ``external``
(customers see it, e.g. on the status page). A customer message goes out on one ``CUSTOMER_CHANNELS``.
"""

from __future__ import annotations

from typing import Literal, get_args

Audience = Literal["internal", "external"]
AUDIENCES: tuple[str, ...] = get_args(Audience)
CustomerChannel = Literal["status_page", "email", "support"]
CUSTOMER_CHANNELS: tuple[str, ...] = get_args(CustomerChannel)
CHANNEL_LABELS: dict[str, str] = {"status_page": "status page", "email": "email", "support": "support"}
