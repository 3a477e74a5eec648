"""Train, bundle and register seqzoo's first-party pretrained models.

For each model below: train it with ``zoo.train`` (fixed seed and budget), copy its model files into
the task plugin as package data (``plugins/<task>/zoo_<task>/pretrained/<name>/``), evaluate the
bundled copy exactly as ``zoo eval`` does, and write its entry - source, sha256 of every file,
measured metrics, tolerance, this command - into ``registry.toml`` at the repository root.

    python bench/train_pretrained.py                  # all of them
    python bench/train_pretrained.py --only adder-gru count-lstm

charlm-lstm reads tinyshakespeare from ``--shakespeare`` (default ../shared/data/tinyshakespeare.txt).
Budgets in steps give the same weights on a rerun on the same machine; budgets in time do not.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = ROOT / "registry.toml"

SHAKESPEARE = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"


@dataclass
class Spec:
    name: str
    task: str
    model: str
    summary: str
    dataset: str
    settings: list[str] = field(default_factory=list)
    budget: dict[str, Any] = field(default_factory=dict)
    tolerance: float = 1e-3


def specs(shakespeare: Path) -> list[Spec]:
    return [
        Spec("adder-gru", "adder", "gru", "GRU that adds binary numbers of any width (try 81+113)",
             "generated 8-bit pairs, 10% of pairs held out", budget={"steps": 600}),
        Spec("count-lstm", "count", "lstm", "LSTM that continues the classic pattern 0 1 2 1 0 1 2 1 ... (try \"0 1\")",
             "generated periodic sequences of the pattern 0,1,2,1", settings=["pattern=0,1,2,1"],
             budget={"steps": 600}),
        Spec("seq2seq-antonyms", "seq2seq", "gru", "GRU encoder-decoder with attention for the six antonym pairs (try king)",
             "the six classic antonym pairs (memorised)", settings=["data=antonyms", "attention=general", "hidden_size=64"],
             budget={"steps": 400, "eval_every": 20}),
        Spec("seq2seq-addition", "seq2seq", "gru",
             "GRU encoder-decoder with attention that adds decimal numbers (try 123+45)",
             "generated 'a+b' pairs, up to 3 digits",
             settings=["data=addition", "attention=general", "hidden_size=64", "embedding_size=16"],
             budget={"steps": 4000, "batch_size": 64, "lr": 1e-2, "eval_every": 1000}),
        Spec("names-gru", "names", "gru", "GRU that tells a surname's language, 18 languages (try Dostoevsky)",
             "the bundled surnames (13,739 in 18 languages, from faker's lists), 10% of names held out",
             budget={"steps": 3000}),
        Spec("charlm-lstm", "charlm", "lstm", "character-level LSTM language model of Shakespeare (try ROMEO:)",
             "tinyshakespeare", settings=[f"data={shakespeare}", "output_norm=false"],
             # the task's defaults when it was bundled, before issue 15's tuning, so this reproduces it
             budget={"steps": 4500, "eval_every": 1500, "weight_decay": 0.01, "min_lr_ratio": 0.1}),
    ]


def bundle(run_dir: Path, spec: Spec) -> Path:
    """Copy the model files into the task plugin's package data, with a card naming the entry."""
    from zoo.artifacts import read_config
    from zoo.card import card_text
    from zoo.layout import CONFIG, README, WEIGHTS

    dest = ROOT / "plugins" / spec.task / f"zoo_{spec.task}" / "pretrained" / spec.name
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in (WEIGHTS, CONFIG):
        shutil.copyfile(run_dir / name, dest / name)
    (dest / README).write_text(card_text(read_config(dest), ref=spec.name, license="MIT"), encoding="utf-8")
    return dest


def refresh_card(spec: Spec, entry: dict[str, Any]) -> None:
    """Card-only refresh of a bundled model: same weights and metrics; config.json gains the task's
    ``usage`` (pipeline tag, example input) when it predates it, README.md is made again, and the
    entry's file digests follow."""
    from zoo import assemble
    from zoo.artifacts import read_config
    from zoo.card import card_text
    from zoo.fileio import sha256_file, write_json_atomic, write_text_atomic
    from zoo.layout import CONFIG, MODEL_FILES, README

    dest = ROOT / "plugins" / spec.task / f"zoo_{spec.task}" / "pretrained" / spec.name
    config = read_config(dest)
    if "usage" not in config:
        task = assemble.make_task(assemble.recipe_from_dict(config))
        config["usage"] = {"pipeline_tag": task.pipeline_tag, "example_input": task.example_input}
        write_json_atomic(dest / CONFIG, config)
    write_text_atomic(dest / README, card_text(config, ref=spec.name, license=entry.get("license", "MIT")))
    entry["files"] = {name: sha256_file(dest / name) for name in MODEL_FILES}


def entry_for(spec: Spec, folder: Path, metrics: dict[str, float]) -> dict[str, Any]:
    from zoo.fileio import sha256_file
    from zoo.layout import MODEL_FILES

    return {
        "task": spec.task,
        "model": spec.model,
        "source": f"pkg://zoo_{spec.task}/pretrained/{spec.name}",
        "summary": spec.summary,
        "dataset": spec.dataset,
        "license": "MIT",
        "command": f"python bench/train_pretrained.py --only {spec.name}",
        "tolerance": spec.tolerance,
        "metrics": {k: round(v, 6) for k, v in metrics.items()},
        "files": {name: sha256_file(folder / name) for name in MODEL_FILES},
    }


def _value(v: Any) -> str:
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(v)


def write_registry(entries: dict[str, dict[str, Any]]) -> None:
    lines = ["# The seqzoo pretrained catalogue (schema: docs/registry.md).",
             "# Written by bench/train_pretrained.py: rerun it rather than editing metrics by hand.",
             "schema_version = 1", ""]
    for name, entry in entries.items():
        lines.append(f"[pretrained.{name}]")
        for key, value in entry.items():
            if not isinstance(value, dict):
                lines.append(f"{key} = {_value(value)}")
        for table in ("metrics", "files"):
            lines.append(f"[pretrained.{name}.{table}]")
            lines += [f'"{k}" = {_value(v)}' for k, v in entry[table].items()]
        lines.append("")
    REGISTRY.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    import zoo
    from zoo.layout import MODEL_FILES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="train only these entries")
    parser.add_argument("--shakespeare", type=Path, default=SHAKESPEARE)
    parser.add_argument("--cards-only", action="store_true",
                        help="no training: refresh the bundled models' cards (and config.json's usage) and digests")
    args = parser.parse_args(argv)
    todo = [s for s in specs(args.shakespeare) if not args.only or s.name in args.only]
    entries = tomllib.loads(REGISTRY.read_text(encoding="utf-8")).get("pretrained", {}) if REGISTRY.exists() else {}
    if args.cards_only:
        for spec in todo:
            if spec.name in entries:
                refresh_card(spec, entries[spec.name])
                print(f"{spec.name}: card refreshed", flush=True)
        write_registry(entries)
        return 0
    for spec in todo:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            result = zoo.train(spec.task, spec.model, settings=spec.settings, seed=0, out=str(Path(tmp) / "run"),
                               **spec.budget)
            folder = bundle(result.run_dir, spec)
        metrics = zoo.evaluate(folder).measured
        entries[spec.name] = entry_for(spec, folder, metrics)
        size = sum((folder / f).stat().st_size for f in MODEL_FILES)
        print(f"{spec.name}: {result.steps} steps, {time.perf_counter() - start:.0f}s, {size / 1024:.0f} KiB, "
              + ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()), flush=True)
        write_registry(entries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
