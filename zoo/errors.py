"""User-facing errors: one clear line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ZooError(Exception):
    """A mistake the user can fix (bad name, bad value, bad file).

    The CLI prints ``error: <message>`` and exits with code 2. Library code raises it
    wherever the cause is the caller's input rather than a bug.
    """

    exit_code = 2


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def unknown(kind: str, name: str, choices: Iterable[str]) -> ZooError:
    """The error for an unknown task, model, pretrained entry, option..."""
    choices = sorted(choices)
    hint = did_you_mean(name, choices)
    if not hint and choices:
        shown = ", ".join(choices[:12]) + (", ..." if len(choices) > 12 else "")
        hint = f"; known: {shown}"
    return ZooError(f"unknown {kind} '{name}'{hint}")
