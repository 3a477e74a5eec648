"""Sampling: one network step per new character, reproducible, and clear about bad prompts."""

from __future__ import annotations

import pytest
import torch
from zoo_charlm.task import generate

from zoo import RunOptions, ZooError
from zoo.testing import load_model_dir, recipe, save_model_dir


def test_step_by_step_logits_equal_full_sequence_logits(build):
    task, net = build("input=embedding", hidden=16)
    ids = task.encode("It was the age of wisdom")[None].repeat(3, 1)
    with torch.no_grad():
        full, _ = net(ids)
        state, steps = None, []
        for t in range(ids.shape[1]):
            logits, state = net.step(ids[:, t], state)
            steps.append(logits)
    torch.testing.assert_close(torch.stack(steps, dim=1), full, rtol=1e-5, atol=1e-6)


def test_each_new_character_costs_one_step_never_a_rerun(build):
    task, net = build()
    seen: list[int] = []
    net.backbone.register_forward_hook(lambda mod, args, out: seen.append(args[0].shape[1]))
    mkldnn = torch.backends.mkldnn.enabled
    out = "".join(task.run(net, "It was", RunOptions(length=12, seed=0)))
    assert torch.backends.mkldnn.enabled == mkldnn  # the per-step kernel choice does not leak
    assert len(out) == len("It was") + 12
    assert seen == [len("It was")] + [1] * 11  # the prompt once, then one step per character


def test_same_seed_same_text(build):
    task, net = build()
    a = "".join(task.run(net, "it was", RunOptions(length=80, seed=7, temperature=0.8)))
    b = "".join(task.run(net, "it was", RunOptions(length=80, seed=7, temperature=0.8)))
    c = "".join(task.run(net, "it was", RunOptions(length=80, seed=8, temperature=0.8)))
    assert a == b
    assert a != c
    assert a.startswith("it was") and set(a) <= set(task.chars)


def test_top_k_one_is_greedy_decoding(build):
    task, net = build()
    out = "".join(task.run(net, "the ", RunOptions(length=20, top_k=1, seed=1)))
    text, state = "the ", None
    with torch.no_grad():
        logits, state = net(task.encode(text)[None])
        logits = logits[:, -1]
        for _ in range(20):
            nxt = int(logits.argmax(-1))
            text += task.chars[nxt]
            logits, state = net.step(torch.tensor([nxt]), state)
    assert out == text


def test_top_k_limits_the_choice(build):
    task, net = build()
    with torch.no_grad():
        logits, _ = net(task.encode("the")[None])
    allowed = set(torch.topk(logits[0, -1], 3).indices.tolist())
    firsts = {
        int(next(generate(net, task.encode("the")[None], 1, 2.0, 3, torch.Generator().manual_seed(s)))[0])
        for s in range(40)
    }
    assert firsts <= allowed and len(firsts) > 1


def test_many_streams_sample_independently(build):
    task, net = build()
    prompt = task.encode("it")[None].repeat(8, 1)
    rows = list(generate(net, prompt, 30, 1.5, None, torch.Generator().manual_seed(0)))
    ids = torch.stack(rows, dim=1)
    assert ids.shape == (8, 30)
    assert len({tuple(r) for r in ids.tolist()}) > 1


def test_prompt_character_outside_the_vocabulary_is_named(build):
    task, net = build()
    with pytest.raises(ZooError, match=r"character 'Z' is not in the model's vocabulary"):
        list(task.run(net, "Zebra", RunOptions(length=5)))
    with pytest.raises(ZooError, match=r"characters 'Z', 'q' are not in"):
        list(task.run(net, "Zebra quagga", RunOptions(length=5)))


def test_empty_prompt_starts_a_new_paragraph(build):
    task, net = build()
    out = "".join(task.run(net, "", RunOptions(length=25, seed=0)))
    assert len(out) == 25


def test_saved_model_samples_the_same_text(build, test_zoo, tmp_path):
    """The vocabulary travels in config.json: a reloaded model samples exactly the same text."""
    task, net = build("window=16")
    r = recipe("charlm", "tinylstm", [f"data={task.config.data}", "window=16"], model_values={"hidden_size": 24})
    save_model_dir(tmp_path / "run", r, task, net)
    loaded = load_model_dir(tmp_path / "run")
    assert loaded.task.chars == task.chars
    original = "".join(task.run(net.eval(), "it was", RunOptions(length=60, seed=3)))
    assert loaded.run("it was", length=60, seed=3) == original
