"""The ``zoo`` logger: diagnostics that are not a command's output go through ``logging``.

A plugin that failed to load, a refused name, an environment variable naming nothing: the CLI
user sees each as one ``warning: ...`` line on stderr, as before. A library user silences or
redirects them the usual way::

    logging.getLogger("zoo").setLevel(logging.ERROR)        # silence warnings
    logging.getLogger("zoo").handlers.clear()               # and, to route them through your own
    logging.getLogger("zoo").propagate = True               # root handlers instead

The handler writes to whatever ``sys.stderr`` is at the time (so redirected or captured streams
see the lines), and ``propagate`` is off so a root handler does not print each line twice.
"""

from __future__ import annotations

import logging
import sys

NAME = "zoo"


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """A StreamHandler bound to the current ``sys.stderr`` at each record, not at creation."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN202
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


def logger(name: str = NAME) -> logging.Logger:
    """The ``zoo`` logger (or a child such as ``zoo.plugins``), set up once."""
    root = logging.getLogger(NAME)
    if not getattr(root, "_zoo_configured", False):
        handler = _Stderr()
        handler.setFormatter(_Formatter())
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        root.propagate = False
        root._zoo_configured = True  # type: ignore[attr-defined]
    return logging.getLogger(name)
