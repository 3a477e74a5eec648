"""Diagnostics go through the ``zoo`` logger: one ``warning:`` line on stderr by default, silenced
or redirected by a library user with the standard logging calls."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

import zoo
from zoo.plugins import Zoo


class _Broken:
    @staticmethod
    @zoo.hookimpl
    def register_tasks(register) -> None:  # noqa: ANN001
        raise RuntimeError("boom")


@pytest.fixture
def zoo_logger() -> Iterator[logging.Logger]:
    log = logging.getLogger("zoo")
    level = log.level
    yield log
    log.setLevel(level)


def test_a_failed_plugin_is_one_warning_line_that_a_library_user_can_silence(
        capsys: pytest.CaptureFixture[str], zoo_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZOO_STRICT_PLUGINS", raising=False)
    Zoo().add_plugin(_Broken(), "broken")
    err = capsys.readouterr().err
    assert err.startswith("warning: plugin 'broken' failed to load: ") and "boom" in err
    assert len(err.splitlines()) == 1

    zoo_logger.setLevel(logging.ERROR)
    record = Zoo().add_plugin(_Broken(), "broken")
    assert record.status == "failed"  # still recorded for `zoo plugins`, just not printed
    assert capsys.readouterr().err == ""


def test_diagnostics_can_be_routed_to_the_users_handlers(zoo_logger: logging.Logger,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZOO_STRICT_PLUGINS", raising=False)
    seen: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    handler = Collect()
    zoo_logger.addHandler(handler)
    try:
        Zoo().add_plugin(_Broken(), "broken")
    finally:
        zoo_logger.removeHandler(handler)
    assert [(r.name, r.levelno) for r in seen] == [("zoo.plugins", logging.WARNING)]
