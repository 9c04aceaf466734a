"""A scoring ``--config`` file is read like every other input: bounded, one located line on a bad one."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.errors import ValidationFailed
from simulator.scenario.yamlpos import MAX_YAML_BYTES
from simulator.scoring.config import load_config


def test_a_device_is_refused_not_read_forever() -> None:
    with pytest.raises(ValidationFailed, match="not a regular file"):
        load_config("/dev/zero")


def test_a_file_over_the_cap_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * (MAX_YAML_BYTES + 10) + "\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as info:
        load_config(big)
    assert str(big) in str(info.value)


def test_an_alias_bomb_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    bomb.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValidationFailed):
        load_config(bomb)


def test_a_good_file_still_merges(tmp_path: Path) -> None:
    good = tmp_path / "scoring.yaml"
    good.write_text("time_scale_factor: 2.0\n", encoding="utf-8")
    assert load_config(good).time_scale_factor == 2.0
