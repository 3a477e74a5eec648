"""The task through the real engine and CLI: antonyms to 100%, ``zoo run``, bad input, batches."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from zoo_seq2seq.config import Seq2SeqConfig
from zoo_seq2seq.data import ANTONYMS
from zoo_seq2seq.task import Seq2SeqTask

import zoo
from zoo.testing import TinyGRU, TinyGRUConfig, current, one_thread


def zoo_script() -> str:
    script = Path(sys.executable).with_name("zoo")
    return str(script) if script.exists() else shutil.which("zoo") or "zoo"


@pytest.fixture(scope="module")
def antonyms_run(tmp_path_factory: pytest.TempPathFactory) -> zoo.TrainResult:
    """A real GRU trained on the six pairs until held-out (= training) exact-match reaches 1.

    Evaluating only every 100 steps lets it train past the first greedy-perfect step: a model
    stopped right there can still score a shorter wrong answer higher under beam search
    (``man`` -> ``wmen``, summed log-probabilities have no length normalisation)."""
    if "gru" not in current().models:
        pytest.skip("the seqzoo-rnn plugin (model 'gru') is not installed")
    with one_thread():  # module-scoped: the suite's per-test one-thread fixture does not cover it
        return zoo.train(
            "seq2seq", "gru", settings=["data=antonyms", "hidden_size=32", "embedding_size=16"],
            steps=600, eval_every=100, lr=0.01, out=tmp_path_factory.mktemp("run") / "antonyms",
        )


@pytest.mark.slow
def test_antonyms_train_to_exact_match_one_and_answer(antonyms_run) -> None:
    assert antonyms_run.stopped == "target"
    assert antonyms_run.metrics["exact_match"] == 1.0 and antonyms_run.metrics["token_accuracy"] == 1.0
    loaded = zoo.load(str(antonyms_run.run_dir))
    for source, target in ANTONYMS:
        assert loaded.run(source) == target
        assert loaded.run(source, beam=4) == target
    assert loaded.config["vocabulary"]["max_source"] == 5
    assert set(loaded.config["vocabulary"]["chars"]) >= set("abcdefghijklmnopqrstuvwxyz")  # the exercise's a-z
    assert loaded.run("mans").isalpha()  # a word outside the six pairs is read, not refused


@pytest.mark.slow
def test_zoo_run_cli_answers_and_refuses_bad_input(antonyms_run) -> None:
    run_dir = str(antonyms_run.run_dir)
    ok = subprocess.run([zoo_script(), "run", run_dir, "king", "--beam", "3"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == "queen\n"
    bad = subprocess.run([zoo_script(), "run", run_dir, "k1ng"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip() == "error: input has characters outside the model's vocabulary: '1'"


@pytest.mark.slow
def test_bad_input_is_a_clear_error(antonyms_run) -> None:
    loaded = zoo.load(str(antonyms_run.run_dir))
    with pytest.raises(zoo.ZooError, match="input is 6 characters long; this model reads at most 5"):
        loaded.run("kingdo")
    with pytest.raises(zoo.ZooError, match="empty input"):
        loaded.run("")
    with pytest.raises(zoo.ZooError, match="beam must be at least 1"):
        loaded.run("king", beam=0)
    assert len(loaded.run("king", max_length=2)) <= 2


def test_batches_are_pure_functions_of_the_step_and_shard() -> None:
    task = Seq2SeqTask(Seq2SeqConfig(data="reverse", examples=100, held_out=10))
    task.prepare(seed=3)
    first = task.batch(7, 8, zoo.Shard())
    again = Seq2SeqTask(task.config)
    again.prepare(seed=3)
    assert all(torch.equal(first[k], again.batch(7, 8, zoo.Shard())[k]) for k in first)
    halves = [task.batch(7, 8, zoo.Shard(rank, 2)) for rank in (0, 1)]
    sources = [tuple(row[row != 0].tolist()) for half in halves for row in half["source"]]
    assert sources == [tuple(row[row != 0].tolist()) for row in first["source"]]
    # one epoch (100 pairs, batches of 10) visits every training pair exactly once
    seen = [tuple(row[row != 0].tolist()) for step in range(10) for row in task.batch(step, 10, zoo.Shard())["source"]]
    assert len(set(seen)) == 100


def test_state_dict_restores_the_vocabulary_without_data() -> None:
    task = Seq2SeqTask(Seq2SeqConfig(data="addition"))
    task.prepare(seed=0)
    restored = Seq2SeqTask(Seq2SeqConfig(data="/no/such/file.tsv"))
    restored.load_state_dict(task.state_dict())
    assert restored.vocab.chars == list("+0123456789")
    assert (restored.max_source, restored.max_target) == (7, 4)
    with pytest.raises(zoo.ZooError, match="malformed"):
        restored.load_state_dict({"chars": ["a"]})


def test_bounded_evaluation_scores_evenly_spaced_held_out_pairs(tmp_path) -> None:
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"w{i}\t{str(i)[::-1]}\n" for i in range(400)), encoding="utf-8")
    task = Seq2SeqTask(Seq2SeqConfig(data=str(path), eval_pairs=5))
    task.prepare(seed=0)
    torch.manual_seed(0)
    net = task.build(lambda n: TinyGRU(n, TinyGRUConfig(hidden_size=8)))
    held = task.pairs.held_out
    assert len(held) == 40
    bounded = task.evaluate_bounded(net, torch.device("cpu"))
    picked = [held[i] for i in (0, 10, 20, 29, 39)]  # linspace(0, 39, 5), rounded
    assert bounded == {**task._evaluate(net, torch.device("cpu"), picked), "eval_pairs": 5.0}
    full = task.evaluate(net, torch.device("cpu"))
    assert "eval_pairs" not in full
    task.config.eval_pairs = 2000
    assert task.evaluate_bounded(net, torch.device("cpu")) is None  # 40 pairs: all of them
