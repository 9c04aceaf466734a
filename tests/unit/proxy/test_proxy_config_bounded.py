"""The proxy's ``--config`` is read bounded: a device or an oversized file is one InputError, not a hang."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.errors import InputError
from simulator.proxy.runtime import load_config


def test_a_device_is_refused() -> None:
    with pytest.raises(InputError, match="not a regular file"):
        load_config("/dev/zero")


def test_an_oversized_file_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "proxies.json"
    big.write_text("[" + " " * (2 * 1024 * 1024) + "]", encoding="utf-8")
    with pytest.raises(InputError, match="MAX_YAML_BYTES"):
        load_config(big)


def test_a_good_config_loads(tmp_path: Path) -> None:
    good = tmp_path / "proxies.json"
    good.write_text('[{"name": "a", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"}]', encoding="utf-8")
    assert load_config(good)[0]["name"] == "a"
