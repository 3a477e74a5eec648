"""Plugin loading: in-test plugin objects, isolation of broken plugins, clashes, allow/block lists."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pluggy
import pytest

import zoo
from zoo.plugins import Zoo, current, use


@dataclass
class SizeConfig:
    size: int = zoo.option(4, "a size")


class TaskPlugin:
    """Registers one task by import path, the way every real plugin does."""

    @staticmethod
    @zoo.hookimpl
    def register_tasks(register: Callable[..., None]) -> None:
        register("alpha", "somewhere.tasks:Alpha", config=SizeConfig, summary="alpha task")


class ModelPlugin:
    @staticmethod
    @zoo.hookimpl
    def register_models(register: Callable[..., None]) -> None:
        register("beta", "somewhere.models:Beta", config=SizeConfig, summary="beta model")
        register("gamma", "somewhere.models:Gamma", config=SizeConfig, summary="gamma model")


def test_in_test_plugins_register_tasks_and_models_with_their_provider() -> None:
    z = Zoo()
    t = z.add_plugin(TaskPlugin(), "tasks", "seqzoo-tasks", "2.0.1")
    m = z.add_plugin(ModelPlugin(), "models", "seqzoo-models", "0.3")
    assert (t.status, t.error, t.hooks, t.registered) == ("loaded", None, ["register_tasks"], ["task:alpha"])
    assert m.registered == ["model:beta", "model:gamma"]
    assert z.pm.get_plugin("tasks") is not None  # really registered with pluggy
    alpha = z.task("alpha")
    assert (alpha.target, alpha.config, alpha.summary) == ("somewhere.tasks:Alpha", SizeConfig, "alpha task")
    assert (alpha.provider.plugin, alpha.provider.distribution, alpha.provider.version) == (
        "tasks", "seqzoo-tasks", "2.0.1")
    assert z.model("gamma").provider.distribution == "seqzoo-models"
    described = z.model("beta").describe()
    assert described["plugin"] == "models" and described["version"] == "0.3"
    assert described["config"] == [
        {"name": "size", "type": "int", "default": 4, "help": "a size", "choices": None}
    ]


def test_unknown_names_suggest_the_closest() -> None:
    z = Zoo()
    z.add_plugin(TaskPlugin(), "tasks")
    with pytest.raises(zoo.ZooError, match=r"^unknown task 'alpah' \(did you mean 'alpha'\?\)$"):
        z.task("alpah")
    with pytest.raises(zoo.ZooError, match=r"^unknown model 'alpha'$"):
        z.model("alpha")


class RaisingPlugin:
    """Registers one task, then raises: nothing of it may remain registered."""

    @staticmethod
    @zoo.hookimpl
    def register_tasks(register: Callable[..., None]) -> None:
        register("half", "x:Half", config=SizeConfig)
        raise RuntimeError("disk on fire")


def test_a_raising_hook_is_reported_and_leaves_nothing_behind(capsys: pytest.CaptureFixture[str]) -> None:
    z = Zoo()
    bad = z.add_plugin(RaisingPlugin(), "raiser", "zoo-raiser", "1.0")
    good = z.add_plugin(TaskPlugin(), "tasks")
    assert (bad.status, bad.error) == ("failed", "RuntimeError: disk on fire")
    assert bad.registered == [] and "half" not in z.tasks
    assert not z.pm.has_plugin("raiser")
    assert good.status == "loaded" and "alpha" in z.tasks
    err = capsys.readouterr().err
    assert err == "warning: plugin 'raiser' failed to load: RuntimeError: disk on fire\n"


def test_strict_mode_re_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    with pytest.raises(RuntimeError, match="disk on fire"):
        Zoo().add_plugin(RaisingPlugin(), "raiser")


class MisspelledHook:
    @staticmethod
    @zoo.hookimpl
    def register_task(register: Callable[..., None]) -> None:  # no such hook: register_tasks
        register("never", "x:Never", config=SizeConfig)


class WrongArgument:
    @staticmethod
    @zoo.hookimpl
    def register_tasks(reg: Callable[..., None]) -> None:  # the hook's argument is 'register'
        reg("never", "x:Never", config=SizeConfig)


def test_a_misspelled_hook_fails_loudly_through_check_pending(capsys: pytest.CaptureFixture[str]) -> None:
    z = Zoo()
    record = z.add_plugin(MisspelledHook(), "typo")
    assert record.status == "failed"
    assert record.error.startswith("PluginValidationError: unknown hook 'register_task'")
    assert not z.pm.has_plugin("typo")
    assert "warning: plugin 'typo' failed to load" in capsys.readouterr().err


def test_a_hookimpl_with_the_wrong_argument_fails() -> None:
    record = Zoo().add_plugin(WrongArgument(), "wrongarg")
    assert record.status == "failed" and "PluginValidationError" in record.error and "reg" in record.error


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda r: r("t", "x:T", config=SizeConfig, sumary="typo"), "unexpected keyword argument 'sumary'"),
        (lambda r: r("t", "x.T", config=SizeConfig), "target must be 'module:attr'"),
        (lambda r: r("t", "x:T", config=dict), "config must be a dataclass"),
        (lambda r: r("", "x:T", config=SizeConfig), "names must be non-empty strings"),
    ],
)
def test_bad_registrations_fail_the_plugin(call: Callable[..., None], message: str) -> None:
    class Plugin:
        @staticmethod
        @zoo.hookimpl
        def register_tasks(register: Callable[..., None]) -> None:
            call(register)

    z = Zoo()
    record = z.add_plugin(Plugin(), "bad")
    assert record.status == "failed" and message in record.error
    assert z.tasks == {}


CLASH = (
    "task 'alpha' is provided by both zoo-first 1.0 (plugin 'first') and zoo-second 2.0 (plugin 'second'), "
    "so none of them is used; disable one: ZOO_DISABLE_PLUGINS=second (keeps zoo-first's) "
    "or ZOO_DISABLE_PLUGINS=first (keeps zoo-second's)"
)


class TaskAndModelPlugin:
    """Offers the contested task 'alpha' plus a model of its own."""

    @staticmethod
    @zoo.hookimpl
    def register_tasks(register: Callable[..., None]) -> None:
        register("alpha", "elsewhere.tasks:Alpha", config=SizeConfig, summary="another alpha")

    @staticmethod
    @zoo.hookimpl
    def register_models(register: Callable[..., None]) -> None:
        register("delta", "elsewhere.models:Delta", config=SizeConfig, summary="delta model")


@pytest.mark.parametrize("order", [("first", "second"), ("second", "first")])
def test_a_name_from_two_plugins_is_refused_for_both_in_any_order(
    order: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    plugins = {"first": (TaskPlugin(), "zoo-first", "1.0"), "second": (TaskAndModelPlugin(), "zoo-second", "2.0")}
    z = Zoo()
    records = {name: z.add_plugin(plugins[name][0], name, *plugins[name][1:]) for name in order}
    message = CLASH  # the same whatever the order
    assert "alpha" not in z.tasks
    with pytest.raises(zoo.ZooError) as err:
        z.task("alpha")
    assert str(err.value) == message
    for rec in records.values():
        assert (rec.status, rec.error, rec.refused) == ("partial", message, {"task:alpha": message})
        assert "task:alpha" not in rec.registered
    assert records["second"].registered == ["model:delta"]  # the rest of the plugin stays
    assert z.model("delta").provider.distribution == "zoo-second"
    assert capsys.readouterr().err == f"warning: {message}\n"


def test_a_third_plugin_joins_the_clash_and_the_fix_keeps_disabled_plugins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ZOO_DISABLE_PLUGINS", "old")
    z = Zoo()
    for name in ("a", "b", "c"):
        z.add_plugin(TaskPlugin(), name, f"zoo-{name}", "1")
    message = z.refusal("task", "alpha")
    assert message == (
        "task 'alpha' is provided by zoo-a 1 (plugin 'a') and zoo-b 1 (plugin 'b') and zoo-c 1 (plugin 'c'), "
        "so none of them is used; disable one: ZOO_DISABLE_PLUGINS=old,b,c (keeps zoo-a's) or "
        "ZOO_DISABLE_PLUGINS=old,a,c (keeps zoo-b's) or ZOO_DISABLE_PLUGINS=old,a,b (keeps zoo-c's)"
    )
    assert all(r.error == message and r.status == "partial" for r in z.plugins)


def test_strict_mode_turns_a_clash_into_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    z = Zoo()
    z.add_plugin(TaskPlugin(), "first", "zoo-first", "1.0")
    with pytest.raises(zoo.ZooError, match="task 'alpha' is provided by both"):
        z.add_plugin(TaskAndModelPlugin(), "second", "zoo-second", "2.0")


def test_the_same_plugin_name_twice_is_an_error() -> None:
    z = Zoo()
    z.add_plugin(TaskPlugin(), "dup", "zoo-a", "1")
    record = z.add_plugin(ModelPlugin(), "dup", "zoo-b", "2")
    assert record.status == "failed" and "'dup' (zoo-a 1)" in record.error and "'dup' (zoo-b 2)" in record.error
    assert z.models == {}


SHA = "0" * 64


def pretrained(name: str) -> dict[str, object]:
    return {
        "name": name, "task": "alpha", "model": "beta", "source": "pkg://somewhere/weights/x",
        "summary": "s", "dataset": "d", "license": "MIT", "metrics": {"acc": 1.0},
        "files": {"model.safetensors": SHA, "config.json": SHA},
    }


def test_pretrained_entries_and_commands_from_plugins() -> None:
    @click.command("hello")
    def hello() -> None:
        click.echo("hi")

    class Plugin:
        @staticmethod
        @zoo.hookimpl
        def register_pretrained(register: Callable[..., None]) -> None:
            register(pretrained("alpha-beta-tiny"))

        @staticmethod
        @zoo.hookimpl
        def register_commands(cli: click.Group) -> None:
            cli.add_command(hello)

    z = Zoo()
    record = z.add_plugin(Plugin(), "extra", "zoo-extra", "0.9")
    assert record.registered == ["pretrained:alpha-beta-tiny", "command:hello"]
    entry = z.pretrained("alpha-beta-tiny")
    assert (entry.provider.distribution, entry.provider.version, entry.origin) == ("zoo-extra", "0.9", "plugin 'extra'")
    assert z.commands == {"hello": hello}
    again = z.add_plugin(Plugin(), "extra2")
    assert again.status == "partial" and "pretrained 'alpha-beta-tiny' is provided by both" in again.error
    assert z.commands == {} and "alpha-beta-tiny" not in z.catalogue()  # both names now refused
    with pytest.raises(zoo.ZooError, match="pretrained .alpha-beta-tiny. is provided by both extra2 .plugin .extra2.. and zoo-extra 0.9"):
        z.pretrained("alpha-beta-tiny")


def test_a_bad_pretrained_entry_fails_only_its_plugin() -> None:
    class Plugin:
        @staticmethod
        @zoo.hookimpl
        def register_pretrained(register: Callable[..., None]) -> None:
            register({**pretrained("bad"), "source": "hf://a/b@main"})

    record = Zoo().add_plugin(Plugin(), "badpre")
    assert record.status == "failed"
    assert "plugin 'badpre': pretrained.bad.source: 'hf://a/b@main' must be hf://" in record.error


def test_a_plugin_command_may_not_replace_a_builtin() -> None:
    class Plugin:
        @staticmethod
        @zoo.hookimpl
        def register_commands(cli: click.Group) -> None:
            @cli.command("list")
            def my_list() -> None:
                pass

    record = Zoo().add_plugin(Plugin(), "hijack")
    assert record.status == "partial" and "adds command 'list', a built-in command; refused" in record.error
    assert record.registered == []


def test_command_groups_and_clashes_between_plugins() -> None:
    class Plugin:
        @staticmethod
        @zoo.hookimpl
        def register_commands(cli: click.Group) -> None:
            @cli.group("team")
            def team() -> None:
                """Team tools."""

    z = Zoo()
    assert z.add_plugin(Plugin(), "first", "zoo-first", "1").registered == ["command:team"]
    assert isinstance(z.commands["team"], click.Group)
    second = z.add_plugin(Plugin(), "second", "zoo-second", "2")
    assert second.error == z.refusal("command", "team")
    assert second.error.startswith(
        "command 'team' is provided by both zoo-first 1 (plugin 'first') and zoo-second 2 (plugin 'second')")
    assert z.commands == {}


def test_hook_wrappers_are_refused() -> None:
    class Plugin:
        @staticmethod
        @zoo.hookimpl(wrapper=True)
        def register_tasks(register: Callable[..., None]) -> Iterator[None]:
            yield

    record = Zoo().add_plugin(Plugin(), "wrap")
    assert record.status == "failed" and "must be a plain hookimpl, not a wrapper" in record.error


def test_a_plugin_entry_that_reuses_a_builtin_catalogue_name_is_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    builtin = tmp_path / "registry.toml"
    builtin.write_text(
        '[pretrained.alpha-beta-tiny]\ntask = "alpha"\nmodel = "beta"\nsource = "pkg://somewhere/w"\n'
        f'summary = "s"\ndataset = "d"\nlicense = "MIT"\nmetrics = {{ acc = 0.5 }}\n'
        f'files = {{ "model.safetensors" = "{SHA}", "config.json" = "{SHA}" }}\n'
    )
    monkeypatch.setattr("zoo.plugins.builtin_catalogue", lambda: builtin)

    class Plugin:
        @staticmethod
        @zoo.hookimpl
        def register_pretrained(register: Callable[..., None]) -> None:
            register(pretrained("alpha-beta-tiny"))

    z = Zoo()
    record = z.add_plugin(Plugin(), "shadow")
    entry = z.pretrained("alpha-beta-tiny")
    assert entry.metrics == {"acc": 0.5} and entry.provider.distribution == "seqzoo"
    assert "already defined in" in record.error and record.registered == [] and record.status == "partial"
    assert "warning: plugin 'shadow': pretrained 'alpha-beta-tiny' is already defined" in capsys.readouterr().err


def test_use_installs_an_in_test_zoo_as_the_current_one() -> None:
    z = Zoo()
    z.add_plugin(TaskPlugin(), "tasks")
    use(z)
    assert current() is z
    use(None)
    assert current() is not z


# -- entry points: real (hand-made) installed distributions found through importlib.metadata --------


def load(site: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> Zoo:
    monkeypatch.syspath_prepend(str(site))
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    z = Zoo()
    z.load_entry_points()
    return z


def records(z: Zoo) -> dict[str, tuple[str, str, str]]:
    return {r.name: (r.status, r.distribution, r.version) for r in z.plugins}


def test_entry_points_load_with_their_distribution(
    fake_site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    z = load(fake_site, monkeypatch, ZOO_LOAD_PLUGINS="widget,broken")
    assert records(z)["widget"] == ("loaded", "zoo-widget", "1.2.3")
    assert z.task("widget").provider.distribution == "zoo-widget"
    broken = next(r for r in z.plugins if r.name == "broken")
    assert (broken.status, broken.distribution, broken.module) == ("failed", "zoo-broken", "fakebroken")
    assert broken.error == "ModuleNotFoundError: No module named 'no_such_dependency_for_zoo_tests'"
    assert capsys.readouterr().err == (
        "warning: plugin 'broken' failed to load: "
        "ModuleNotFoundError: No module named 'no_such_dependency_for_zoo_tests'\n"
    )


@pytest.mark.parametrize("allow", ["widget", "zoo-widget"])
def test_allow_list_by_entry_point_or_distribution(fake_site: Path, monkeypatch: pytest.MonkeyPatch, allow: str) -> None:
    z = load(fake_site, monkeypatch, ZOO_LOAD_PLUGINS=allow)
    status = {name: rec[0] for name, rec in records(z).items()}
    assert status.pop("widget") == "loaded"
    assert set(status.values()) == {"blocked"}  # the broken one and every installed first-party plugin
    assert list(z.tasks) == ["widget"] and z.models == {}


@pytest.mark.parametrize("block", ["broken", "zoo-broken"])
def test_block_list_by_entry_point_or_distribution(
    fake_site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], block: str
) -> None:
    z = load(fake_site, monkeypatch, ZOO_LOAD_PLUGINS="widget,broken", ZOO_DISABLE_PLUGINS=block)
    assert records(z)["broken"][0] == "blocked" and records(z)["widget"][0] == "loaded"
    assert capsys.readouterr().err == ""  # a blocked plugin is never imported


def test_unknown_names_in_the_lists_are_warned_about(
    fake_site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    load(fake_site, monkeypatch, ZOO_LOAD_PLUGINS="widget,widgit", ZOO_DISABLE_PLUGINS="nope")
    assert capsys.readouterr().err == (
        "warning: ZOO_LOAD_PLUGINS names 'widgit', which is not an installed plugin\n"
        "warning: ZOO_DISABLE_PLUGINS names 'nope', which is not an installed plugin\n"
    )


def test_strict_mode_re_raises_an_import_error(fake_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModuleNotFoundError, match="no_such_dependency_for_zoo_tests"):
        load(fake_site, monkeypatch, ZOO_LOAD_PLUGINS="broken", ZOO_STRICT_PLUGINS="1")


# -- Component.load: where torch and the plugin's real code get imported ---------------------------


def test_component_load_imports_the_target_and_checks_its_base_class() -> None:
    class NotATask:
        pass

    class Plugin:
        @staticmethod
        @zoo.hookimpl
        def register_tasks(register: Callable[..., None]) -> None:
            register("real", "zoo.task:Task", config=SizeConfig)
            register("missing", "zoo_no_such_module.task:T", config=SizeConfig)
            register("wrong", NotATask, config=SizeConfig)

    z = Zoo()
    z.add_plugin(Plugin(), "p", "zoo-p", "1")
    assert z.task("real").load() is zoo.Task
    with pytest.raises(zoo.ZooError, match=r"^task 'missing' from plugin 'p' \(zoo-p 1\): cannot import"):
        z.task("missing").load()
    with pytest.raises(zoo.ZooError, match=r"is not a subclass of zoo.Task$"):
        z.task("wrong").load()


def test_pluggy_is_the_mechanism() -> None:
    assert isinstance(Zoo().pm, pluggy.PluginManager) and Zoo().pm.project_name == "zoo"
    assert set(Zoo().pm.hook.__dict__) >= {"register_tasks", "register_models", "register_pretrained",
                                          "register_commands"}


# -- docs/plugins.md's full example, built from its code blocks, trains and runs -------------------

DOCS = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


@pytest.mark.slow
def test_the_plugins_md_example_trains(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The docs' example package, written out from its code blocks, registers, trains and runs
    (on one torch thread, like every test: the autouse fixture in conftest.py)."""
    import importlib
    import re

    blocks = re.findall(r"^`(zoo_echo/\w+\.py)`:\n\n```python\n(.*?)^```", DOCS.read_text(), re.M | re.S)
    assert sorted(name for name, _ in blocks) == [
        "zoo_echo/config.py", "zoo_echo/model.py", "zoo_echo/plugin.py", "zoo_echo/task.py"]
    (tmp_path / "zoo_echo").mkdir()
    (tmp_path / "zoo_echo" / "__init__.py").write_text("")
    for name, code in blocks:
        (tmp_path / name).write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "zoo_echo" or m.startswith("zoo_echo.")]:
        monkeypatch.delitem(sys.modules, name)

    plugin = importlib.import_module("zoo_echo.plugin")
    z = Zoo()
    assert z.add_plugin(plugin, "echo", "zoo-echo", "0.1.0").registered == ["task:echo", "model:elman"]
    use(z)
    result = zoo.train("echo", "elman", steps=200, out=tmp_path / "run")
    assert result.metrics["accuracy"] >= 0.95, result.metrics
    assert zoo.load(str(result.run_dir)).run("31415926") == "3141592"


