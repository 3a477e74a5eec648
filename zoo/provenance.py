"""Where a saved model's parts come from: checked before its config.json is trusted.

``config.json`` records, for the task and the model, the name and the distribution (and version)
that provided it at training time. Loading refuses a name that another distribution provides
now (the class behind it is someone else's code), a name two plugins contest (the clash rule),
and says whether a recorded distribution is missing, disabled, or installed but failed to load.
A different *version* of the same distribution is accepted.
"""

from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING, Any

from zoo.errors import ZooError

if TYPE_CHECKING:
    from zoo.plugins import Zoo

SECTIONS = ("task", "model")


def check(config: dict[str, Any], zoo: Zoo, where: str = "this model") -> None:
    """Raise one ``ZooError`` line when the task or model of ``config`` cannot be trusted here."""
    for section in SECTIONS:
        part = config[section]
        name = part["name"]
        recorded = part.get("distribution") or ""
        table = zoo.tasks if section == "task" else zoo.models
        if name in table:
            now = table[name].provider
            if recorded and now.distribution and now.distribution != recorded:
                was = f"{recorded} {part.get('version') or ''}".strip()
                raise ZooError(
                    f"{where} was trained with {section} '{name}' from {was}, but here '{name}' comes from "
                    f"{now}; refusing to load it with another distribution's code "
                    f"(install {recorded}, or disable the other one: ZOO_DISABLE_PLUGINS={now.plugin})"
                )
            continue
        refusal = zoo.refusal(section, name)
        if refusal:
            raise ZooError(refusal)
        raise ZooError(_absent(section, name, recorded, config, zoo))


def _absent(section: str, name: str, recorded: str, config: dict[str, Any], zoo: Zoo) -> str:
    """Why a recorded name is not available: not installed, disabled, or failed to load."""
    hint = recorded or next(iter(config.get("versions", {}).get("plugins", {}) or {}), "")
    records = [r for r in zoo.plugins if hint and hint in (r.distribution, r.name)]
    for record in records:
        if record.status == "failed":
            return (f"{section} '{name}' comes from {hint}, which is installed but failed to load: {record.error} "
                    f"(see `zoo plugins`)")
        if record.status == "blocked":
            return (f"{section} '{name}' comes from {hint}, which is installed but disabled "
                    f"(ZOO_LOAD_PLUGINS / ZOO_DISABLE_PLUGINS)")
    if records or (hint and _installed(hint)):
        return f"{section} '{name}' is not provided by {hint} as installed here (a different version?)"
    where = f"; install the distribution that provides it: pip install {hint}" if hint else ""
    return f"{section} '{name}' is not installed{where}"


def _installed(distribution: str) -> bool:
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return False
    return True
