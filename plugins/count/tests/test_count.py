"""The count task: pattern data, the free-running metric, training to the target, `zoo run`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from zoo_count.task import CountTask, continuation_accuracy, parse_tokens, random_pattern, windows

import zoo
import zoo.testing

ZOO = Path(sys.executable).with_name("zoo")

patterns = st.lists(st.integers(0, 9), min_size=2, max_size=12)


def make_task(*settings: str) -> CountTask:
    task = zoo.testing.make_task(zoo.testing.recipe("count", "gru", list(settings)))
    task.prepare(seed=0)
    return task


@given(patterns, st.integers(0, 50), st.integers(1, 40))
def test_windows_follow_the_endlessly_repeated_pattern(pattern, phase, size):
    rows = windows(torch.tensor(pattern), torch.tensor([phase]), size)[0].tolist()
    assert rows == [pattern[(phase + t) % len(pattern)] for t in range(size)]


@settings(max_examples=25, deadline=None)
@given(patterns, st.integers(0, 10_000), st.integers(1, 8))
def test_training_batches_repeat_with_the_period_and_shift_by_one(pattern, step, batch_size):
    task = make_task("pattern=" + ",".join(map(str, pattern)))
    batch = task.batch(step, batch_size, zoo.Shard())
    period = len(pattern)
    seq = torch.cat([batch["input"], batch["target"][:, -1:]], dim=1)
    assert seq.shape == (batch_size, task.config.periods * period + 1)
    assert torch.equal(batch["input"][:, 1:], batch["target"][:, :-1])
    assert torch.equal(seq[:, period:], seq[:, :-period])  # repeats with the pattern's period
    for row in seq.tolist():  # and every row is the pattern itself, from some phase
        assert any(row[:period] == pattern[k:] + pattern[:k] for k in range(period))
    assert torch.equal(task.batch(step, batch_size, zoo.Shard())["input"], batch["input"])  # pure in step


@given(st.integers(2, 60), st.integers(2, 20), st.integers(0, 2**31))
def test_random_patterns_are_reproducible_and_in_range(length, symbols, seed):
    pattern = random_pattern(length, symbols, seed)
    assert pattern == random_pattern(length, symbols, seed)
    assert len(pattern) == length and all(0 <= t < symbols for t in pattern)


def test_metric_on_hand_made_predictions():
    generated = torch.tensor([[0, 1, 2, 0], [1, 1, 1, 1], [2, 0, 1, 2]])
    expected = torch.tensor([[0, 1, 2, 0], [1, 2, 0, 1], [2, 0, 1, 0]])
    # right tokens: 4 + 2 (the first and last 1) + 3 = 9 of 12; rows right throughout: the first
    assert continuation_accuracy(generated, expected) == pytest.approx({"accuracy": 9 / 12, "exact_match": 1 / 3})


class RuleNet(nn.Module):
    """Predicts ``rule(token)`` after every token: a stand-in network with known answers."""

    def __init__(self, rule, vocab: int) -> None:
        super().__init__()
        self.rule, self.vocab = rule, vocab
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, tokens, state=None):
        return nn.functional.one_hot(self.rule(tokens), self.vocab).float(), state


def test_evaluate_generates_freely_from_every_phase():
    task = make_task("pattern=0,1,2")
    device = torch.device("cpu")
    assert task.evaluate(RuleNet(lambda t: (t + 1) % 3, 3), device)["accuracy"] == 1.0
    # Always saying 0: a third of the 9 generated tokens from each phase are 0; no row is right.
    zeros = task.evaluate(RuleNet(torch.zeros_like, 3), device)
    assert zeros["accuracy"] == pytest.approx(1 / 3) and zeros["exact_match"] == 0.0
    # Counting down (t - 1) generates 2 1 0 2 1 0... after a prime ending in 0, which matches
    # 1 2 0 1 2 0 only on every third token: wrong tokens feed back, the rows never recover.
    down = task.evaluate(RuleNet(lambda t: (t - 1) % 3, 3), device)
    assert down["accuracy"] == pytest.approx(1 / 3)


def test_pattern_setting_and_bad_config():
    assert make_task("pattern=0,1,2,1").pattern == [0, 1, 2, 1]
    assert make_task("length=7", "seed=3").pattern == random_pattern(7, 10, 3)
    for bad in ("pattern=3", "pattern=0,256", "length=1", "symbols=1", "pattern=a"):
        with pytest.raises(zoo.ZooError):
            make_task(bad)


@pytest.mark.parametrize("text", ["", "  ", "0 x", "0 3", "-1", "1.0", "²"])
def test_bad_prime_is_refused(text):
    with pytest.raises(zoo.ZooError):
        parse_tokens(text, 3)
    assert parse_tokens("0, 1 2", 3) == [0, 1, 2]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> zoo.TrainResult:
    out = tmp_path_factory.mktemp("count") / "run"
    with zoo.testing.one_thread():
        return zoo.train("count", "rnn", settings=["pattern=0,1,2,1"], out=out, seed=0)


def test_training_reaches_the_target_and_stops(trained):
    assert trained.stopped == "target"
    assert trained.metrics["accuracy"] == 1.0


@pytest.mark.parametrize("model", ["lstm", "gru"])
def test_the_gated_models_reach_the_target_too(model, tmp_path):
    result = zoo.train("count", model, settings=["pattern=0,1,2,1"], out=tmp_path / "run", seed=0)
    assert result.stopped == "target" and result.metrics["accuracy"] == 1.0


def test_zoo_run_prints_the_continuation(trained):
    # The prime "0 1" fixes the phase (0 occurs once in 0 1 2 1), so the continuation is determined.
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [str(ZOO), "run", str(trained.run_dir), "0 1", "--length", "6"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "2 1 0 1 2 1\n"


def test_run_defaults_to_three_periods_and_refuses_unknown_tokens(trained):
    loaded = zoo.load(str(trained.run_dir))
    assert loaded.run("1 0").split() == [str(t) for t in [1, 2, 1, 0] * 3]
    with pytest.raises(zoo.ZooError, match="bad token '5'"):
        loaded.run("0 5")


def test_any_symbols_make_a_pattern_and_old_integer_configs_still_load(tmp_path):
    task = make_task("pattern=h,e,l,l,o")
    assert task.symbols == ["e", "h", "l", "o"] and task.pattern == [1, 0, 2, 2, 3]
    assert parse_tokens("h e", task.symbols) == [1, 0] == parse_tokens("he", task.symbols)
    with pytest.raises(zoo.ZooError, match="bad token 'x': tokens are one of e h l o"):
        parse_tokens("h x", task.symbols)
    result = zoo.train("count", "gru", settings=["pattern=h,e,l,l,o"], out=tmp_path / "run", seed=0)
    assert result.stopped == "target"
    assert zoo.load(str(result.run_dir)).run("h e", length=8) == "l l o h e l l o\n"
    # A config.json written before symbols existed (integer pattern, no 'symbols') still loads.
    old = make_task("pattern=0,1,2,1")
    old.load_state_dict({"pattern": [0, 1, 2, 1], "vocab": 3})
    assert old.symbols == ["0", "1", "2"] and "symbols" not in old.state_dict()
