"""The modern models train on every first-party task through the real engine (small, short runs).

Each run is checked against a level an untrained network cannot reach, computed from the task:
chance for count and adder, the uniform distribution's loss for charlm and seq2seq.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import zoo
from zoo.testing import current

pytestmark = pytest.mark.slow  # a few seconds each: real training through zoo.train

TINY_TRANSFORMER = ["d_model=32", "layers=2", "heads=2", "memory=16"]
TINY_MIN = ["hidden_size=32", "num_layers=2"]


def _settings(model: str) -> list[str]:
    return TINY_TRANSFORMER if model == "transformer" else TINY_MIN


def _vocab_size(run_dir: Path) -> int:
    return len(json.loads((run_dir / "config.json").read_text())["vocabulary"]["chars"])


@pytest.mark.parametrize("model", ["transformer", "mingru", "minlstm"])
def test_charlm_learns_better_than_uniform_with_state_carried_across_windows(model, tmp_path) -> None:
    from zoo_charlm.data import builtin_text

    text = tmp_path / "text.txt"  # 30k characters of the built-in corpus: a short evaluation
    text.write_text(builtin_text()[:30_000], encoding="utf-8")
    result = zoo.train("charlm", model, settings=[f"data={text}", "window=32", *_settings(model)], steps=120,
                       batch_size=16, eval_every=120, out=tmp_path / "run")
    assert result.metrics["val_loss"] < 0.75 * math.log(_vocab_size(result.run_dir))  # uniform: log(vocab), about 4.3


@pytest.mark.parametrize("model", ["transformer", "mingru", "minlstm"])
def test_count_continues_the_pattern(model, tmp_path) -> None:
    result = zoo.train("count", model, settings=_settings(model), steps=300, out=tmp_path / "run")
    assert result.metrics["accuracy"] == 1.0


def test_the_transformer_adds_without_carrying_state(tmp_path) -> None:
    assert not current().task("adder").load().uses_state
    result = zoo.train("adder", "transformer", settings=TINY_TRANSFORMER, steps=250, eval_every=250,
                       out=tmp_path / "run")
    assert result.metrics["bit_accuracy"] > 0.85  # chance: 0.5


def test_the_transformer_encodes_and_decodes_seq2seq(tmp_path) -> None:
    result = zoo.train("seq2seq", "transformer", settings=["examples=2000", *TINY_TRANSFORMER], steps=150,
                       eval_every=150, out=tmp_path / "run")
    assert result.metrics["val_loss"] < 0.6 * math.log(_vocab_size(result.run_dir))


def test_the_transformer_classifies_names(tmp_path) -> None:
    result = zoo.train("names", "transformer", settings=TINY_TRANSFORMER, steps=200, eval_every=200,
                       out=tmp_path / "run")
    classes = len(json.loads((result.run_dir / "config.json").read_text())["vocabulary"]["classes"])
    assert result.metrics["accuracy"] > 2.0 / classes  # balanced held-out set: chance is 1/classes


def test_a_resumed_charlm_run_carries_the_memory_state_bit_for_bit(tmp_path) -> None:
    """The carried state holds a bool mask and an int64 position counter besides the keys and
    values: checkpointing and restarting streams (reset_every) must keep them all."""
    from safetensors.torch import load_file
    from zoo_charlm.data import builtin_text

    text = tmp_path / "text.txt"
    text.write_text(builtin_text()[:20_000], encoding="utf-8")
    settings = [f"data={text}", "window=16", "d_model=16", "heads=2", "layers=1", "memory=8", "reset_every=3"]
    whole = zoo.train("charlm", "transformer", settings=settings, steps=12, batch_size=4, eval_every=100,
                      out=tmp_path / "whole")
    zoo.train("charlm", "transformer", settings=settings, steps=6, batch_size=4, eval_every=100,
              out=tmp_path / "split")
    split = zoo.train("charlm", "transformer", steps=12, resume=tmp_path / "split")
    a, b = load_file(str(whole.run_dir / "model.safetensors")), load_file(str(split.run_dir / "model.safetensors"))
    assert a.keys() == b.keys() and all(bool((a[k] == b[k]).all()) for k in a)
