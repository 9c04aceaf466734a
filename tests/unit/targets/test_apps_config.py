from __future__ import annotations

import pytest

from simulator.errors import InputError
from simulator.targets.apps import APPS
from simulator.targets.apps.common.config import (
    ConfigError,
    deep_merge,
    expand_dotted,
    merge_overrides,
    validate_config,
)

GATEWAY = APPS["gateway"]
PAYMENTS = APPS["payments"]


def test_expand_dotted_nests_and_merges_siblings() -> None:
    assert expand_dotted({"tiers.major.rate": 2, "tiers.major.burst": 3, "pool_size": 4}) == {
        "tiers": {"major": {"rate": 2, "burst": 3}},
        "pool_size": 4,
    }
    assert expand_dotted({"tiers": {"major": {"rate": 1}}, "tiers.regular.rate": 5}) == {
        "tiers": {"major": {"rate": 1}, "regular": {"rate": 5}}
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"a..b": 1}, "empty part"),
        ({"": 1}, "non-empty string"),
        ({"a": 1, "a.b": 2}, "conflicts with 'a'"),
    ],
)
def test_expand_dotted_rejects_ambiguous_keys(values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        expand_dotted(values)


def test_deep_merge_merges_nested_and_none_removes() -> None:
    base = {"tiers": {"major": {"rate": 200, "burst": 400}, "regular": {"rate": 20, "burst": 40}}, "x": 1}
    merged = deep_merge(base, {"tiers": {"major": {"rate": 2}, "regular": None}})
    assert merged == {"tiers": {"major": {"rate": 2, "burst": 400}}, "x": 1}
    assert base["tiers"]["major"]["rate"] == 200  # inputs untouched


def test_merge_overrides_keeps_removal_markers() -> None:
    acc = merge_overrides({"customers": {"k1": None}}, {"customers": {"k2": {"tier": "major"}}})
    assert acc == {"customers": {"k1": None, "k2": {"tier": "major"}}}
    assert deep_merge({"customers": {"k1": {"tier": "regular"}}}, acc) == {"customers": {"k2": {"tier": "major"}}}


def test_validate_normalises_and_accepts_defaults() -> None:
    config = validate_config(GATEWAY, GATEWAY.default_config())
    assert config["tiers"]["major"] == {"rate": 200.0, "burst": 400.0}
    config = validate_config(PAYMENTS, {**PAYMENTS.default_config(), "pool_timeout": 1})
    assert config["pool_timeout"] == 1.0
    assert isinstance(config["pool_timeout"], float)


@pytest.mark.parametrize(
    ("app", "change", "message"),
    [
        ("payments", {"pool_size": "10"}, "'pool_size' must be an integer, got '10'"),
        ("payments", {"pool_size": True}, "'pool_size' must be an integer"),
        ("payments", {"pool_size": 2.5}, "'pool_size' must be an integer"),
        ("payments", {"pool_size": 0}, "'pool_size' must be >= 1, got 0"),
        ("payments", {"pool_timeout": 0}, "'pool_timeout' must be > 0"),
        ("payments", {"pool_timeout": float("nan")}, "must be a number"),
        ("payments", {"db_url": "postgresql://db.example.com/pay"}, "must point at 127.0.0.1"),
        ("payments", {"db_url": "mysql://127.0.0.1/pay"}, "sqlite:// or postgresql://"),
        ("gateway", {"upstream_url": "ftp://127.0.0.1:21"}, "must be an http URL"),
        ("gateway", {"upstream_url": "http://0.0.0.0:8000"}, "must point at 127.0.0.1"),
        ("gateway", {"tiers": {"major": {"rate": "fast", "burst": 4}}}, "'tiers.major.rate' must be a number"),
        ("gateway", {"tiers": {"gold": {"rate": 5}}}, "'tiers.gold.burst' is missing"),
        ("gateway", {"tiers": {"major": {"rate": 5, "burst": 5, "ceiling": 1}}}, "'tiers.major.ceiling'"),
        ("gateway", {"tiers": {"major": 7}}, "'tiers.major' must be an object"),
        ("auth", {"leak_bytes_per_request": -1}, "must be >= 0"),
    ],
)
def test_validate_rejects_bad_values_with_the_key_path(app: str, change: dict, message: str) -> None:
    info = APPS[app]
    with pytest.raises(ConfigError) as caught:
        validate_config(
            info, deep_merge(info.default_config(), change) if app == "gateway" else {**info.default_config(), **change}
        )
    assert message in str(caught.value)
    assert isinstance(caught.value, InputError)  # exit code 2 / HTTP 422


def test_validate_rejects_unknown_and_missing_keys() -> None:
    with pytest.raises(ConfigError, match="unknown config key 'pool_sise' for payments"):
        validate_config(PAYMENTS, {**PAYMENTS.default_config(), "pool_sise": 1})
    partial = PAYMENTS.default_config()
    del partial["db_url"]
    with pytest.raises(ConfigError, match="'db_url' is missing"):
        validate_config(PAYMENTS, partial)


def test_loopback_urls_are_accepted() -> None:
    for url in ("http://127.0.0.1:8001", "http://localhost:9/x", "https://127.0.0.1"):
        validate_config(GATEWAY, {**GATEWAY.default_config(), "upstream_url": url})
    for url in ("", "sqlite:////tmp/x.db", "postgresql+psycopg://u:p@127.0.0.1:5432/pay", "postgresql:///pay"):
        validate_config(PAYMENTS, {**PAYMENTS.default_config(), "db_url": url})
