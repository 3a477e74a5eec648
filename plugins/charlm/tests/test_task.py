"""Training side of charlm: vocabulary, split, stream batching, loss, stateful evaluation."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from zoo_charlm import task as task_module

import zoo
from zoo import Shard, ZooError

from .conftest import TEXT


def ids(array: np.ndarray) -> torch.Tensor:
    """The task keeps ids as (memory-mapped) numpy arrays of the smallest type; compare as int64."""
    return torch.from_numpy(np.asarray(array, dtype=np.int64))


def test_vocabulary_and_split(build):
    task, _ = build()
    assert task.chars == "".join(sorted(set(TEXT)))
    n_val = int(len(TEXT) * 0.1)
    decoded = "".join(task.chars[i] for i in np.concatenate([task.train_ids, task.val_ids]).tolist())
    assert decoded == TEXT
    assert len(task.val_ids) == n_val  # the last 10%
    task20, _ = build("val_fraction=0.2")
    assert len(task20.val_ids) == int(len(TEXT) * 0.2)
    assert task.state_dict() == {"chars": task.chars}


def test_text_too_short_for_a_held_out_split_trains_and_evaluates_on_all_of_it(build, tmp_path, capsys):
    short = tmp_path / "short.txt"
    short.write_text("just a few words\n", encoding="utf-8")
    task, _ = build(path=short)
    assert task.toy and len(task.train_ids) == len(task.val_ids) == 17 and task.window == 16
    assert "evaluating on the training text (no held-out split)" in capsys.readouterr().err
    one = tmp_path / "one.txt"
    one.write_text("x", encoding="utf-8")
    with pytest.raises(ZooError, match="the text has 1 character; a language model needs at least 2"):
        build(path=one)


def test_streams_are_contiguous_and_batches_are_pure(build):
    task, _ = build()
    batch_size, window = 4, 16
    per_stream = len(task.train_ids) // batch_size
    windows = task.steps_per_epoch(batch_size)
    assert windows == (per_stream - 1) // window
    whole = Shard()
    for step in (0, 1, windows - 1):
        b = task.batch(step, batch_size, whole)
        for row in range(batch_size):
            start = row * per_stream + step * window
            assert torch.equal(b["x"][row], ids(task.train_ids[start : start + window]))
            assert torch.equal(b["y"][row], ids(task.train_ids[start + 1 : start + window + 1]))
    # consecutive steps continue each stream, so a carried state is the true context
    a, b = task.batch(3, batch_size, whole), task.batch(4, batch_size, whole)
    assert torch.equal(b["x"][:, 0], a["y"][:, -1])
    # a pure function of the step: the next epoch repeats it
    assert torch.equal(task.batch(windows + 3, batch_size, whole)["x"], a["x"])
    # data-parallel shards are disjoint stream subsets that make up the global batch
    shards = [task.batch(3, batch_size, Shard(r, 2))["x"] for r in range(2)]
    assert torch.equal(torch.cat(shards), a["x"])


def test_too_many_streams_for_the_text_is_a_clear_error(build):
    task, _ = build()
    with pytest.raises(ZooError, match="lower --batch-size"):
        task.batch(0, len(task.train_ids), Shard())


def test_random_windows_are_reproducible_and_stateless(build):
    task, net = build("batching=random", seed=3)
    one, again = task.batch(5, 8, Shard()), task.batch(5, 8, Shard())
    assert torch.equal(one["x"], again["x"])
    assert not torch.equal(task.batch(6, 8, Shard())["x"], one["x"])
    text = ids(task.train_ids)
    for x, y in zip(one["x"], one["y"], strict=True):  # each row is a real window of the text
        start = next(i for i in range(len(text) - 16) if torch.equal(text[i : i + 16], x))
        assert torch.equal(text[start + 1 : start + 17], y)
    assert task.loss(net, one, None).state is None


def test_loss_is_cross_entropy_and_returns_the_state(build):
    task, net = build()
    b = task.batch(0, 4, Shard())
    out = task.loss(net, b, None)
    logits, _ = net(b["x"])
    expected = F.cross_entropy(logits.reshape(-1, len(task.chars)), b["y"].reshape(-1))
    assert out.loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert out.tokens == 4 * 16
    h, c = out.state
    assert h.shape == (1, 4, 24)


@pytest.mark.parametrize("input_kind", ["embedding", "onehot"])
def test_a_few_training_steps_lower_the_loss(build, input_kind):
    """Truncated BPTT as the engine runs it: carry the detached state from step to step."""
    task, net = build(f"input={input_kind}", hidden=32)
    before = task.evaluate(net, torch.device("cpu"))["val_loss"]
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    state, losses = None, []
    for step in range(60):
        out = task.loss(net, task.batch(step, 4, Shard()), state)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        state = tuple(s.detach() for s in out.state)
        losses.append(out.loss.item())
    after = task.evaluate(net, torch.device("cpu"))["val_loss"]
    assert math.log(len(task.chars)) == pytest.approx(before, abs=0.3)  # untrained: near uniform
    assert sum(losses[-5:]) / 5 < 0.7 * sum(losses[:5]) / 5
    assert after < 0.7 * before


def test_evaluation_counts_every_validation_character_once(build):
    """With a constant-output network the loss follows from character counts alone."""
    task, net = build()
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.copy_(torch.randn(len(task.chars)))
    log_p = torch.log_softmax(net.head.bias, dim=0)
    targets = ids(task.val_ids[1:])
    expected = -log_p[targets].mean().item()
    metrics = task.evaluate(net, torch.device("cpu"))
    assert metrics["val_loss"] == pytest.approx(expected, rel=1e-5)
    assert metrics["val_bpc"] == pytest.approx(expected / math.log(2), rel=1e-5)


@pytest.mark.parametrize("streams", [1, 5])
def test_evaluation_is_stateful_within_each_stream(build, monkeypatch, streams):
    """Equals running each contiguous piece of the validation text whole, from a zero state."""
    task, net = build()
    monkeypatch.setattr(task_module, "EVAL_STREAMS", streams)
    monkeypatch.setattr(task_module, "EVAL_CHUNK", 7)  # many chunks: the state must be carried
    val = ids(task.val_ids)
    per = (len(val) - 1) // streams
    bounds = [i * per for i in range(streams)] + [len(val) - 1]
    total = 0.0
    with torch.no_grad():
        for lo, hi in zip(bounds, bounds[1:], strict=False):
            logits, _ = net(val[lo:hi][None])
            total += F.cross_entropy(logits[0], val[lo + 1 : hi + 1], reduction="sum").item()
    got = task.evaluate(net, torch.device("cpu"))["val_loss"]
    assert got == pytest.approx(total / (len(val) - 1), rel=1e-5)


def test_vocabulary_round_trips_through_state_dict(build):
    task, net = build()
    fresh = task_module.CharLMTask(task.config)
    fresh.load_state_dict(task.state_dict())
    assert fresh.chars == task.chars
    with pytest.raises(ZooError, match="vocabulary"):
        fresh.load_state_dict({})


def test_streams_restart_from_zero_state_staggered(build):
    """Every ``reset_every`` windows a stream starts over from a zero state, a few rows per step,
    so the model also learns the zero-state start that sampling begins from."""
    task, net = build("reset_every=3")
    b = task.batch(7, 6, Shard())
    assert b["keep"].tolist() == [float((7 + row) % 3 != 0) for row in range(6)]
    assert torch.equal(task.batch(7, 6, Shard(1, 2))["keep"], b["keep"][3:])
    _, state = net(task.batch(6, 6, Shard())["x"])
    out = task.loss(net, b, state)
    h, c = state
    keep = b["keep"][None, :, None]
    logits, _ = net(b["x"], (h * keep, c * keep))
    expected = F.cross_entropy(logits.reshape(-1, len(task.chars)), b["y"].reshape(-1))
    assert out.loss.item() == pytest.approx(expected.item(), rel=1e-6)
    assert out.loss.item() != pytest.approx(task.loss(net, {"x": b["x"], "y": b["y"]}, state).loss.item())
    never, _ = build("reset_every=0")
    assert "keep" not in never.batch(7, 6, Shard())


def constant_net(task, net):
    """Make ``net`` predict the same distribution everywhere; return its log-probabilities."""
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.copy_(torch.randn(len(task.chars), generator=torch.Generator().manual_seed(1)))
    return torch.log_softmax(net.head.bias, dim=0)


def test_enwik8_split_is_90_5_5_with_a_test_split_reported_in_bits(build, tmp_path):
    path = tmp_path / "gen.txt"
    text = "".join(chr(97 + (i * 7) % 23) for i in range(2000))
    path.write_text(text, encoding="utf-8")
    task, net = build("split=enwik8", path=path)
    assert (len(task.train_ids), len(task.val_ids), len(task.test_ids)) == (1800, 100, 100)
    whole = np.concatenate([task.train_ids, task.val_ids, task.test_ids])
    assert "".join(task.chars[i] for i in whole.tolist()) == text  # in order, nothing lost
    log_p = constant_net(task, net)
    metrics = task.evaluate(net, torch.device("cpu"))
    expected = -log_p[ids(task.test_ids[1:])].mean().item()
    assert metrics["test_loss"] == pytest.approx(expected, rel=1e-5)
    assert metrics["test_bpc"] == pytest.approx(expected / math.log(2), rel=1e-5)
    assert {"val_loss", "val_bpc"} <= set(metrics)


def test_bounded_evaluation_scores_16_evenly_spaced_pieces(build):
    task, net = build("val_chars=32")
    log_p = constant_net(task, net)
    val = ids(task.val_ids)
    per = (len(val) - 1) // 16
    targets = torch.cat([val[s * per + 1 : s * per + 3] for s in range(16)])  # 2 = 32 / 16 each
    bounded = task.evaluate_bounded(net, torch.device("cpu"))
    assert bounded["val_chars"] == 32
    assert bounded["val_loss"] == pytest.approx(-log_p[targets].mean().item(), rel=1e-5)
    full = task.evaluate(net, torch.device("cpu"))
    assert full["val_loss"] == pytest.approx(-log_p[val[1:]].mean().item(), rel=1e-5)
    assert "val_chars" not in full


def test_a_split_below_the_cap_is_always_evaluated_whole(build):
    task, net = build()  # default cap 250,000 characters; this validation text is ~220
    assert task.evaluate_bounded(net, torch.device("cpu")) is None
    task0, net0 = build("val_chars=0")  # 0: no cap at all
    assert task0.evaluate_bounded(net0, torch.device("cpu")) is None


def test_training_evaluates_bounded_then_the_whole_split_at_the_end(test_zoo, corpus, tmp_path):
    result = zoo.train("charlm", "tinylstm", settings=[f"data={corpus}", "window=16", "val_chars=32"],
                       steps=4, eval_every=4, batch_size=4, out=tmp_path / "run")
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in records if r.get("kind") == "eval"]
    assert [r["step"] for r in evals] == [4, 4]
    assert evals[0]["val_chars"] == 32  # the periodic one, bounded
    assert "val_chars" not in evals[1] and "val_chars" not in result.metrics  # then the full split
    assert result.metrics["val_loss"] == evals[1]["val_loss"]


def test_byte_units_model_every_byte_and_sample_utf8_text(build, tmp_path):
    """units=bytes (enwik8's convention): 90/5/5 of the bytes, and sampled bytes decode as text."""
    path = tmp_path / "mixed.txt"
    text = "".join(("é€" if i % 7 == 0 else chr(97 + i % 5)) for i in range(400))
    path.write_text(text, encoding="utf-8")
    raw = text.encode("utf-8")
    task, net = build("split=enwik8", "units=bytes", path=path)
    assert task.chars == bytes(sorted(set(raw))).decode("latin-1")
    n = len(raw)
    assert (len(task.train_ids), len(task.val_ids), len(task.test_ids)) == (int(n * 0.9), int(n * 0.05),
                                                                             n - int(n * 0.9) - int(n * 0.05))
    whole = np.concatenate([task.train_ids, task.val_ids, task.test_ids])
    assert bytes(ord(task.chars[i]) for i in whole.tolist()) == raw
    assert task.encode("é").tolist() == [task.chars.index("\xc3"), task.chars.index("\xa9")]
    with pytest.raises(ZooError, match=r"byte\(s\) 0x7a of the input are not in the model's vocabulary"):
        task.encode("z")
    out = "".join(task.run(net, "é", zoo.RunOptions(length=50, seed=0)))
    assert out.startswith("é") and isinstance(out, str)


# -- what lies between the backbone and the scores -------------------------------------------------
@pytest.mark.parametrize("settings", [(), ("output_norm=true",), ("head=tied",), ("io_dropout=0.3",),
                                      ("head=tied", "output_norm=true", "io_dropout=0.2")])
def test_forward_step_and_inspection_score_alike(build, settings):
    """Training (forward), sampling (step) and zoo inspect (Task.steps) all reach the scores
    through one path, so a variant of the head cannot score differently in one of them."""
    task, net = build(*settings)
    net.eval()
    text = "it was the age"
    ids = task.encode(text)[None]
    with torch.no_grad():
        whole, _ = net(ids)
        state, stepped = None, []
        for t in range(ids.shape[1]):
            logits, state = net.step(ids[:, t], state)
            stepped.append(logits)
        inspected = task.steps(net, text).logits
    torch.testing.assert_close(torch.stack(stepped, dim=1), whole, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(inspected, whole[0], atol=1e-5, rtol=1e-5)


def test_output_norm_normalises_what_the_head_reads(build):
    task, net = build()  # on by default
    assert build("output_norm=false")[1].norm.__class__ is torch.nn.Identity
    assert build("head=none", "input=onehot", hidden=len(task.chars))[1].norm.__class__ is torch.nn.Identity
    net.eval()
    ids = task.encode("it was")[None]
    with torch.no_grad():
        y, _ = net.backbone(net.features(ids), None)
        expected = net.head(F.layer_norm(y, y.shape[-1:]))  # LayerNorm starts as the plain normalisation
        torch.testing.assert_close(net(ids)[0], expected)


def test_a_tied_head_scores_with_the_embedding_matrix(build):
    task, net = build("head=tied", "embedding_size=8")
    vocab = len(task.chars)
    assert net.head.weight.shape == (8, 24)  # hidden 24 -> embedding 8: no (vocab x hidden) matrix
    ids = task.encode("it was")[None]
    with torch.no_grad():
        before = net(ids)[0]
        net.embed.weight[:, 0] += 1.0  # one coordinate of every symbol's row moves...
        y, _ = net.backbone(net.features(ids), None)
        expected = net.head(net.norm(y)) @ net.embed.weight.T + net.head_bias
        torch.testing.assert_close(net(ids)[0], expected)  # ...and the scores read the same matrix
    assert not torch.allclose(before, expected)
    assert expected.shape[-1] == vocab
    task, net = build("head=tied")  # a tied head starts near uniform, as the untied one does
    assert task.evaluate(net, torch.device("cpu"))["val_loss"] == pytest.approx(math.log(vocab), abs=0.3)


def test_io_dropout_acts_only_while_training(build):
    task, net = build("io_dropout=0.5")
    ids = task.encode("it was the best")[None]
    net.train()
    assert not torch.equal(net(ids)[0], net(ids)[0])
    net.eval()
    assert torch.equal(net(ids)[0], net(ids)[0])


@pytest.mark.parametrize(("settings", "message"), [
    (("head=tied", "input=onehot"), "head=tied shares the embedding matrix: it needs input=embedding"),
    (("io_dropout=1.0",), "io_dropout must be in"),
])
def test_head_settings_that_cannot_work_are_refused(build, settings, message):
    with pytest.raises(ZooError, match=message):
        build(*settings)


def test_a_run_saved_before_output_norm_existed_loads_as_it_was_trained(test_zoo, corpus, tmp_path):
    run = tmp_path / "run"
    zoo.train("charlm", "tinylstm", settings=[f"data={corpus}", "window=16", "output_norm=false"],
              steps=2, batch_size=4, out=run)
    config = json.loads((run / "config.json").read_text())
    del config["task"]["config"]["output_norm"]  # what runs written before the setting hold
    (run / "config.json").write_text(json.dumps(config))
    loaded = zoo.load(run)
    assert loaded.task.config.output_norm is False
    assert isinstance(loaded.net.norm, torch.nn.Identity)
    assert "".join(loaded.run("it was", length=5, seed=0))  # the weights fit the network built
