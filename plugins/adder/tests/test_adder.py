"""The adder task: encoding, the train/held-out split, the metric, training to 100%, `zoo run`."""

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
from zoo_adder.config import AdderConfig
from zoo_adder.data import decode, encode, int_bits, is_held_out, sample_pairs
from zoo_adder.task import AdderTask, exact_match, parse_sum

import zoo
import zoo.testing

ZOO = Path(sys.executable).with_name("zoo")


def numbers(bits: torch.Tensor) -> torch.Tensor:
    """(n, width) bits, least significant first -> (n,) integers (vectorised; the test's own)."""
    return (bits << torch.arange(bits.shape[1])).sum(dim=1)


def make_task(*settings: str) -> AdderTask:
    task = zoo.testing.make_task(zoo.testing.recipe("adder", "gru", list(settings)))
    task.prepare(seed=0)
    return task


@st.composite
def pairs(draw):
    width = draw(st.integers(1, 30))
    a, b = (draw(st.integers(0, 2**width - 1)) for _ in range(2))
    return a, b, width


@given(pairs())
def test_encoding_decodes_back_to_the_sum(pair):
    a, b, width = pair
    inputs, target = encode(torch.tensor([a]), torch.tensor([b]), width)
    assert inputs.shape == (1, width + 1, 2) and target.shape == (1, width + 1)
    assert decode(inputs[0, :, 0]) == a and decode(inputs[0, :, 1]) == b
    assert inputs[0, -1].tolist() == [0, 0]  # the extra step only flushes the carry
    assert decode(target[0]) == a + b


@given(st.integers(0, 2**300), st.integers(0, 400))
def test_big_integers_round_trip_through_bits(value, extra):
    width = value.bit_length() + extra
    assert decode(int_bits(value, width)) == value


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 10_000), st.integers(4, 30), st.sampled_from([0.05, 0.1, 0.5]))
def test_training_pairs_are_never_held_out(seed, step, width, share):
    gen = torch.Generator().manual_seed(step)
    a, b = sample_pairs(256, width, gen, held_out=False, seed=seed, share=share)
    assert len(a) == 256 and int(torch.maximum(a, b).max()) < 2**width
    assert not is_held_out(a, b, seed, share).any()
    assert not is_held_out(b, a, seed, share).any()  # b+a is not held out either
    ha, hb = sample_pairs(256, width, gen, held_out=True, seed=seed, share=share)
    assert is_held_out(ha, hb, seed, share).all()


def test_the_8_bit_split_is_exhaustive_and_disjoint():
    """Every 8-bit pair lies on exactly one side; evaluation uses the whole held-out side and
    training batches never draw from it."""
    task = make_task()
    inputs, target = task.eval_sets[""]
    held = set(zip(numbers(inputs[..., 0]).tolist(), numbers(inputs[..., 1]).tolist(), strict=True))
    every = torch.cartesian_prod(torch.arange(256), torch.arange(256))
    mask = is_held_out(every[:, 0], every[:, 1], seed=0, share=0.1)
    assert held == {tuple(p) for p in every[mask].tolist()}
    assert abs(len(held) / 65536 - 0.1) < 0.01
    assert all((b, a) in held for a, b in held)
    trained = set()
    for step in range(200):
        batch = task.batch(step, 64, zoo.Shard())["input"]
        trained |= set(zip(numbers(batch[..., 0]).tolist(), numbers(batch[..., 1]).tolist(), strict=True))
    assert len(trained) > 5000 and not trained & held


def test_metric_on_hand_made_predictions():
    target = torch.tensor([[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 1]])
    logits = nn.functional.one_hot(target, 2).float()
    logits[1, 2] = torch.tensor([2.0, -1.0])  # row 1 predicts 0 at its last bit: wrong
    logits[3, 0] = torch.tensor([0.3, 0.1])  # row 3 right by a small margin
    assert exact_match(logits, target) == pytest.approx(3 / 4)


