"""``zoo info RUN_DIR``: what a run folder holds, read from its files alone (torch-free).

Task and model with their settings (the data or pattern it was trained on is a task setting),
the engine's settings, the recorded metrics, how far training got and whether it can resume.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo import layout
from zoo.errors import ZooError
from zoo.fileio import read_document


def is_run_folder(path: Path) -> bool:
    """A folder with a model directory's config or a training run's files."""
    return path.is_dir() and any((path / name).exists() for name in (layout.CONFIG, layout.RESUME, layout.METRICS))


def describe_run(path: str | Path) -> dict[str, Any]:
    """A run folder as one JSON-ready dict (``kind: run``)."""
    from zoo.artifacts import read_config
    from zoo.compare.runs import read_metrics

    folder = Path(path)
    if not is_run_folder(folder):
        raise ZooError(f"{path}: not a run folder (no {layout.CONFIG}, {layout.RESUME} or {layout.METRICS})")
    out: dict[str, Any] = {"kind": "run", "path": str(folder)}
    if (folder / layout.CONFIG).exists():
        config = read_config(folder)
        for section in ("task", "model"):
            part = config[section]
            out[section] = part["name"]
            out[f"{section}_settings"] = part.get("config", {})
            out[f"{section}_distribution"] = part.get("distribution")
        out["training"] = config.get("training", {})
        out["metrics"] = config.get("metrics", {})
        out["versions"] = config.get("versions", {})
    if (folder / layout.RESUME).exists():
        record = read_document(folder / layout.RESUME, missing=f"{folder}: no {layout.RESUME}")
        if isinstance(record, dict):
            out["checkpoint_step"] = record.get("step")
            out.setdefault("training", {}).setdefault("settings", record.get("settings", {}))
    if (folder / layout.METRICS).exists():
        records = read_metrics(folder)
        steps = [r["step"] for r in records if isinstance(r.get("step"), int)]
        out["logged_steps"] = max(steps, default=0)
        evals = [r for r in records if r.get("kind") == "eval"]
        if evals:
            out["last_eval"] = evals[-1]
    out["resumable"] = (folder / layout.RESUME).exists()
    out["files"] = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    return out


def _settings(values: dict[str, Any]) -> str:
    return " ".join(f"{k}={','.join(map(str, v)) if isinstance(v, list) else v}" for k, v in values.items()) or "-"


def run_lines(info: dict[str, Any]) -> list[str]:
    """The human form of ``describe_run``'s dict."""
    lines = [f"run {info['path']}"]
    if "task" in info:
        lines.append(f"  task: {info['task']}  {_settings(info['task_settings'])}")
        lines.append(f"  model: {info['model']}  {_settings(info['model_settings'])}")
    training = info.get("training", {})
    facts = {k: v for k, v in training.items() if k != "settings" and not isinstance(v, dict | list)}
    if facts:
        lines.append(f"  training: {_settings(facts)}")
    if isinstance(training.get("settings"), dict) and training["settings"]:
        lines.append(f"  engine settings: {_settings(training['settings'])}")
    if info.get("metrics"):
        lines.append("  metrics: " + ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}"
                                               for k, v in info["metrics"].items()))
    if "logged_steps" in info:
        lines.append(f"  logged up to step {info['logged_steps']}")
    if info.get("resumable"):
        lines.append(f"  checkpoint at step {info.get('checkpoint_step')}: zoo train --resume {info['path']}")
    lines.append(f"  files: {', '.join(info['files'])}")
    return lines
