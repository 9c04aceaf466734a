"""Property-based fuzzing of every endpoint from our own OpenAPI spec: no 5xx, responses as documented.

Runs against a real server (uvicorn on loopback) seeded with incidents, so generated requests reach
deep into the service, not only the 404 path. Bounded to stay well under a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import utils as cu
from schemathesis.checks import not_a_server_error, response_schema_conformance

from simulator.tracker.embedded import start_tracker
from tests.helpers.tracker_samples import alertmanager_alert, alertmanager_webhook

pytestmark = pytest.mark.slow
schemathesis.experimental.OPEN_API_3_1.enable()  # FastAPI serves OpenAPI 3.1


def _many_more(self):  # pragma: no cover - exercised only with the newer Hypothesis
    """hypothesis-jsonschema 0.23 calls ``many.more()``, which newer Hypothesis removed (it became an
    iterator used inside ``with``). Drive the new protocol from the old call so object bodies can be
    generated at all; remove once hypothesis is pinned below that change or hypothesis-jsonschema adapts."""
    iterator = getattr(self, "_gameday_iter", None)
    if iterator is None:
        self.__enter__()
        iterator = self._gameday_iter = iter(self)
    try:
        next(iterator)
        return True
    except StopIteration:
        self.__exit__(None, None, None)
        return False


if not hasattr(cu.many, "more"):
    cu.many.more = _many_more

REFS: list[str] = []
ITEMS: list[int] = []


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    handle = start_tracker(tmp_path_factory.mktemp("fuzz") / "fuzz.db")
    c = handle.client(actor="fuzz")
    for service in ("payment-api", "auth", "checkout"):
        ref = c.send_alertmanager(alertmanager_webhook([alertmanager_alert("HighErrorRate", service)]))
        REFS.extend(ref["new_incidents"])
    c.declare(REFS[1], "P2")
    c.declare(REFS[2], "P1")
    c.resolve(REFS[2])
    ITEMS.append(c.add_action_item(REFS[2], "Pool alert", owner="bob", due_date="2030-01-01")["id"])
    schema = schemathesis.from_uri(handle.url + "/api/v1/openapi.json",
                                   data_generation_methods=[schemathesis.DataGenerationMethod.positive,
                                                            schemathesis.DataGenerationMethod.negative])
    yield schema
    handle.stop()


schema = schemathesis.from_pytest_fixture("api_schema").exclude(path="/api/v1/stream")  # infinite by design


@schema.hook
def before_generate_path_parameters(context, strategy):
    def known(params):
        if not params:
            return params
        params = dict(params)
        if "ref" in params and REFS:
            params["ref"] = REFS[len(str(params["ref"])) % len(REFS)]
        if "item_id" in params and ITEMS:
            params["item_id"] = ITEMS[0]
        return params

    return st.one_of(strategy, strategy.map(known))


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    response = case.call(timeout=20)
    case.validate_response(response, checks=(not_a_server_error,))
    if 200 <= response.status_code < 300 or response.status_code in (404, 409):
        case.validate_response(response, checks=(response_schema_conformance,))
