"""Consent before fetching: a model's config.json must not make seqzoo download anything by itself.

``zoo eval`` re-prepares a model's data from the task settings recorded in its ``config.json``.
That file comes from whoever published the model, so a URL in it is someone else's choice of
where this machine connects. It is fetched only when the user says so (``--allow-download``) or
when the user gave that setting themselves (``--set data=...``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from zoo.errors import ZooError

URL_SCHEMES = ("http://", "https://", "ftp://")


def recorded_urls(settings: Mapping[str, Any]) -> dict[str, str]:
    """The settings whose value is a URL (or a list holding one), by setting name."""
    found = {}
    for name, value in settings.items():
        values = value if isinstance(value, list | tuple) else [value]
        urls = [v for v in values if isinstance(v, str) and v.strip().lower().startswith(URL_SCHEMES)]
        if urls:
            found[name] = urls[0]
    return found


def require_consent(ref: str, settings: Mapping[str, Any], given: Iterable[str], allow: bool) -> None:
    """Refuse, in one line, to use a URL from ``settings`` that the user neither gave nor allowed."""
    if allow:
        return
    given = set(given)
    for name, url in recorded_urls(settings).items():
        if name not in given:
            raise ZooError(
                f"{ref}: its config.json sets {name}={url}, a download; pass --allow-download to fetch it, "
                f"or give the data yourself with --set {name}=PATH"
            )
