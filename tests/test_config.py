"""Config dataclasses: defaults and help, typed parsing of name=value text, routing of settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest

from zoo import option
from zoo.config import build, build_saved, fields_of, split_settings, to_dict
from zoo.errors import ZooError


@dataclass
class NetConfig:
    hidden_size: int = option(128, "units per layer")
    dropout: float = option(0.0, "dropout")
    bias: bool = option(True, "learn biases")
    cell: Literal["tanh", "relu"] = option("tanh", "nonlinearity")
    forget_bias: float | None = option(1.0, "initial forget bias; none keeps torch's")
    sizes: tuple[int, ...] = option((2, 3), "widths")
    mode: str = option("a", "a mode", choices=("a", "b"))


@dataclass
class DataConfig:
    corpus: str = option("builtin", "text to learn")
    dropout: float = option(0.1, "input dropout")  # same name as NetConfig.dropout on purpose
    seq_len: int = option(64, "characters per sequence")


def test_fields_describe_type_default_help_and_choices() -> None:
    info = {f.name: f for f in fields_of(NetConfig)}
    assert [f.name for f in fields_of(NetConfig)] == [
        "hidden_size", "dropout", "bias", "cell", "forget_bias", "sizes", "mode"]
    assert info["hidden_size"].as_dict() == {
        "name": "hidden_size", "type": "int", "default": 128, "help": "units per layer", "choices": None}
    assert info["cell"].type_name == "tanh|relu" and info["cell"].choices == ("tanh", "relu")
    assert info["forget_bias"].type_name == "float | None"
    assert info["sizes"].type_name == "list[int]" and info["sizes"].default == (2, 3)
    assert info["mode"].choices == ("a", "b")


def test_text_is_parsed_to_typed_values() -> None:
    cfg = build(NetConfig, {
        "hidden_size": "256", "dropout": "0.25", "bias": "off", "cell": "relu",
        "forget_bias": "none", "sizes": "4,5 6", "mode": "b",
    })
    assert cfg == NetConfig(256, 0.25, False, "relu", None, (4, 5, 6), "b")
    assert to_dict(cfg)["sizes"] == [4, 5, 6]
    assert build(NetConfig, to_dict(cfg)) == cfg  # config.json round trip (lists back to tuples)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"hidden_size": "12.5"}, "bad value '12.5' for 'hidden_size' (int): expected an integer"),
        ({"bias": "maybe"}, "bad value 'maybe' for 'bias' (bool): expected true or false"),
        ({"cell": "gelu"}, "bad value 'gelu' for 'cell' (tanh|relu): expected one of tanh, relu"),
        ({"mode": "c"}, "bad value 'c' for 'mode': expected one of a, b"),
        ({"mode": 3}, "bad value 3 for 'mode': expected one of a, b"),
        ({"hiden_size": "3"}, "unknown setting 'hiden_size' for model 'lstm' (did you mean 'hidden_size'?)"),
    ],
)
def test_bad_values_are_one_line_errors_naming_the_field(values: dict[str, object], message: str) -> None:
    with pytest.raises(ZooError) as info:
        build(NetConfig, values, owner="model 'lstm'")
    assert str(info.value).startswith(message)


def test_settings_route_to_their_owner_and_must_be_qualified_when_ambiguous() -> None:
    groups = {"task": DataConfig, "model": NetConfig}
    routed = split_settings(["seq-len=32", "hidden_size=64", "model.dropout=0.5", "task.dropout=0"], groups)
    assert routed == {"task": {"seq_len": "32", "dropout": "0"}, "model": {"hidden_size": "64", "dropout": "0.5"}}
    with pytest.raises(ZooError, match=r"^setting 'dropout' is ambiguous: write task.dropout or model.dropout$"):
        split_settings(["dropout=0.2"], groups)
    with pytest.raises(ZooError, match=r"^unknown setting 'hiden_size' \(did you mean 'hidden_size'\?\)"):
        split_settings(["hiden_size=3"], groups)
    with pytest.raises(ZooError, match=r"^bad setting 'hidden_size': expected name=value$"):
        split_settings(["hidden_size"], groups)
    with pytest.raises(ZooError, match=r"^bad setting 'optim.lr=1': prefix must be one of task, model$"):
        split_settings(["optim.lr=1"], groups)


@dataclass
class GrownConfig:
    hidden_size: int = option(128, "units per layer")
    norm: bool = option(True, "a layer added later, on by default", absent=False)


def test_a_saved_config_that_predates_a_field_keeps_what_it_built() -> None:
    assert build_saved(GrownConfig, {"hidden_size": 8}).norm is False  # written before 'norm' existed
    assert build_saved(GrownConfig, {"hidden_size": 8, "norm": True}).norm is True
    assert build(GrownConfig, {"hidden_size": 8}).norm is True  # a new run takes today's default
    assert build_saved(NetConfig, {}).hidden_size == 128  # fields without absent= take the default
    with pytest.raises(ZooError, match="unknown setting 'width'"):
        build_saved(GrownConfig, {"width": 3})
