"""SIGINT/SIGTERM become a flag the loop checks between steps, so it can checkpoint and exit.

A second signal ends the process at once with status 130, without saving, even in the middle of
a step. Python runs signal handlers only between bytecodes, so a handler alone would wait for a
long torch call (a huge batch) to return. The C-level handler also writes each signal's number
to a pipe (``signal.set_wakeup_fd``); a watcher thread blocked on that pipe counts them and exits
the process on the second one. torch releases the GIL inside its kernels, so the watcher runs
while the main thread computes.

Ending the process is right for the ``zoo`` command, which turns it on (``exit_on_second_signal``).
A library caller, such as a notebook whose kernel must survive, gets ``KeyboardInterrupt`` from
the second signal instead, raised as soon as Python code runs again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)
EXIT_AT_ONCE = 130
_EXIT_ON_SECOND = False
_MESSAGE = b"\nstopped at once by a second signal; nothing more was saved\n"


class StopFlag:
    def __init__(self) -> None:
        self.signum: int | None = None

    def __bool__(self) -> bool:
        return self.signum is not None


def exit_on_second_signal(enabled: bool = True) -> None:
    """Make a second SIGINT/SIGTERM end the process at once (the zoo command's choice)."""
    global _EXIT_ON_SECOND
    _EXIT_ON_SECOND = enabled


def exit_at_once() -> None:
    """End the process now: no cleanup, no saving (the last committed checkpoint stays whole)."""
    with contextlib.suppress(OSError):
        os.write(2, _MESSAGE)
    os._exit(EXIT_AT_ONCE)


def _watch(read_fd: int) -> None:
    """Count stop signals from the wakeup pipe; the second one ends the process."""
    seen = 0
    while True:
        try:
            data = os.read(read_fd, 64)
        except OSError:
            return
        if not data:  # the pipe was closed: the block ended
            return
        seen += sum(1 for b in data if b in SIGNALS)
        if seen >= 2:
            exit_at_once()


@contextlib.contextmanager
def catch_stop_signals() -> Iterator[StopFlag]:
    """Within the block, the first SIGINT/SIGTERM only sets the yielded flag; a second one exits."""
    flag = StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag  # signal handlers can only be installed from the main thread
        return
    previous = {s: signal.getsignal(s) for s in SIGNALS}

    def handler(signum: int, frame: FrameType | None) -> None:
        if flag:
            if _EXIT_ON_SECOND:
                exit_at_once()
            raise KeyboardInterrupt
        flag.signum = signum

    for s in SIGNALS:
        signal.signal(s, handler)
    if not _EXIT_ON_SECOND:
        try:
            yield flag
        finally:
            for s, h in previous.items():
                signal.signal(s, h)
        return
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    previous_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    watcher = threading.Thread(target=_watch, args=(read_fd,), name="zoo-second-signal", daemon=True)
    watcher.start()
    try:
        yield flag
    finally:
        signal.set_wakeup_fd(previous_fd)
        for s, h in previous.items():
            signal.signal(s, h)
        os.close(write_fd)  # the watcher reads end-of-file and returns
        watcher.join(timeout=5)
        os.close(read_fd)
