"""registry.toml: parsing, validation errors that name the file and the key, user registries."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from zoo.catalogue import builtin_catalogue, read_catalogue
from zoo.errors import ZooError
from zoo.plugins import Zoo

REV = "0123456789abcdef0123456789abcdef01234567"
SHA_A = "a" * 64
SHA_B = "b" * 64

ENTRY = f"""
[pretrained.charlm-lstm-tiny]
task = "charlm"
model = "lstm"
source = "hf://seqzoo/charlm-lstm-tiny@{REV}"
summary = "a tiny char LSTM"
dataset = "built-in corpus"
license = "MIT"
tolerance = 0.05
command = "zoo train charlm lstm --steps 300"
metrics = {{ bpc = 2.1, accuracy = 0.4 }}
files = {{ "model.safetensors" = "{SHA_A}", "config.json" = "{SHA_B}" }}
"""

BUNDLED = f"""
[pretrained.adder-gru]
task = "adder"
model = "gru"
source = "pkg://zoo_adder/pretrained/adder-gru"
summary = "adds binary numbers"
dataset = "generated"
license = "MIT"
metrics = {{ accuracy = 1 }}
files = {{ "model.safetensors" = "{SHA_A}", "config.json" = "{SHA_B}" }}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text("schema_version = 1\n" + text, encoding="utf-8")
    return path


def test_a_valid_file_parses_into_entries(tmp_path: Path) -> None:
    path = write(tmp_path, "reg.toml", ENTRY + BUNDLED)
    hub, bundled = read_catalogue(path)
    assert (hub.name, hub.task, hub.model, hub.dataset, hub.license) == (
        "charlm-lstm-tiny", "charlm", "lstm", "built-in corpus", "MIT")
    assert hub.metrics == {"bpc": 2.1, "accuracy": 0.4} and hub.tolerance == 0.05
    assert hub.files == {"model.safetensors": SHA_A, "config.json": SHA_B}
    assert hub.is_hub and hub.hub_location() == ("seqzoo/charlm-lstm-tiny", REV)
    assert hub.origin == str(path) and hub.command.startswith("zoo train")
    assert not bundled.is_hub and bundled.package_location() == ("zoo_adder", "pretrained/adder-gru")
    assert bundled.metrics == {"accuracy": 1.0} and bundled.tolerance == 0.0


def mutate(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


BAD_CASES = [
    # (how the entry is broken, the key the error must name, words of the message)
    (lambda t: mutate(t, 'license = "MIT"\n', ""), "pretrained.charlm-lstm-tiny.license", "missing"),
    (lambda t: mutate(t, 'license = "MIT"', 'licence = "MIT"'), "pretrained.charlm-lstm-tiny.licence",
     "unknown key (did you mean 'license'?)"),
    (lambda t: mutate(t, 'task = "charlm"', "task = 3"), "pretrained.charlm-lstm-tiny.task", "non-empty string"),
    (lambda t: mutate(t, f"@{REV}", "@main"), "pretrained.charlm-lstm-tiny.source", "40-hex commit"),
    (lambda t: mutate(t, f"@{REV}", f"@{REV[:12]}"), "pretrained.charlm-lstm-tiny.source", "40-hex commit"),
    (lambda t: mutate(t, "hf://seqzoo/", "http://seqzoo/"), "pretrained.charlm-lstm-tiny.source", "pkg://"),
    (lambda t: mutate(t, f'"model.safetensors" = "{SHA_A}"', '"model.safetensors" = "abc"'),
     "pretrained.charlm-lstm-tiny.files.model.safetensors", "64-hex sha256"),
    (lambda t: mutate(t, f'"config.json" = "{SHA_B}"', f'"notes.txt" = "{SHA_B}"'),
     "pretrained.charlm-lstm-tiny.files", "must list model.safetensors and config.json"),
    (lambda t: mutate(t, f'"config.json" = "{SHA_B}"', f'"config.json" = "{SHA_B}", "../x" = "{SHA_B}"'),
     "pretrained.charlm-lstm-tiny.files.../x", "inside the model folder"),
    (lambda t: mutate(t, "bpc = 2.1", 'bpc = "low"'), "pretrained.charlm-lstm-tiny.metrics.bpc", "must be a number"),
    (lambda t: mutate(t, "metrics = { bpc = 2.1, accuracy = 0.4 }", "metrics = {}"),
     "pretrained.charlm-lstm-tiny.metrics", "must map metric names"),
    (lambda t: mutate(t, "tolerance = 0.05", "tolerance = -1"), "pretrained.charlm-lstm-tiny.tolerance",
     "non-negative"),
    (lambda t: mutate(t, "[pretrained.charlm-lstm-tiny]", '[pretrained."bad name"]'), "pretrained.bad name",
     "names use letters"),
    (lambda t: "mirror = 1\n" + t, "mirror", "unknown top-level key"),
]


@pytest.mark.parametrize(("breaker", "key", "words"), BAD_CASES, ids=[c[1] + ":" + c[2] for c in BAD_CASES])
def test_validation_errors_name_the_file_and_the_key(tmp_path: Path, breaker, key: str, words: str) -> None:
    text = breaker(ENTRY)
    path = write(tmp_path, "mine.toml", text)
    with pytest.raises(ZooError) as info:
        read_catalogue(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert words in message
    assert "\n" not in message


def test_file_level_errors(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ZooError, match=f"^{re.escape(str(missing))}: registry file not found$"):
        read_catalogue(missing)
    broken = tmp_path / "broken.toml"
    broken.write_text("[pretrained.x\n")
    with pytest.raises(ZooError, match=f"^{re.escape(str(broken))}: not valid TOML"):
        read_catalogue(broken)
    future = tmp_path / "future.toml"
    future.write_text("schema_version = 2\n")
    with pytest.raises(ZooError, match=r"future.toml: schema_version: expected 1, got 2$"):
        read_catalogue(future)


def test_the_shipped_registry_is_valid() -> None:
    path = builtin_catalogue()
    assert path is not None and path.name == "registry.toml"
    for entry in read_catalogue(path):
        assert entry.provider is None  # the zoo attaches the core as provider
        assert entry.is_hub or entry.package_location()


def test_zoo_registry_and_registry_files_add_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = write(tmp_path, "first.toml", ENTRY)
    second = write(tmp_path, "second.toml", BUNDLED)
    monkeypatch.setenv("ZOO_REGISTRY", f"{first}{os.pathsep}{second}")
    z = Zoo(builtin_registry=False)
    assert {"charlm-lstm-tiny", "adder-gru"} <= set(z.catalogue())
    assert z.pretrained("adder-gru").origin == str(second)
    assert z.pretrained("adder-gru").describe()["plugin"] is None  # from a file, not a plugin
    with pytest.raises(ZooError, match=r"^unknown pretrained model 'adder-gur' \(did you mean 'adder-gru'\?\)$"):
        z.pretrained("adder-gur")

    monkeypatch.delenv("ZOO_REGISTRY")
    z = Zoo(builtin_registry=False)
    assert "adder-gru" not in z.catalogue()
    z.add_registries([str(second)])
    assert "adder-gru" in z.catalogue()


def test_the_same_name_in_two_registries_is_an_error_naming_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = write(tmp_path, "first.toml", ENTRY)
    again = write(tmp_path, "again.toml", ENTRY)
    monkeypatch.setenv("ZOO_REGISTRY", f"{first}{os.pathsep}{again}")
    with pytest.raises(ZooError) as info:
        Zoo(builtin_registry=False).catalogue()
    assert str(info.value) == f"pretrained 'charlm-lstm-tiny' is defined twice: in {first} and in {again}"
