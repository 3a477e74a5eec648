"""What a run tells the user: a tqdm bar on a terminal, plain log lines otherwise, metrics.jsonl.

Only rank 0 reports; other ranks get a silent reporter.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path
from typing import Any, Literal, TextIO

from zoo.fileio import write_text_atomic
from zoo.layout import METRICS

Mode = Literal["bar", "lines", "off"]

MIN_BAR_WIDTH = 40
"""Narrower terminals (or a reported width of 0, as some CI consoles give) get plain lines: a
bar squeezed below this wraps or loses its numbers."""


def pick_mode(progress: bool | str, stream: TextIO | None = None) -> Mode:
    """``progress``: False (silent), True/"auto" (bar on a terminal, else lines), "bar", "lines"."""
    if progress is False or progress == "off":
        return "off"
    if progress in ("bar", "lines"):
        return progress  # type: ignore[return-value]
    stream = stream or sys.stdout
    if not getattr(stream, "isatty", lambda: False)():
        return "lines"
    return "bar" if shutil.get_terminal_size(fallback=(80, 24)).columns >= MIN_BAR_WIDTH else "lines"


def truncate_metrics(run_dir: Path, step: int) -> None:
    """Drop records logged after ``step`` (written after the checkpoint a run resumes from)."""
    file = run_dir / METRICS
    if not file.exists():
        return
    kept = []
    for line in file.read_text(encoding="utf-8").splitlines():
        try:
            if json.loads(line).get("step", 0) <= step:
                kept.append(line)
        except json.JSONDecodeError:
            continue  # a line cut short by a kill
    write_text_atomic(file, "".join(f"{line}\n" for line in kept))


def _fmt(value: float) -> str:
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def _eta(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else f"{seconds // 60}:{seconds % 60:02d}"


class Reporter:
    """Progress display and the metrics.jsonl log of one run."""

    def __init__(self, run_dir: Path | None, mode: Mode, total_steps: int | None, start_step: int,
                 primary: str, stream: TextIO | None = None) -> None:
        self.mode = mode if run_dir is not None else "off"
        self.stream = stream or sys.stdout
        self.primary = primary
        self.last_eval: dict[str, float] = {}
        self._file = open(run_dir / METRICS, "a", encoding="utf-8") if run_dir is not None else None
        self._bar = None
        if self.mode == "bar":
            from tqdm import tqdm

            self._bar = tqdm(total=total_steps, initial=start_step, file=self.stream, unit="step",
                             dynamic_ncols=True, leave=True)

    def _write(self, record: dict[str, Any]) -> None:
        if self._file is not None:
            self._file.write(json.dumps(record) + "\n")
            self._file.flush()

    def advance(self, steps: int) -> None:
        if self._bar is not None:
            self._bar.update(steps)

    def train(self, step: int, loss: float, lr: float, tokens_per_s: float, elapsed: float,
              eta: float | None, tokens: int, seconds: float) -> None:
        """One log window: its mean loss, and its tokens and seconds (evaluation excluded)."""
        self._write({"step": step, "kind": "train", "loss": loss, "lr": lr, "tokens_per_s": tokens_per_s,
                     "tokens": tokens, "seconds": round(seconds, 6), "elapsed": round(elapsed, 3)})
        shown = {"loss": _fmt(loss)}
        if self.primary in self.last_eval:
            shown[self.primary] = _fmt(self.last_eval[self.primary])
        shown["tok/s"] = f"{tokens_per_s:,.0f}"
        if self._bar is not None:
            self._bar.set_postfix(shown, refresh=False)
        elif self.mode == "lines":
            parts = " ".join(f"{k}={v}" for k, v in shown.items())
            print(f"step {step} {parts} lr={lr:.3g} eta={_eta(eta)}", file=self.stream, flush=True)

    def evaluation(self, step: int, metrics: dict[str, float]) -> None:
        self.last_eval = dict(metrics)
        self._write({"step": step, "kind": "eval", **metrics})
        if self.mode == "lines":
            parts = " ".join(f"{k}={_fmt(v)}" for k, v in metrics.items())
            print(f"eval step {step} {parts}", file=self.stream, flush=True)
        elif self._bar is not None:
            self._bar.write(f"eval step {step} " + " ".join(f"{k}={_fmt(v)}" for k, v in metrics.items()))

    def sample(self, step: int, text: str) -> None:
        """A sample generated during training: recorded in metrics.jsonl and shown."""
        self._write({"step": step, "kind": "sample", "sample": text})
        self.message(f"sample at step {step}:\n{text.rstrip()}")

    def message(self, text: str) -> None:
        if self.mode == "off":
            return
        if self._bar is not None:
            self._bar.write(text)
        else:
            print(text, file=self.stream, flush=True)

    def close(self, step: int | None = None) -> None:
        """End the display at the real last ``step``: a run that stopped early (at its target,
        its time) shows 100% there, not a stale fraction of its planned total, with the final
        metric in the postfix."""
        if self._bar is not None:
            if step is not None:
                self._bar.total = step
                self._bar.n = step
                if self.primary in self.last_eval:
                    self._bar.set_postfix({self.primary: _fmt(self.last_eval[self.primary])}, refresh=False)
                self._bar.refresh()
            self._bar.close()
            self._bar = None
        if self._file is not None:
            self._file.close()
            self._file = None
