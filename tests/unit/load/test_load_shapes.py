"""Scenario stages as a load shape (pure code)."""

from __future__ import annotations

import pytest

from simulator.errors import InputError
from simulator.load.shapes import WallStage, shape_tick, to_wall_stages, total_duration


def test_stages_go_from_game_time_to_wall_time():
    stages = to_wall_stages([{"duration": "2m", "users": 5}, {"duration": 30, "users": 20, "spawn_rate": 4}],
                            time_scale=60, default_spawn_rate=10)
    assert stages == [WallStage(2.0, 5, 10.0), WallStage(0.5, 20, 4.0)]
    assert total_duration(stages) == 2.5


def test_stages_from_scenario_models():
    from simulator.scenario.model import Stage

    stages = to_wall_stages([Stage(duration="1h", users=3)], time_scale=720, default_spawn_rate=2)
    assert stages == [WallStage(5.0, 3, 2.0)]


def test_shape_tick_follows_the_stages():
    stages = [WallStage(2.0, 5, 10.0), WallStage(3.0, 20, 4.0)]
    assert shape_tick(stages, 0.0, 99, 1.0) == (5, 10.0)
    assert shape_tick(stages, 1.99, 99, 1.0) == (5, 10.0)
    assert shape_tick(stages, 2.0, 99, 1.0) == (20, 4.0)
    assert shape_tick(stages, 4.9, 99, 1.0) == (20, 4.0)
    assert shape_tick(stages, 5.0, 99, 1.0, end="hold") == (20, 4.0)
    assert shape_tick(stages, 500.0, 99, 1.0, end="hold") == (20, 4.0)
    assert shape_tick(stages, 5.0, 99, 1.0, end="stop") is None


def test_no_stages_is_constant_load():
    assert shape_tick([], 0.0, 7, 3.0) == (7, 3.0)
    assert shape_tick([], 1e6, 7, 3.0, end="stop") == (7, 3.0)


@pytest.mark.parametrize(
    ("stage", "where"),
    [({"duration": "soon", "users": 1}, "load.stages[0].duration"), ({"duration": "1s", "users": -1}, "users"),
     ({"duration": "1s", "users": 1, "spawn_rate": 0}, "spawn_rate")],
)
def test_bad_stages_name_the_field(stage, where):
    with pytest.raises(InputError, match=r"load\.stages\[0\]") as err:
        to_wall_stages([stage], 1.0, 1.0)
    assert where in str(err.value)


def test_time_scale_must_be_positive():
    with pytest.raises(InputError):
        to_wall_stages([], 0, 1.0)
