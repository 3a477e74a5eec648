"""The model directory: save then load is exact, files are validated, nothing is unpickled."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torch import nn

import zoo
from zoo import artifacts, assemble
from zoo.loaded import load_model_dir
from zoo.plugins import Zoo, use
from zoo.testing import TinyGRU, TinyGRUConfig


@dataclass
class ToyTaskConfig:
    vocab: int = zoo.option(7, "vocabulary size")


@dataclass
class ToyModelConfig(TinyGRUConfig):
    hidden_size: int = zoo.option(8, "hidden units")


class TiedNet(nn.Module):
    """Embedding and output head share one weight tensor (saved once, aliased on load)."""

    def __init__(self, backbone: zoo.Model, vocab: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, backbone.output_size)
        self.backbone = backbone
        self.head = nn.Linear(backbone.output_size, vocab)
        self.head.weight = self.embed.weight

    def forward(self, tokens):
        y, _ = self.backbone(self.embed(tokens))
        return self.head(y)


class ToyTask(zoo.Task):
    def __init__(self, config: ToyTaskConfig) -> None:
        super().__init__(config)
        self.alphabet = ""

    def prepare(self, seed: int) -> None:
        self.alphabet = "abcdefg"[: self.config.vocab]

    def state_dict(self):
        return {"alphabet": self.alphabet}

    def load_state_dict(self, state) -> None:
        self.alphabet = state["alphabet"]

    def build(self, backbone):
        return TiedNet(backbone(ToyModelConfig().hidden_size), self.config.vocab)

    def run(self, net, text: str, options) -> Iterator[str]:
        tokens = torch.tensor([[self.alphabet.index(c) for c in text]])
        yield "".join(self.alphabet[i] for i in net(tokens).argmax(-1)[0].tolist())


class TaskPlugin:
    @zoo.hookimpl
    def register_tasks(self, register):
        register("toy", ToyTask, config=ToyTaskConfig, summary="toy task")


class ModelPlugin:
    @zoo.hookimpl
    def register_models(self, register):
        register("toygru", TinyGRU, config=ToyModelConfig, summary="toy gru")


def make_zoo(with_task: bool = True) -> Zoo:
    z = Zoo()
    if with_task:
        z.add_plugin(TaskPlugin(), "toy", distribution="seqzoo-toy", version="1.0")
    z.add_plugin(ModelPlugin(), "toygru", distribution="seqzoo-toygru", version="2.0")
    return z


@pytest.fixture
def toy_zoo():
    z = make_zoo()
    use(z)
    yield z
    use(None)


@pytest.fixture
def saved(toy_zoo, tmp_path):
    recipe = assemble.recipe("toy", "toygru", ["vocab=5"], zoo=toy_zoo)
    task = assemble.make_task(recipe, toy_zoo)
    task.prepare(0)
    torch.manual_seed(0)
    net = assemble.make_network(recipe, task, toy_zoo)
    path = artifacts.save_model_dir(tmp_path / "model", recipe, task, net, metrics={"accuracy": 0.5},
                                    training={"seed": 0, "steps": 3})
    return path, net


def test_save_then_load_gives_identical_outputs_bit_for_bit(saved, toy_zoo):
    path, net = saved
    loaded = load_model_dir(path, zoo=toy_zoo)
    tokens = torch.randint(5, (3, 11), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(loaded.net(tokens), net.eval()(tokens))
    assert loaded.net.head.weight is loaded.net.embed.weight  # still tied after a strict load
    assert loaded.task.alphabet == "abcde"
    assert loaded.run("abc") == "".join(loaded.task.run(net.eval(), "abc", None))


def test_config_json_records_what_loading_and_installing_need(saved):
    path, _ = saved
    config = json.loads((path / "config.json").read_text())
    assert config["format_version"] == artifacts.FORMAT_VERSION
    assert config["task"] == {"name": "toy", "distribution": "seqzoo-toy", "version": "1.0", "config": {"vocab": 5}}
    assert config["model"]["distribution"] == "seqzoo-toygru"
    assert config["metrics"] == {"accuracy": 0.5} and config["vocabulary"] == {"alphabet": "abcde"}
    assert config["versions"]["torch"] == torch.__version__
    card = (path / "README.md").read_text()
    assert card.startswith("---\n") and "library_name: seqzoo" in card and "- toygru" in card
    assert "accuracy" in card and 'zoo.load("hf://OWNER/NAME")' in card


def test_missing_plugin_names_the_distribution_to_install(saved):
    path, _ = saved
    with pytest.raises(zoo.ZooError, match=r"task 'toy' is not installed.*pip install seqzoo-toy"):
        load_model_dir(path, zoo=make_zoo(with_task=False))


def test_config_is_validated(saved, toy_zoo):
    path, _ = saved
    config = json.loads((path / "config.json").read_text())
    (path / "config.json").write_text(json.dumps({**config, "format_version": 99}))
    with pytest.raises(zoo.ZooError, match="format_version 99 is not supported"):
        load_model_dir(path, zoo=toy_zoo)
    (path / "config.json").write_text("{not json")
    with pytest.raises(zoo.ZooError, match="not valid JSON"):
        artifacts.read_config(path)


def test_weights_are_loaded_strictly(saved, toy_zoo):
    from safetensors.torch import load_file, save_file

    path, _ = saved
    tensors = load_file(path / "model.safetensors")
    tensors.pop(sorted(tensors)[-1])
    save_file(tensors, path / "model.safetensors")
    with pytest.raises(zoo.ZooError, match="weights do not match the configured network"):
        load_model_dir(path, zoo=toy_zoo)


def _rewrite(path: Path, data: bytes) -> Path:
    (path / "model.safetensors").write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda good: b"", "the file is empty"),
        (lambda good: good[: len(good) // 2], "truncated"),
        (lambda good: good[:5], "truncated"),
        (lambda good: b"<!DOCTYPE html><html><body>502 Bad Gateway</body></html>", "HTML error page"),
        (lambda good: good + b"\0" * 7, "unexpected bytes"),
        (lambda good: b"\x10\0\0\0\0\0\0\0" + b"not json at all!", "unreadable header"),
    ],
)
def test_damaged_weights_are_a_clear_error(saved, toy_zoo, damage, message):
    path, _ = saved
    good = (path / "model.safetensors").read_bytes()
    _rewrite(path, damage(good))
    with pytest.raises(zoo.ZooError, match=message):
        load_model_dir(path, zoo=toy_zoo)


def test_a_pickle_is_refused_never_unpickled(saved, toy_zoo, tmp_path):
    path, net = saved
    marker = tmp_path / "unpickled"

    class Bomb:
        def __reduce__(self):
            return (marker.touch, ())

    torch.save({"state": net.state_dict(), "bomb": Bomb()}, path / "model.safetensors")
    with pytest.raises(zoo.ZooError, match="not a safetensors file"):
        load_model_dir(path, zoo=toy_zoo)
    assert not marker.exists()


def test_push_fills_in_the_repository_unless_the_user_wrote_the_card(saved):
    from zoo.card import card_for_push

    path, _ = saved
    config = artifacts.read_config(path)
    ours = card_for_push(path, config, "alice/toy").decode()
    assert 'zoo.load("hf://alice/toy")' in ours and "library_name: seqzoo" in ours
    (path / "README.md").write_text("---\nlicense: mit\n---\n# My own words\n")
    assert card_for_push(path, config, "alice/toy").decode().endswith("# My own words\n")
