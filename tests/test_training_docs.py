"""The training settings are defined once (zoo.engine.settings.TrainSettings): the docs table, the
CLI flags, zoo.train's keywords and the resume rules all come from it and cannot drift."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import zoo
from zoo.cli import cli
from zoo.cli.train import train_cmd
from zoo.engine import settings as st
from zoo.errors import ZooError
from zoo.plugins import current

DOCS = Path(__file__).parents[1] / "docs" / "training.md"
RUN_OPTIONS = {"task", "model", "settings", "device", "out", "resume", "as_json"}


def test_the_docs_table_is_generated_from_the_dataclass():
    text = DOCS.read_text(encoding="utf-8")
    table = text.split(st.TABLE_BEGIN, 1)[1].split(st.TABLE_END, 1)[0].strip()
    assert table == st.markdown_table(), "docs/training.md is stale: run python -m zoo.engine.settings"
    for name in st.NAMES:
        assert f"(`{name}`)" in table
    for row in table.splitlines():  # four cells: a bare | inside a cell would split it
        assert len(re.findall(r"(?<!\\)\|", row)) == 5, row


def test_every_field_is_one_cli_flag_with_its_help_and_nothing_else_is_hand_written():
    engine_params = {p.name for p in train_cmd.params} - RUN_OPTIONS
    assert engine_params == set(st.NAMES)
    help_text = " ".join(CliRunner().invoke(cli, ["train", "--help"]).output.split())
    for field in st.FIELDS:
        assert st.flag(field.name) in help_text
        assert " ".join(field.metadata["help"].split()) in help_text, field.name


def test_zoo_train_takes_every_field_as_a_keyword_and_refuses_others():
    params = inspect.signature(zoo.train).parameters
    for name in st.NAMES:
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY and params[name].default is None
    with pytest.raises(ZooError, match="unknown option of zoo.train 'stpes' \\(did you mean 'steps'\\?\\)"):
        zoo.train("adder", "gru", stpes=3)


@pytest.mark.parametrize("field", st.FIELDS, ids=lambda f: f.name)
def test_resume_rules_come_from_the_field(field):
    saved = st.resolve({"steps": 10}, {}).as_dict()
    changed = {"steps": 11, "epochs": 2.0, "time": 30.0, "batch_size": 7, "lr": 0.5, "optimizer": "sgd",
               "weight_decay": 0.1, "warmup": 3, "schedule": "linear", "min_lr_ratio": 0.5, "grad_clip": 0.5, "precision": "bf16",
               "compile": True, "seed": 9, "eval_every": 3, "log_every": 3, "sample_every": 7}
    assert set(changed) == set(st.NAMES), "a new field needs a value here"
    rule = field.metadata["on_resume"]
    if rule == "fixed":
        with pytest.raises(ZooError, match=f"cannot change {field.name} when resuming"):
            st.for_resume(saved, {field.name: changed[field.name]})
        assert st.for_resume(saved, {field.name: saved[field.name]}).as_dict() == saved  # the same value is fine
    else:
        resumed = st.for_resume(saved, {field.name: changed[field.name]}).as_dict()
        assert resumed[field.name] == changed[field.name]
        if rule == "budget":  # a new budget replaces the whole budget
            assert [resumed[k] for k in st.BUDGET_KEYS].count(None) == len(st.BUDGET_KEYS) - 1


def test_float_settings_refuse_nan_and_infinity():
    for name in [f.name for f in st.FIELDS if st.base_type(f.name) is float and f.name != "time"]:
        for bad in ("nan", "inf", float("nan")):
            with pytest.raises(ZooError, match=f"bad value .* for {name.replace('_', ' ')}"):
                st.resolve({name: bad}, {})
            result = CliRunner().invoke(cli, ["train", "adder", "gru", st.flag(name), str(bad)])
            assert result.exit_code == 2 and "not a finite number" in result.output, result.output
    for bad in ("nan", "inf", float("inf")):
        with pytest.raises(ZooError, match="bad time budget"):
            st.resolve({"time": bad}, {})


def test_the_facts_about_task_defaults_in_the_docs_are_true():
    text = " ".join(DOCS.read_text(encoding="utf-8").split())
    charlm = current().task("charlm").load().train_defaults
    adder = current().task("adder").load().train_defaults
    match = re.search(r"charlm trains for (\d+) epochs at batch (\d+), the adder for (\d+) steps at batch (\d+)", text)
    assert match, "the sentence about task defaults moved: update this test with it"
    assert [int(g) for g in match.groups()] == [charlm["epochs"], charlm["batch_size"], adder["steps"],
                                                adder["batch_size"]]
    assert "5 minutes" not in text
