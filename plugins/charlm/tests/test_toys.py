"""The lecture's toys: a 7-character text trains on all of itself, loss on the last character
only, and an RNN whose outputs are the scores (no Linear head)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import zoo
import zoo.testing

ZOO = str(Path(sys.executable).with_name("zoo"))
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def test_hihello_trains_with_no_other_flag_and_says_how(tmp_path):
    (tmp_path / "hihello.txt").write_text("hihello", encoding="utf-8")
    train = subprocess.run([ZOO, "train", "charlm", "rnn", "--set", "data=hihello.txt", "--out", "run"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=300, env=ENV)
    assert train.returncode == 0, train.stderr
    assert ("the text has 7 characters, too short for 64-character windows plus 10% validation: training "
            "on all of it in windows of 6 and evaluating on the training text") in train.stderr
    run = subprocess.run([ZOO, "run", "run", "--prompt", "h", "--length", "6", "--temperature", "0.01"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120, env=ENV)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "hihello"


def make_task(tmp_path: Path, *settings: str):
    (tmp_path / "t.txt").write_text("hello world, " * 40, encoding="utf-8")
    recipe = zoo.testing.recipe("charlm", "rnn", [f"data={tmp_path / 't.txt'}", "window=8", *settings])
    task = zoo.testing.make_task(recipe)
    task.prepare(0)
    return recipe, task


def test_loss_last_counts_only_the_character_after_each_window(tmp_path):
    recipe, task = make_task(tmp_path, "loss=last", "hidden_size=8", "batching=random")
    torch.manual_seed(0)
    net = zoo.testing.make_network(recipe, task)
    batch = task.batch(0, 4, zoo.Shard())
    out = task.loss(net, batch, None)
    logits, _ = net(batch["x"])
    expected = torch.nn.functional.cross_entropy(logits[:, -1], batch["y"][:, -1])
    assert out.tokens == 4
    torch.testing.assert_close(out.loss, expected)


def test_head_none_uses_the_rnn_outputs_as_scores(tmp_path):
    _, task = make_task(tmp_path)
    vocab = len(task.chars)
    recipe, task = make_task(tmp_path, "head=none", "input=onehot", f"hidden_size={vocab}")
    net = zoo.testing.make_network(recipe, task)
    assert not any(isinstance(m, torch.nn.Linear) for m in net.modules())
    ids = torch.tensor([[0, 1, 2]])
    logits, _ = net(ids)
    hidden, _ = net.backbone(torch.nn.functional.one_hot(ids, vocab).float())
    assert torch.equal(logits, hidden)
    recipe, task = make_task(tmp_path, "head=none", "hidden_size=5")
    with pytest.raises(zoo.ZooError, match=f"must equal the vocabulary size; add --set hidden_size={vocab}"):
        zoo.testing.make_network(recipe, task)