class RuleAdder(nn.Module):
    """A hand-written bit-serial adder (optionally without carries) in place of a trained net."""

    def __init__(self, carry: bool) -> None:
        super().__init__()
        self.carry = carry
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, bits, state=None):
        carry, out = torch.zeros(bits.shape[0], dtype=torch.long), []
        for t in range(bits.shape[1]):
            total = bits[:, t, 0] + bits[:, t, 1] + carry
            out.append(total % 2)
            carry = total // 2 if self.carry else carry
        return nn.functional.one_hot(torch.stack(out, 1), 2).float(), None


def test_evaluate_on_rule_based_adders():
    task = make_task()
    perfect = task.evaluate(RuleAdder(carry=True), torch.device("cpu"))
    assert perfect["exact_match"] == perfect["exact_match_16"] == perfect["exact_match_32"] == 1.0
    # Without carries a sum is right exactly when a and b share no set bit.
    no_carry = task.evaluate(RuleAdder(carry=False), torch.device("cpu"))
    for suffix, (inputs, _) in task.eval_sets.items():
        a, b = numbers(inputs[..., 0]), numbers(inputs[..., 1])
        assert no_carry[f"exact_match{suffix}"] == pytest.approx(((a & b) == 0).double().mean().item())
    assert 0 < no_carry["exact_match"] < 0.2


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**200), st.integers(0, 2**200))
def test_run_feeds_numbers_of_any_width_through_the_recurrence(a, b):
    """With a network that does carry, ``run`` answers exactly, however wide the numbers."""
    task = AdderTask(AdderConfig())  # run needs no prepared data
    assert "".join(task.run(RuleAdder(carry=True), f"{a} + {b}", zoo.RunOptions())) == f"{a + b}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-3+4", "negative"),
        ("3+ -4", "negative"),
        ("1.5+2", "not a non-negative integer"),
        ("0x10+1", "not a non-negative integer"),
        ("81+", "two numbers"),
        ("1+2+3", "two numbers"),
        ("", "two numbers"),
        ("٣+4", "not a non-negative integer"),  # an Arabic-Indic digit: not ASCII
        ("9" * 4001 + "+1", "longer than"),
    ],
)
def test_bad_sums_are_refused(text, message):
    with pytest.raises(zoo.ZooError, match=message):
        parse_sum(text)


def test_sum_parsing_and_config_bounds():
    assert parse_sum(" 81 + 113 ") == (81, 113)
    assert parse_sum(f"{2**100}+0") == (2**100, 0)
    for bad in ("bits=3", "bits=31", "held_out=0", "held_out=1.5", "eval_size=0"):
        with pytest.raises(zoo.ZooError):
            make_task(bad)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> zoo.TrainResult:
    out = tmp_path_factory.mktemp("adder") / "run"
    with zoo.testing.one_thread():
        return zoo.train("adder", "rnn", out=out, seed=0)


def test_training_reaches_exact_sums_on_held_out_pairs(trained):
    assert trained.stopped == "target"
    assert trained.metrics["exact_match"] == 1.0
    assert trained.steps <= 400  # ~100-200 with the task's defaults; the budget is 2000


@pytest.mark.parametrize("model", ["lstm", "gru"])
def test_the_gated_models_reach_the_target_too(model, tmp_path):
    result = zoo.train("adder", model, out=tmp_path / "run", seed=0)
    assert result.stopped == "target" and result.metrics["exact_match"] == 1.0


@pytest.mark.slow  # two `zoo` processes, each importing torch (~3 s each on a busy machine)
def test_zoo_run_adds(trained):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [str(ZOO), "run", str(trained.run_dir)]
    done = subprocess.run([*cmd, "81+113"], capture_output=True, text=True, timeout=60, env=env)
    assert (done.returncode, done.stdout) == (0, "194\n"), done.stderr
    bad = subprocess.run([*cmd, "--", "-81+113"], capture_output=True, text=True, timeout=60, env=env)
    assert bad.returncode == 2 and bad.stderr == "error: negative numbers are not supported: -81\n"


def test_run_takes_numbers_wider_than_the_training_width(trained):
    loaded = zoo.load(str(trained.run_dir))
    assert loaded.run("255+255") == "510\n"
    assert loaded.run("0+0") == "0\n"
    wide = loaded.run(f"{2**70 + 12345}+{2**69}")  # 71 bits: an answer, right or not
    assert wide.strip().isdigit()
