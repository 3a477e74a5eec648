"""Typed configuration dataclasses: fields with defaults and help, parsed from ``name=value`` text.

Tasks and models describe their hyperparameters as plain dataclasses. This module is the one
place that turns text from the command line into typed values, validates them and describes
them for ``zoo info`` and ``zoo train --help``. It never imports torch.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from zoo.errors import ZooError, did_you_mean

_SAME = object()


def option(default: Any, help: str, *, choices: tuple[Any, ...] | None = None, absent: Any = _SAME) -> Any:
    """A config field with a default and help text (and optional allowed values).

    Use it as ``hidden_size: int = option(128, "units per layer")``. ``absent`` is what a saved
    config.json that lacks the field meant: give it when a new field's default changes what
    older runs built (``output_norm: bool = option(True, "...", absent=False)``), so their
    weights still load as they were trained.
    """
    meta = {"help": help}
    if choices is not None:
        meta["choices"] = tuple(choices)
    if absent is not _SAME:
        meta["absent"] = absent
    if isinstance(default, list | dict | set):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class FieldInfo:
    """What a user needs to know about one config field."""

    name: str
    type: Any
    type_name: str
    default: Any
    help: str
    choices: tuple[Any, ...] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type_name,
            "default": self.default,
            "help": self.help,
            "choices": list(self.choices) if self.choices else None,
        }


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "|".join(str(a) for a in typing.get_args(tp))
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        inner = " | ".join(_type_name(a) for a in args)
        return f"{inner} | None" if len(args) < len(typing.get_args(tp)) else inner
    if origin in (tuple, list):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        return f"list[{_type_name(args[0])}]" if args else "list"
    return getattr(tp, "__name__", str(tp))


def fields_of(cls: type) -> list[FieldInfo]:
    """Describe every field of a config dataclass, resolving string annotations."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None
        tp = hints[f.name]
        choices = f.metadata.get("choices")
        if choices is None and typing.get_origin(tp) is Literal:
            choices = typing.get_args(tp)
        out.append(FieldInfo(f.name, tp, _type_name(tp), default, f.metadata.get("help", ""), choices))
    return out


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _convert(text: str, tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if type(None) in args and text.strip().lower() in ("none", "null", ""):
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(text, arg)
            except ValueError as exc:
                errors.append(str(exc))
        raise ValueError(errors[0] if errors else f"cannot parse {text!r}")
    if origin is Literal:
        for choice in typing.get_args(tp):
            if str(choice) == text:
                return choice
        raise ValueError(f"expected one of {', '.join(map(str, typing.get_args(tp)))}")
    if origin in (tuple, list):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis] or [str]
        items = [s for s in text.replace(",", " ").split() if s]
        return origin(_convert(item, args[0]) for item in items)
    if tp is bool:
        low = text.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError("expected true or false")
    if tp is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError("expected an integer") from None
    if tp is float:
        try:
            number = float(text)
        except ValueError:
            raise ValueError("expected a number") from None
        if not math.isfinite(number):
            raise ValueError("expected a finite number")
        return number
    if tp is str:
        return text
    raise ValueError(f"unsupported field type {tp!r}")


def _has_type(value: Any, tp: Any) -> bool:
    """Whether a typed value (from JSON or Python) fits a field's annotation."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return any(_has_type(value, arg) for arg in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if origin is Literal:
        return value in typing.get_args(tp)
    if origin in (tuple, list):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        return isinstance(value, list | tuple) and all(_has_type(v, args[0]) for v in value) if args else True
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if tp is str:
        return isinstance(value, str)
    return True  # a type this module does not parse: the dataclass is the judge


def parse_field(info: FieldInfo, text: str) -> Any:
    """Parse one value for a field, raising ZooError with the field's name and type."""
    try:
        value = _convert(text, info.type)
    except ValueError as exc:
        raise ZooError(f"bad value {text!r} for '{info.name}' ({info.type_name}): {exc}") from None
    if info.choices and value not in info.choices:
        raise ZooError(
            f"bad value {text!r} for '{info.name}': expected one of {', '.join(map(str, info.choices))}"
        )
    return value


def build(cls: type, values: Mapping[str, Any] | None = None, *, owner: str = "config") -> Any:
    """Make a config instance from typed values or text (text is parsed and validated).

    Unknown names are an error that lists the valid fields.
    """
    infos = {f.name: f for f in fields_of(cls)}
    kwargs = {}
    for name, value in (values or {}).items():
        if name not in infos:
            valid = ", ".join(infos) or "none"
            raise ZooError(f"unknown setting '{name}' for {owner}{did_you_mean(name, infos)}; valid: {valid}")
        info = infos[name]
        if isinstance(value, str):
            value = parse_field(info, value)
        else:
            if isinstance(value, list) and typing.get_origin(info.type) is tuple:
                value = tuple(value)  # JSON has no tuples
            if info.choices and value not in info.choices:
                raise ZooError(
                    f"bad value {value!r} for '{name}': expected one of {', '.join(map(str, info.choices))}"
                )
            if not _has_type(value, info.type):  # e.g. a config.json edited by hand
                raise ZooError(f"bad value {value!r} for '{name}' of {owner}: expected {info.type_name}")
        kwargs[name] = value
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ZooError(f"invalid {owner}: {exc}") from None


def build_saved(cls: type, values: Mapping[str, Any], *, owner: str = "config") -> Any:
    """``build`` for a config read back from a saved run: a field the run predates takes the
    value its ``option(absent=...)`` declares rather than today's default."""
    if not isinstance(values, Mapping):  # damaged: build says what is wrong with it
        return build(cls, values, owner=owner)
    missing = {f.name: f.metadata["absent"] for f in dataclasses.fields(cls)
               if f.name not in values and "absent" in f.metadata}
    return build(cls, {**missing, **values}, owner=owner)


def to_dict(config: Any) -> dict[str, Any]:
    """JSON-ready dict of a config instance (tuples become lists)."""
    out = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def split_settings(
    pairs: list[str] | tuple[str, ...], groups: Mapping[str, type]
) -> dict[str, dict[str, str]]:
    """Route ``name=value`` strings to the config class that owns the name.

    ``groups`` maps an owner label (``task``, ``model``) to its config class. A name can be
    qualified (``model.dropout=0.1``) and must be when more than one owner has it.
    """
    owners = {label: {f.name for f in fields_of(cls)} for label, cls in groups.items()}
    routed: dict[str, dict[str, str]] = {label: {} for label in groups}
    for pair in pairs:
        if "=" not in pair:
            raise ZooError(f"bad setting {pair!r}: expected name=value")
        name, value = pair.split("=", 1)
        name = name.strip().replace("-", "_")
        if "." in name:
            label, field = name.split(".", 1)
            if label not in owners:
                raise ZooError(f"bad setting {pair!r}: prefix must be one of {', '.join(owners)}")
            if field not in owners[label]:
                valid = ", ".join(sorted(owners[label]))
                raise ZooError(f"unknown setting '{field}' for {label}{did_you_mean(field, owners[label])}; valid: {valid}")
            routed[label][field] = value
            continue
        matches = [label for label, names in owners.items() if name in names]
        if not matches:
            every = sorted(set().union(*owners.values()))
            raise ZooError(f"unknown setting '{name}'{did_you_mean(name, every)}; valid: {', '.join(every)}")
        if len(matches) > 1:
            raise ZooError(f"setting '{name}' is ambiguous: write {' or '.join(m + '.' + name for m in matches)}")
        routed[matches[0]][name] = value
    return routed
