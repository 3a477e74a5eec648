"""Turn names and settings into a live task and network: the one place the core builds them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zoo import config as cfg
from zoo.errors import ZooError
from zoo.plugins import Zoo, current

if TYPE_CHECKING:  # torch-backed: only for the annotations, so building a recipe stays torch-free
    from torch import nn

    from zoo.model import Model
    from zoo.task import Task


@dataclass
class Recipe:
    """Everything needed to rebuild a network: task and model names with typed configs."""

    task_name: str
    model_name: str
    task_config: Any
    model_config: Any


def recipe(
    task_name: str,
    model_name: str,
    settings: list[str] | tuple[str, ...] = (),
    *,
    task_values: dict[str, Any] | None = None,
    model_values: dict[str, Any] | None = None,
    zoo: Zoo | None = None,
) -> Recipe:
    """Resolve names and ``name=value`` settings (and/or typed values) into configs.

    The task's ``model_defaults`` fill model fields the user did not set.
    """
    zoo = zoo or current()
    task_comp, model_comp = zoo.task(task_name), zoo.model(model_name)
    routed = cfg.split_settings(list(settings), {"task": task_comp.config, "model": model_comp.config})
    task_vals = {**(task_values or {}), **routed["task"]}
    model_vals = {**(model_values or {}), **routed["model"]}
    model_fields = {f.name for f in cfg.fields_of(model_comp.config)}
    for name, value in dict(getattr(task_comp.load(), "model_defaults", {})).items():
        if name in model_fields and name not in model_vals:
            model_vals[name] = value
    return Recipe(
        task_name,
        model_name,
        cfg.build(task_comp.config, task_vals, owner=f"task '{task_name}'"),
        cfg.build(model_comp.config, model_vals, owner=f"model '{model_name}'"),
    )


def make_task(r: Recipe, zoo: Zoo | None = None) -> Task:
    """Instantiate the task class of a recipe (imports the plugin's torch code).

    Refuses a model the task cannot use (``check_fit``) before any data is loaded.
    """
    zoo = zoo or current()
    task_cls = zoo.task(r.task_name).load()
    check_fit(r.task_name, task_cls, r.model_name, zoo.model(r.model_name).load())
    return task_cls(r.task_config)


def check_fit(task_name: str, task_cls: type, model_name: str, model_cls: type) -> None:
    """ZooError when the task passes state on (``Task.uses_state``/``stateful``) and the model
    declares it carries none (``Model.carries_state`` False)."""
    needs = bool(getattr(task_cls, "uses_state", True) or getattr(task_cls, "stateful", False))
    if needs and not getattr(model_cls, "carries_state", True):
        raise ZooError(f"task '{task_name}' carries state; model '{model_name}' is stateless")


def make_network(r: Recipe, task: Task, zoo: Zoo | None = None) -> nn.Module:
    """Compose the task's network around fresh backbones of the recipe's model."""
    zoo = zoo or current()
    model_cls = zoo.model(r.model_name).load()

    def backbone(input_size: int) -> Model:
        return model_cls(input_size, r.model_config)

    try:
        net = task.build(backbone)
    except (ValueError, RuntimeError, TypeError, OverflowError) as exc:  # e.g. a negative size in config.json
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ZooError(f"task '{r.task_name}' cannot build model '{r.model_name}' with these settings ({first})") from None
    if net is None:
        raise ZooError(f"task '{r.task_name}' built no network")
    return net


def configs_as_dict(r: Recipe, zoo: Zoo | None = None) -> dict[str, Any]:
    """config.json's ``task`` and ``model`` sections, with the distribution that provides each."""
    zoo = zoo or current()
    out = {}
    for section, name, comp, config in (
        ("task", r.task_name, zoo.task(r.task_name), r.task_config),
        ("model", r.model_name, zoo.model(r.model_name), r.model_config),
    ):
        out[section] = {
            "name": name,
            "distribution": comp.provider.distribution,
            "version": comp.provider.version,
            "config": cfg.to_dict(config),
        }
    return out


def recipe_from_dict(data: dict[str, Any], zoo: Zoo | None = None) -> Recipe:
    """Rebuild a recipe from config.json's ``task``/``model`` sections."""
    zoo = zoo or current()
    task_name, model_name = data["task"]["name"], data["model"]["name"]
    task_comp, model_comp = zoo.task(task_name), zoo.model(model_name)
    return Recipe(
        task_name,
        model_name,
        cfg.build_saved(task_comp.config, data["task"].get("config", {}), owner=f"task '{task_name}'"),
        cfg.build_saved(model_comp.config, data["model"].get("config", {}), owner=f"model '{model_name}'"),
    )



def backbone(name: str, input_size: int, *, zoo: Zoo | None = None, **settings: Any) -> Model:
    """A bare, freshly initialised backbone of model ``name``: ``zoo.backbone("rnn", 2, hidden_size=2)``.

    For learners and plugin authors who want the network alone, to set its weights by hand or
    call it step by step. ``settings`` are the model's config fields (typed values or text).
    """
    zoo = zoo or current()
    comp = zoo.model(name)
    config = cfg.build(comp.config, settings, owner=f"model '{name}'")
    return comp.load()(input_size, config)
