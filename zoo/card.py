"""The model card (README.md) of a model directory, made with huggingface_hub's ModelCard.

Its YAML metadata (library name ``seqzoo``, tags for the task and model, datasets, metrics) is
what the Hub indexes; its body says what the model is, how well it did and how to use it. It is
derived from config.json only, so it can be rebuilt at any time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zoo.fileio import write_text_atomic
from zoo.layout import README

LIBRARY = "seqzoo"
PLACEHOLDER = "hf://OWNER/NAME"


def _dataset(config: dict[str, Any]) -> str:
    training = config.get("training", {})
    named = training.get("dataset")
    if isinstance(named, str) and named:
        return named
    data = config["task"].get("config", {}).get("data")
    if isinstance(data, str) and data:
        return Path(data).stem
    return f"{LIBRARY}-{config['task']['name']}-generated"


def card_text(config: dict[str, Any], ref: str | None = None) -> str:
    """The README.md text for a model with this config.json; ``ref`` is what users load it by
    (``hf://OWNER/NAME`` or a pretrained name)."""
    from huggingface_hub import ModelCard, ModelCardData

    task, model = config["task"]["name"], config["model"]["name"]
    metrics = {k: v for k, v in config.get("metrics", {}).items() if isinstance(v, int | float)}
    dists = sorted({d for d in (config["task"].get("distribution"), config["model"].get("distribution")) if d})
    data = ModelCardData(
        library_name=LIBRARY,
        tags=[LIBRARY, task, model, f"{LIBRARY}-task-{task}", f"{LIBRARY}-model-{model}"],
        datasets=[_dataset(config)],
        metrics=sorted(metrics),
        license=config.get("training", {}).get("license"),
    )
    ref = ref or PLACEHOLDER
    rows = "\n".join(f"| {k} | {v:.6g} |" for k, v in metrics.items()) or "| (none recorded) | |"
    training = config.get("training", {})
    facts = ", ".join(f"{k}={training[k]}" for k in ("steps", "seconds", "seed", "batch_size", "lr") if k in training)
    body = f"""
# {task} with a {model} backbone

A [seqzoo](https://pypi.org/project/seqzoo/) model: task `{task}`, model `{model}`, trained on
`{_dataset(config)}`{f" ({facts})" if facts else ""}.

## Metrics

| metric | value |
|---|---|
{rows}

## Usage

```bash
pip install seqzoo {" ".join(dists)}
zoo run {ref} "INPUT"
```

```python
import zoo

model = zoo.load("{ref}")
print(model.run("INPUT"))
```

Weights are `model.safetensors` (read strictly, never unpickled); `config.json` holds the task and
model configs, vocabulary, training facts, metrics and library versions.
"""
    return str(ModelCard(f"---\n{data.to_yaml()}\n---\n{body}"))


def write_card(path: str | Path, config: dict[str, Any]) -> None:
    write_text_atomic(Path(path) / README, card_text(config))


def card_for_push(path: str | Path, config: dict[str, Any], repo_id: str) -> bytes:
    """The README.md to upload: ours, filled in with ``repo_id``, unless the user wrote their own."""
    readme = Path(path) / README
    if readme.is_file():
        text = readme.read_text(encoding="utf-8")
        if text != card_text(config):
            return text.encode("utf-8")
    return card_text(config, f"hf://{repo_id}").encode("utf-8")
