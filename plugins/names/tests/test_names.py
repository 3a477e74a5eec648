"""The names task: bundled data, folder and TSV input, the split, metrics, training, `zoo run`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch
from zoo_names.data import held_out, load
from zoo_names.task import NamesTask, scores

import zoo
from zoo import testing

ZOO = Path(sys.executable).with_name("zoo")
TUTORIAL_LANGUAGES = {
    "Arabic", "Chinese", "Czech", "Dutch", "English", "French", "German", "Greek", "Irish", "Italian",
    "Japanese", "Korean", "Polish", "Portuguese", "Russian", "Scottish", "Spanish", "Vietnamese",
}


def make_task(*settings: str) -> NamesTask:
    task = testing.make_task(testing.recipe("names", "gru", list(settings)))
    task.prepare(seed=0)
    return task


def zoo_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([str(ZOO), *args], capture_output=True, text=True, timeout=300, cwd=cwd, env=env)


def three_class_tsv(path: Path, per_class: int = 40) -> Path:
    """Made-up names whose class shows in their ending: -ov, -son, -ez."""
    stems = ["ab", "bor", "kal", "mir", "dan", "pet", "ser", "vol", "gal", "tur", "len", "rad", "sim", "fod"]
    lines = []
    for i in range(per_class):
        stem = stems[i % len(stems)] + stems[(i * 5 + 3) % len(stems)][: 1 + i % 3]
        for ending, label in (("ov", "Slavic"), ("son", "Nordic"), ("ez", "Iberian")):
            lines.append(f"{stem.capitalize()}{ending}\t{label}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_bundled_data_covers_the_tutorials_18_languages_offline():
    task = make_task()
    assert set(task.classes) >= TUTORIAL_LANGUAGES
    counts = Counter(task.texts.labels.tolist())
    assert min(counts.values()) >= 40  # every language has a real list, not a token handful
    assert set(task.chars) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ '-")


def test_no_text_is_in_both_splits_and_the_split_is_stratified_enough():
    texts = load("builtin", fraction=0.1, seed=0, fold_accents=True)
    names = ["".join(texts.chars[i] for i in texts.ids[s : s + n].tolist())
             for s, n in zip(texts.starts.tolist(), texts.lengths.tolist(), strict=True)]
    train = {n for n, h in zip(names, texts.held.tolist(), strict=True) if not h}
    held = {n for n, h in zip(names, texts.held.tolist(), strict=True) if h}
    assert train and held and not train & held
    assert 0.07 < len(held) / len(names) < 0.13
    assert all(held_out(n, 0.1, 0) for n in held) and not any(held_out(n, 0.1, 0) for n in train)


def test_a_name_under_two_labels_stays_in_one_split(tmp_path):
    lines = [f"Name{i}\t{'AB'[i % 2]}" for i in range(200)] + ["Same\tA", "Same\tB"]
    (tmp_path / "d.tsv").write_text("\n".join(lines), encoding="utf-8")
    texts = load(str(tmp_path / "d.tsv"), fraction=0.5, seed=3, fold_accents=True)
    assert texts.held[-1] == texts.held[-2]


def test_a_folder_of_language_files_is_read_as_the_tutorial_lays_it_out(tmp_path):
    (tmp_path / "Czech.txt").write_text("Dvořák\nNovák\n\n", encoding="utf-8")
    (tmp_path / "English.txt").write_text("Smith\r\nJones\r\n", encoding="utf-8")
    texts = load(str(tmp_path), fraction=0.1, seed=0, fold_accents=True)
    assert texts.classes == ["Czech", "English"]
    assert texts.labels.tolist() == [0, 0, 1, 1]
    first = "".join(texts.chars[i] for i in texts.ids[: texts.lengths[0]].tolist())
    assert first == "Dvorak"  # accents folded, as the tutorial's unicodeToAscii does


@pytest.mark.parametrize(("files", "message"), [
    ({}, "has no class files"),
    ({"Czech.txt": "Novak\n", "English.txt": "\n \n"}, "English.txt is empty"),
])
def test_bad_folders_are_one_clear_error(tmp_path, files, message):
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(zoo.ZooError, match=message):
        load(str(tmp_path), fraction=0.1, seed=0, fold_accents=True)


def test_a_tsv_line_without_a_tab_names_its_line(tmp_path):
    (tmp_path / "d.tsv").write_text("good\tA\nbad line\nother\tB\n", encoding="utf-8")
    with pytest.raises(zoo.ZooError, match=r"d.tsv:2: expected 'text<TAB>label', got 'bad line'"):
        load(str(tmp_path / "d.tsv"), fraction=0.1, seed=0, fold_accents=True)


def test_scores_match_a_hand_computed_confusion_matrix():
    # true A: 3 right, 1 called B; true B: 2 right; true C: 1 called A, nothing predicted C.
    matrix = torch.tensor([[3, 1, 0], [0, 2, 0], [1, 0, 0]])
    f1_a, f1_b, f1_c = 2 * 3 / (4 + 4), 2 * 2 / (2 + 3), 0.0
    got = scores(matrix)
    assert got["accuracy"] == pytest.approx(5 / 7)
    assert got["macro_f1"] == pytest.approx((f1_a + f1_b + f1_c) / 3)


def test_balanced_sampling_draws_every_class_about_equally(tmp_path):
    lines = [f"Big{i}\tBig" for i in range(300)] + [f"Small{i}\tSmall" for i in range(30)]
    (tmp_path / "d.tsv").write_text("\n".join(lines), encoding="utf-8")
    task = make_task(f"data={tmp_path / 'd.tsv'}")
    labels = torch.cat([task.batch(step, 64, zoo.Shard())["labels"] for step in range(20)])
    share = labels.float().mean().item()  # classes sort as Big=0, Small=1
    assert 0.4 < share < 0.6
    natural = make_task(f"data={tmp_path / 'd.tsv'}", "sampling=natural")
    labels = torch.cat([natural.batch(step, 64, zoo.Shard())["labels"] for step in range(20)])
    assert labels.float().mean().item() < 0.2


def test_a_tiny_file_trains_on_everything_and_says_so(tmp_path, capsys):
    (tmp_path / "d.tsv").write_text("Ivanov\tRussian\nSmith\tEnglish\nPetrov\tRussian\n", encoding="utf-8")
    task = make_task(f"data={tmp_path / 'd.tsv'}")
    assert task.evaluated_on_train and len(task.eval_index) == 3
    assert "evaluating on the training texts" in capsys.readouterr().err


def test_training_learns_the_endings_and_writes_the_confusion_matrix(tmp_path):
    data = three_class_tsv(tmp_path / "d.tsv")
    result = zoo.train("names", "gru", settings=[f"data={data}", "hidden_size=16", "held_out_fraction=0.25"],
                       steps=150, eval_every=150, lr=1e-2, out=tmp_path / "run")
    assert result.metrics["accuracy"] > 0.9 and result.metrics["macro_f1"] > 0.9
    record = json.loads((tmp_path / "run" / "confusion.json").read_text())
    assert record["classes"] == ["Iberian", "Nordic", "Slavic"] and record["split"] == "held-out"
    matrix = torch.tensor(record["matrix"])
    task = make_task(f"data={data}", "held_out_fraction=0.25")
    assert int(matrix.sum()) == len(task.eval_index)
    assert scores(matrix)["accuracy"] == pytest.approx(result.metrics["accuracy"])

    out = zoo_cli("run", str(tmp_path / "run"), "Kalerov")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 3 and lines[0].split()[0] == "Slavic"
    probs = [float(line.split()[1]) for line in lines]
    assert probs == sorted(probs, reverse=True) and sum(probs) == pytest.approx(1, abs=2e-3)

    bad = zoo_cli("run", str(tmp_path / "run"), "Kal9ov!")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "'!', '9': not in the model's vocabulary" in bad.stderr


def test_bad_data_from_the_command_line_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "d.tsv").write_text("good\tA\nno tab here\n", encoding="utf-8")
    out = zoo_cli("train", "names", "gru", "--set", f"data={tmp_path / 'd.tsv'}", "--steps", "1",
                  "--out", str(tmp_path / "run"))
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [f"error: data: {tmp_path / 'd.tsv'}:2: expected 'text<TAB>label', got 'no tab here'"]


def test_inspection_predicts_after_every_prefix_and_ends_with_the_whole_name(tmp_path):
    task = make_task(f"data={three_class_tsv(tmp_path / 'names.tsv')}", "hidden_size=8")
    torch.manual_seed(0)
    net = task.build(lambda n: testing.TinyGRU(n, testing.TinyGRUConfig(hidden_size=8))).eval()
    steps = task.steps(net, "Kalov => Slavic")
    assert steps.inputs == list("Kalov") and steps.targets == [task.classes.index("Slavic")] * 5
    index = torch.tensor([[task.index[c] for c in "Kalov"]])
    with torch.no_grad():
        for n in range(1, 6):  # the prediction after n characters is the classifier's answer for that prefix
            torch.testing.assert_close(steps.logits[n - 1], net(index[:, :n], torch.tensor([n]))[0])
    with pytest.raises(zoo.ZooError, match="unknown language 'Klingon'"):
        task.steps(net, "Kalov => Klingon")


def test_the_example_plugins_model_trains_on_names_too(tmp_path, monkeypatch):
    """Any model, not only the first-party ones: the example plugin's, loaded as a plugin object."""
    import importlib

    from zoo.testing import Zoo, current, use

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[3] / "examples" / "zoo-mingru"))
    example = importlib.import_module("zoo_mingru.plugin")
    names_plugin = importlib.import_module("zoo_names.plugin")
    registry = Zoo()
    registry.add_plugin(names_plugin, "names")
    registry.add_plugin(example, "example")
    before = current()
    use(registry)
    try:
        (model,) = [m for m in registry.models if m.startswith("mingru")]
        data = three_class_tsv(tmp_path / "d.tsv")
        result = zoo.train("names", model, settings=[f"data={data}", "hidden_size=16", "held_out_fraction=0.25"],
                           steps=150, eval_every=150, lr=1e-2, out=tmp_path / "run")
    finally:
        use(before)
    assert result.metrics["accuracy"] > 0.8