def test_hooks_are_called_through_pluggy_and_listed_from_the_hookspecs() -> None:
    from zoo import hookspecs
    from zoo.plugins import HOOKS

    specs = [name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "zoo_spec")]
    assert sorted(HOOKS) == sorted(specs) and len(HOOKS) == 4
    z = Zoo()
    calls: list[tuple[str, list[str]]] = []
    z.pm.add_hookcall_monitoring(
        lambda hook, impls, kwargs: calls.append((hook, [i.plugin_name for i in impls])), lambda *a: None)
    z.add_plugin(TaskPlugin(), "tasks")
    z.add_plugin(ModelPlugin(), "models")
    assert calls == [("register_tasks", ["tasks"]), ("register_models", ["models"])]  # one plugin per call


def test_loading_a_plugin_with_commands_does_not_import_the_cli() -> None:
    import subprocess

    code = (
        "import sys, click, zoo\n"
        "from zoo.plugins import Zoo\n"
        "class P:\n"
        "    @staticmethod\n"
        "    @zoo.hookimpl\n"
        "    def register_commands(cli):\n"
        "        cli.add_command(click.Command('hello'))\n"
        "r = Zoo().add_plugin(P(), 'p')\n"
        "assert r.registered == ['command:hello'], r\n"
        "print(sorted(m for m in sys.modules if m.startswith('zoo.cli')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
