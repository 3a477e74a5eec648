"""What a comparison produces: one outcome per run, one row per model, and the whole of ``compare.json``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = 1
"""Of compare.json (and of ``zoo compare --json``, which prints the same object)."""


@dataclass
class RunOutcome:
    """One training run of the comparison."""

    model: str
    seed: int
    run_dir: str
    metric: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    steps: int = 0
    seconds: float = 0.0
    tokens_per_sec: float | None = None
    params: int | None = None
    time_to_target: float | None = None
    steps_to_target: int | None = None
    stopped: str = ""
    error: str | None = None
    label: str = ""
    """The leaderboard row this run belongs to: the model, then any varied settings."""
    variant: str = ""
    """The varied settings of this run (``input=onehot lr=0.01``; empty without ``--vary``)."""


@dataclass
class Row:
    """One model's line of the leaderboard, aggregated over seeds."""

    model: str
    runs: int
    metric_mean: float | None
    metric_spread: float | None
    params: int | None
    tokens_per_sec: float | None
    time_to_target: float | None
    steps_to_target: float | None
    reached: int
    failed: int


@dataclass
class Comparison:
    """Everything ``compare.json`` holds."""

    task: str
    metric: str
    mode: str
    target: float | None
    budget: dict[str, Any]
    seeds: list[int]
    settings: list[str]
    runs: list[RunOutcome]
    rows: list[Row]
    threads: int | None = None
    interrupted: bool = False
    """Ctrl-C (or SIGTERM) stopped the comparison: the runs after the interrupted one never ran."""
    vary: list[str] = field(default_factory=list)
    """The ``--vary NAME=V1,V2`` specs: rows are labelled ``MODEL NAME=VALUE ...``."""

    def as_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, **asdict(self)}
