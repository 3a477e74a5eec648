"""Learning-rate schedule, budget parsing and settings resolution (pure functions, no training)."""

from __future__ import annotations

import math

import pytest

from zoo.engine.schedule import Schedule, default_warmup
from zoo.engine.settings import ENGINE_DEFAULTS, parse_duration, resolve
from zoo.errors import ZooError

MIN_LR_RATIO = 0.1  # the engine's default floor (TrainSettings.min_lr_ratio)


def test_the_default_floor_is_a_tenth():
    assert ENGINE_DEFAULTS["min_lr_ratio"] == MIN_LR_RATIO
    assert Schedule(1.0, 0, "cosine", 10, None).min_lr_ratio == MIN_LR_RATIO


def test_warmup_rises_linearly_then_cosine_decays_to_the_floor():
    s = Schedule(lr=1.0, warmup=4, kind="cosine", total_steps=104, total_seconds=None)
    assert [s.rate(i) for i in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert s.rate(4) == pytest.approx(1.0)
    mid = MIN_LR_RATIO + (1 - MIN_LR_RATIO) * 0.5 * (1 + math.cos(math.pi * 0.5))
    assert s.rate(54) == pytest.approx(mid)
    assert s.rate(104) == pytest.approx(MIN_LR_RATIO)
    rates = [s.rate(i) for i in range(4, 105)]
    assert all(a >= b for a, b in zip(rates, rates[1:], strict=False)), "monotone decay"


def test_linear_decay_and_constant():
    lin = Schedule(lr=2.0, warmup=0, kind="linear", total_steps=10, total_seconds=None)
    assert lin.rate(0) == 2.0 and lin.rate(5) == pytest.approx(2.0 * (1 - (1 - MIN_LR_RATIO) * 0.5))
    assert Schedule(2.0, 0, "constant", 10, None).rate(9) == 2.0


@pytest.mark.parametrize("floor", [0.0, 0.03, 1.0])
def test_the_floor_is_where_either_decay_ends(floor):
    for kind in ("cosine", "linear"):
        s = Schedule(lr=2.0, warmup=0, kind=kind, total_steps=100, total_seconds=None, min_lr_ratio=floor)
        assert s.rate(0) == pytest.approx(2.0)
        assert s.rate(100) == pytest.approx(2.0 * floor)
        assert s.rate(50) == pytest.approx(2.0 * (floor + (1 - floor) * 0.5))  # both pass the midpoint there


def test_a_time_budget_decays_with_the_clock_and_the_larger_fraction_wins():
    by_time = Schedule(lr=1.0, warmup=0, kind="linear", total_steps=None, total_seconds=100.0)
    assert by_time.rate(10**6, elapsed=0.0) == 1.0
    assert by_time.rate(0, elapsed=50.0) == pytest.approx(1 - (1 - MIN_LR_RATIO) * 0.5)
    both = Schedule(lr=1.0, warmup=0, kind="linear", total_steps=100, total_seconds=100.0)
    assert both.progress(10, 80.0) == 0.8 and both.progress(90, 10.0) == 0.9


def test_default_warmup():
    assert default_warmup(40) == 4 and default_warmup(10_000) == 100 and default_warmup(None) == 100


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("5m", 300), ("1h", 3600), ("1h30m", 5400),
                                               ("2.5m", 150), ("45", 45), (12, 12.0)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5x", "m5", "0s", "-3", "5m junk"])
def test_bad_durations(text):
    with pytest.raises(ZooError, match="bad time budget"):
        parse_duration(text)


def test_flags_win_over_task_defaults_which_win_over_the_engines():
    task = {"batch_size": 7, "lr": 0.5, "time": "5m", "warmup": 3}
    s = resolve({"lr": 0.1}, task)
    assert (s.batch_size, s.lr, s.warmup, s.time, s.steps) == (7, 0.1, 3, 300.0, None)
    assert s.log_every == ENGINE_DEFAULTS["log_every"]
    given_budget = resolve({"steps": 20}, task)  # a budget from the user replaces the task's whole
    assert (given_budget.steps, given_budget.time) == (20, None)
    assert resolve({}, {}).steps == ENGINE_DEFAULTS["steps"]
    assert resolve({"grad_clip": 0}, task).grad_clip is None
    with pytest.raises(ZooError, match="unknown keys: nonsense"):
        resolve({}, {"nonsense": 1})
