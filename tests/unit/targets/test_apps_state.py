from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.errors import Conflict, InputError
from simulator.targets.apps import APPS
from simulator.targets.apps.common.config import ConfigError
from simulator.targets.apps.common.state import NothingToRollBack, OpsChange, OpsState

PAYMENTS = APPS["payments"]
GATEWAY = APPS["gateway"]
BAD = {"tiers.major.rate": 2, "tiers.major.burst": 2}


def test_fresh_state_snapshot_has_the_contract_keys() -> None:
    state = OpsState(PAYMENTS).snapshot()
    assert set(state) == {
        "app",
        "release",
        "previous_release",
        "releases",
        "flags",
        "config",
        "config_version",
        "last_good_config_version",
        "history",
    }
    assert state["release"] == "v2.3.1"
    assert state["previous_release"] is None
    assert state["releases"] == ["v2.3.1", "v2.4.0-leaky", "v2.4.1"]
    assert state["flags"] == {"fallback_processor": False}
    assert state["config"]["pool_size"] == 10
    assert state["config_version"] == state["last_good_config_version"] == 1
    assert state["history"][0]["action"] == "start"
    assert state["history"][0]["at"].endswith("Z")


def test_base_config_is_layered_over_defaults() -> None:
    ops = OpsState(GATEWAY, base_config={"upstream_url": "http://127.0.0.1:9", "tiers.regular.rate": 5})
    assert ops.config["upstream_url"] == "http://127.0.0.1:9"
    assert ops.config["tiers"]["regular"] == {"rate": 5.0, "burst": 40.0}
    with pytest.raises(ConfigError, match="^--config: unknown config key 'nope'"):
        OpsState(GATEWAY, base_config={"nope": 1})


def test_deploy_and_rollback_release() -> None:
    ops = OpsState(PAYMENTS)
    changes: list[OpsChange] = []
    ops.subscribe(changes.append)
    state = ops.deploy("v2.4.0-leaky")
    assert (state["release"], state["previous_release"]) == ("v2.4.0-leaky", "v2.3.1")
    assert changes[-1].release_changed and not changes[-1].redeploy
    state = ops.rollback("release")
    assert (state["release"], state["previous_release"]) == ("v2.3.1", None)
    with pytest.raises(NothingToRollBack, match="no previous release"):
        ops.rollback("release")
    ops.deploy("v2.3.1")  # redeploy of the running release: resources restart, no new release
    assert changes[-1].redeploy
    assert ops.previous_release is None
    with pytest.raises(InputError, match="unknown version 'v9' for payments"):
        ops.deploy("v9")
    actions = [h["action"] for h in ops.snapshot()["history"]]
    assert actions == ["start", "deploy", "rollback", "deploy"]


def test_config_rollback_goes_to_the_last_good_version() -> None:
    ops = OpsState(GATEWAY)
    ops.push_config({"tiers.regular.rate": 30})  # v2, good
    state = ops.push_config(BAD, good=False)  # v3, bad
    assert state["config"]["tiers"]["major"] == {"rate": 2.0, "burst": 2.0}
    assert (state["config_version"], state["last_good_config_version"]) == (3, 2)
    ops.push_config({"upstream_timeout": 1.0}, good=False)  # v4, bad on top of bad
    state = ops.rollback("config")
    assert (state["config_version"], state["last_good_config_version"]) == (2, 2)
    assert state["config"]["tiers"]["major"] == {"rate": 200.0, "burst": 400.0}
    assert state["config"]["tiers"]["regular"]["rate"] == 30.0
    assert state["config"]["upstream_timeout"] == 5.0
    state = ops.rollback("config")  # a good version rolls back to the good one before it
    assert state["config_version"] == 1
    with pytest.raises(NothingToRollBack, match="no earlier good version"):
        ops.rollback("config")
    state = ops.push_config({"upstream_timeout": 2.0})
    assert state["config_version"] == 5  # version numbers are never reused


def test_null_rollback_undoes_the_most_recent_change() -> None:
    ops = OpsState(PAYMENTS)
    with pytest.raises(NothingToRollBack):
        ops.rollback(None)
    ops.deploy("v2.4.0-leaky")
    ops.push_config({"pool_size": 20})
    state = ops.rollback(None)
    assert state["config_version"] == 1
    assert state["release"] == "v2.4.0-leaky"
    state = ops.rollback(None)
    assert state["release"] == "v2.3.1"
    with pytest.raises(Conflict):
        ops.rollback(None)


def test_flags_and_config_errors() -> None:
    ops = OpsState(PAYMENTS)
    assert ops.set_flag("fallback_processor", True)["flags"] == {"fallback_processor": True}
    with pytest.raises(InputError, match="unknown flag 'fallback' for payments"):
        ops.set_flag("fallback", True)
    with pytest.raises(ConfigError, match="unknown config key 'pool'"):
        ops.push_config({"pool": 3})
    with pytest.raises(ConfigError, match="at least one key"):
        ops.push_config({})
    with pytest.raises(ConfigError, match="'pool_size' cannot be removed"):
        ops.push_config({"pool_size": None})
    assert ops.config_version == 1  # nothing half-applied


def test_gateway_customer_tiers_must_exist_and_entries_can_be_removed() -> None:
    from simulator.targets.apps.gateway import check_customer_tiers

    ops = OpsState(GATEWAY, check=check_customer_tiers)
    with pytest.raises(ConfigError, match="names unknown tier 'gold'"):
        ops.push_config({"customers.gk_new": {"name": "new", "tier": "gold"}})
    state = ops.push_config({"customers.gk_new": {"name": "new", "tier": "major"}, "customers.gk_regular_001": None})
    assert state["config"]["customers"]["gk_new"] == {"name": "new", "tier": "major"}
    assert "gk_regular_001" not in state["config"]["customers"]


def test_state_file_round_trip_and_new_base_config(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "gateway.json"
    ops = OpsState(GATEWAY, base_config={"upstream_url": "http://127.0.0.1:1"}, state_file=path)
    ops.deploy("v1.8.0")
    ops.set_flag("enforce_rate_limits", False)
    ops.push_config(BAD, good=False)
    saved = json.loads(path.read_text())
    assert saved["app"] == "gateway"
    assert not list(path.parent.glob(".gateway.json.*"))  # atomic writes leave no temp files

    # a restart with a new upstream URL keeps what operators pushed on top of it
    again = OpsState(GATEWAY, base_config={"upstream_url": "http://127.0.0.1:2"}, state_file=path)
    assert again.config["upstream_url"] == "http://127.0.0.1:2"
    assert again.config["tiers"]["major"] == {"rate": 2.0, "burst": 2.0}
    assert again.flags == {"enforce_rate_limits": False}
    assert (again.config_version, again.last_good_config_version) == (2, 1)
    assert again.rollback("config")["config"]["tiers"]["major"]["rate"] == 200.0
    assert [h["action"] for h in again.snapshot()["history"]].count("start") == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{oops", "is unreadable"),
        (json.dumps({"app": "auth"}), "belongs to app 'auth'"),
        (
            json.dumps({"app": "payments", "release_trail": ["v0"], "config_versions": {}, "config_trail": []}),
            "unknown release 'v0'",
        ),
    ],
)
def test_bad_state_files_are_input_errors_with_the_fix(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "payments.json"
    path.write_text(content)
    with pytest.raises(InputError) as caught:
        OpsState(PAYMENTS, state_file=path)
    assert message in str(caught.value)
    assert "delete it to start payments fresh" in str(caught.value)
