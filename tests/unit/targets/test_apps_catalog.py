from __future__ import annotations

import subprocess
import sys

from simulator.targets.apps import APPS, DEFAULT_CUSTOMERS
from simulator.targets.apps.common.config import validate_config


def test_catalog_lists_the_three_apps() -> None:
    assert set(APPS) == {"payments", "gateway", "auth"}
    assert (APPS["payments"].tier, APPS["gateway"].tier, APPS["auth"].tier) == ("critical", "important", "critical")
    assert APPS["payments"].versions == ("v2.3.1", "v2.4.0-leaky", "v2.4.1")
    assert APPS["auth"].good_release == "v3.0.4"
    assert not APPS["auth"].release("v3.1.0-leaky").good
    assert APPS["gateway"].dependencies[0].upstream == "payments"
    assert APPS["gateway"].dependencies[0].config_key == "upstream_url"
    assert APPS["payments"].config["pool_timeout"].default == 2.0
    for info in APPS.values():
        assert info.module == f"simulator.targets.apps.{info.name}"
        validate_config(info, info.default_config())  # the defaults are valid


def test_default_customers_have_a_few_major_and_many_regular() -> None:
    tiers = [entry["tier"] for entry in DEFAULT_CUSTOMERS.values()]
    assert 3 <= tiers.count("major") <= 10
    assert tiers.count("regular") >= 20
    assert APPS["gateway"].default_config()["customers"] == DEFAULT_CUSTOMERS
    assert APPS["gateway"].default_config() is not APPS["gateway"].default_config()


def test_catalog_import_is_light() -> None:
    code = (
        "import sys, simulator.targets.apps, simulator.targets.apps.common.config;"
        "heavy = ('fastapi', 'sqlalchemy', 'uvicorn', 'prometheus_client', 'pydantic');"
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_each_leaky_release_has_a_fixed_release_after_it() -> None:
    for app, leaky, fixed in (("payments", "v2.4.0-leaky", "v2.4.1"), ("auth", "v3.1.0-leaky", "v3.1.1")):
        info = APPS[app]
        release = info.release(fixed)
        assert release is not None and release.good and release.fixes == leaky
        assert info.versions.index(fixed) > info.versions.index(leaky)
        assert info.good_release != fixed  # targets still start on the stable release
