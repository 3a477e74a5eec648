"""`zoo list`, `zoo info`, `zoo plugins` and the group's own options through click's CliRunner."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

import zoo
from zoo.cli import cli
from zoo.plugins import Zoo, use

SHA = "c" * 64


@dataclass
class LMConfig:
    seq_len: int = zoo.option(64, "characters per sequence")


@dataclass
class CellConfig:
    hidden_size: int = zoo.option(128, "units per layer")


class Tasks:
    @staticmethod
    @zoo.hookimpl
    def register_tasks(register: Callable[..., None]) -> None:
        register("charlm", "x.lm:CharLM", config=LMConfig, summary="char language model")
        register("adder", "x.add:Adder", config=LMConfig, summary="binary adder")


class Models:
    @staticmethod
    @zoo.hookimpl
    def register_models(register: Callable[..., None]) -> None:
        register("gru", "x.m:GRU", config=CellConfig, summary="gated recurrent unit")
        register("lstm", "x.m:LSTM", config=CellConfig, summary="long short-term memory")

    @staticmethod
    @zoo.hookimpl
    def register_pretrained(register: Callable[..., None]) -> None:
        register({
            "name": "charlm-gru-tiny", "task": "charlm", "model": "gru", "source": "pkg://x/w/tiny",
            "summary": "tiny char GRU", "dataset": "built-in", "license": "MIT", "metrics": {"bpc": 2.5},
            "files": {"model.safetensors": SHA, "config.json": SHA},
        })

    @staticmethod
    @zoo.hookimpl
    def register_commands(cli: click.Group) -> None:
        @cli.command("greet")
        @click.argument("who")
        def greet(who: str) -> None:
            """Say hello (a plugin command)."""
            if who == "nobody":
                raise zoo.ZooError("nobody to greet")
            click.echo(f"hello {who}")


class Broken:
    @staticmethod
    @zoo.hookimpl
    def register_models(register: Callable[..., None]) -> None:
        raise ValueError("bad weights table")


@pytest.fixture
def test_zoo(capsys: pytest.CaptureFixture[str]) -> Iterator[Zoo]:
    z = Zoo(builtin_registry=False)
    z.add_plugin(Tasks(), "tasks", "zoo-tasks", "1.0")
    z.add_plugin(Models(), "models", "zoo-models", "2.0")
    z.add_plugin(Broken(), "broken", "zoo-broken", "0.1")
    capsys.readouterr()  # the broken plugin's warning
    use(z)
    yield z


def zoo_cli(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, prog_name="zoo", catch_exceptions=False)


def test_list_shows_three_sections(test_zoo: Zoo) -> None:
    result = zoo_cli("list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line for line in lines if not line.startswith(" ")] == ["tasks:", "models:", "pretrained:"]
    assert any(line.split()[:1] == ["charlm"] and "[zoo-tasks]" in line for line in lines)
    assert any("charlm-gru-tiny" in line and "charlm/gru" in line and "bpc=2.5" in line for line in lines)


def test_list_json_has_the_documented_shape(test_zoo: Zoo) -> None:
    data = json.loads(zoo_cli("list", "--json").stdout)
    assert list(data) == ["schema_version", "tasks", "models", "pretrained"]
    assert [t["name"] for t in data["tasks"]] == ["adder", "charlm"]  # sorted
    assert [m["name"] for m in data["models"]] == ["gru", "lstm"]
    for items in (data["tasks"], data["models"], data["pretrained"]):
        for item in items:
            assert {"name", "summary", "plugin", "distribution", "version"} <= set(item)
    assert data["models"][0]["plugin"] == "models" and data["models"][0]["distribution"] == "zoo-models"
    assert data["pretrained"][0]["name"] == "charlm-gru-tiny" and data["pretrained"][0]["plugin"] == "models"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["models"], {"models": ["gru", "lstm"]}),
        (["model", "l*"], {"models": ["lstm"]}),
        (["tasks", "*er"], {"tasks": ["adder"]}),
        (["pretrained", "nothing*"], {"pretrained": []}),
        (["?r?"], {"tasks": [], "models": ["gru"], "pretrained": []}),
    ],
)
def test_list_filters_by_kind_and_wildcard(test_zoo: Zoo, args: list[str], expected: dict[str, list[str]]) -> None:
    data = json.loads(zoo_cli("list", *args, "--json").stdout)
    assert data.pop("schema_version") == 1
    assert {kind: [item["name"] for item in items] for kind, items in data.items()} == expected


def test_list_with_a_bad_kind_is_a_user_error(test_zoo: Zoo) -> None:
    result = zoo_cli("list", "modles", "g*")
    assert result.exit_code == 2
    assert result.stderr == "error: unknown kind 'modles' (did you mean 'models'?); expected one of tasks, models, pretrained\n"
    assert result.stdout == ""


def test_info_describes_config_fields_with_defaults(test_zoo: Zoo) -> None:
    data = json.loads(zoo_cli("info", "lstm", "--json").stdout)
    assert (data["kind"], data["name"], data["distribution"], data["version"]) == ("model", "lstm", "zoo-models", "2.0")
    assert data["config"] == [
        {"name": "hidden_size", "type": "int", "default": 128, "help": "units per layer", "choices": None}]
    text = zoo_cli("info", "charlm").stdout
    assert "task charlm: char language model" in text
    assert "seq_len (int, default 64): characters per sequence" in text


def test_info_on_a_pretrained_entry(test_zoo: Zoo) -> None:
    data = json.loads(zoo_cli("info", "charlm-gru-tiny", "--json").stdout)
    assert (data["kind"], data["task"], data["model"], data["metrics"]) == ("pretrained", "charlm", "gru", {"bpc": 2.5})
    assert data["source"] == "pkg://x/w/tiny" and data["files"]["config.json"] == SHA


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("charml", "error: unknown task 'charml' (did you mean 'charlm'?)\n"),
        ("lstn", "error: unknown model 'lstn' (did you mean 'lstm'?)\n"),
        ("charlm-gru-tin", "error: unknown pretrained model 'charlm-gru-tin' (did you mean 'charlm-gru-tiny'?)\n"),
        ("xyzzy", "error: unknown name 'xyzzy': not a task, model or pretrained model (see `zoo list`)\n"),
    ],
)
def test_info_on_an_unknown_name_is_one_line_and_exit_2(test_zoo: Zoo, name: str, message: str) -> None:
    result = zoo_cli("info", name)
    assert (result.exit_code, result.stderr, result.stdout) == (2, message, "")


def test_plugins_shows_hooks_registrations_and_errors(test_zoo: Zoo) -> None:
    data = json.loads(zoo_cli("plugins", "--json").stdout)["plugins"]
    by_name = {p["name"]: p for p in data}
    assert by_name["models"]["hooks"] == ["register_models", "register_pretrained", "register_commands"]
    assert by_name["models"]["registered"] == [
        "model:gru", "model:lstm", "pretrained:charlm-gru-tiny", "command:greet"]
    assert (by_name["broken"]["status"], by_name["broken"]["error"]) == ("failed", "ValueError: bad weights table")
    text = zoo_cli("plugins").stdout
    assert "broken  (zoo-broken 0.1)  [failed]" in text and "  error: ValueError: bad weights table" in text
    assert "tasks  (zoo-tasks 1.0)  [loaded]" in text and "  registered: task:charlm, task:adder" in text


def test_plugin_commands_run_and_their_errors_are_one_line(test_zoo: Zoo) -> None:
    assert zoo_cli("greet", "world").stdout == "hello world\n"
    assert "greet" in zoo_cli("--help").stdout
    result = zoo_cli("greet", "nobody")
    assert (result.exit_code, result.stderr) == (2, "error: nobody to greet\n")


def test_unknown_command(test_zoo: Zoo) -> None:
    result = zoo_cli("lsit")
    assert (result.exit_code, result.stderr) == (2, "error: unknown command 'lsit' (did you mean 'list'?)\n")


def test_version_and_help(test_zoo: Zoo) -> None:
    assert zoo_cli("--version").stdout == f"seqzoo, version {zoo.__version__}\n"
    help_text = zoo_cli("--help").stdout
    for command in ("list", "info", "plugins", "--registry"):
        assert command in help_text


def registry_file(folder: Path, name: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(
        f'[pretrained.{name}]\ntask = "adder"\nmodel = "lstm"\nsource = "pkg://x/w/{name}"\nsummary = "from a file"\n'
        f'dataset = "generated"\nlicense = "MIT"\nmetrics = {{ accuracy = 0.99 }}\n'
        f'files = {{ "model.safetensors" = "{SHA}", "config.json" = "{SHA}" }}\n'
    )
    return path


def test_registry_option_and_zoo_registry(test_zoo: Zoo, tmp_path: Path) -> None:
    from_env = registry_file(tmp_path, "adder-env")
    from_flag = registry_file(tmp_path, "adder-flag")
    result = zoo_cli("--registry", str(from_flag), "list", "pretrained", "adder-*", "--json",
                     env={"ZOO_REGISTRY": str(from_env)})
    items = json.loads(result.stdout)["pretrained"]
    assert [(p["name"], p["origin"]) for p in items] == [("adder-env", str(from_env)), ("adder-flag", str(from_flag))]


def test_a_bad_user_registry_is_a_one_line_error(test_zoo: Zoo, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[pretrained.x]\ntask = "adder"\n')
    result = zoo_cli("--registry", str(bad), "list")
    assert (result.exit_code, result.stderr) == (2, f"error: {bad}: pretrained.x.model: missing\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "--bogus"], "error: No such option '--bogus' (see 'zoo list --help')\n"),
        (["info"], "error: Missing argument 'NAME' (see 'zoo info --help')\n"),
        (["--bogus", "list"], "error: No such option '--bogus' (see 'zoo --help')\n"),
    ],
)
def test_usage_errors_are_one_line_too(test_zoo: Zoo, args: list[str], message: str) -> None:
    result = zoo_cli(*args)
    # click before 8.4 words it "No such option: --bogus" (the declared floor is 8.2.0)
    stderr = result.stderr.replace("No such option: --bogus", "No such option '--bogus'")
    assert (result.exit_code, stderr, result.stdout) == (2, message, "")


def test_plain_zoo_shows_the_help(test_zoo: Zoo) -> None:
    result = zoo_cli()
    assert result.exit_code == 2 and result.stderr.startswith("Usage: zoo [OPTIONS] COMMAND")


@pytest.mark.parametrize("args", [["list", "--json"], ["list", "models", "--json"], ["info", "lstm", "--json"],
                                  ["plugins", "--json"]])
def test_every_json_output_carries_a_schema_version(test_zoo: Zoo, args: list[str]) -> None:
    data = json.loads(zoo_cli(*args).stdout)
    assert data["schema_version"] == 1
