"""The file names of a model directory and a run folder, defined once.

A model directory (every run, Hub repository and pretrained entry) holds the weights, the config
and the model card. A training run adds its metrics log, its resume record and a checkpoint
folder; a comparison adds ``compare.json`` beside its runs. Every module that reads or writes
these files takes the names from here, so the layout cannot drift between writer and reader.
"""

from __future__ import annotations

WEIGHTS = "model.safetensors"
"""The network's weights (safetensors, never pickle)."""
CONFIG = "config.json"
"""Recipe, vocabulary, training facts, metrics and library versions."""
README = "README.md"
"""The model card (Hugging Face conventions)."""
MODEL_FILES = (WEIGHTS, CONFIG, README)
"""What a model directory is made of: the files pushed to and pulled from the Hub."""
SAFETENSORS_METADATA = {"format": "pt"}
"""The ``__metadata__`` of every weights file seqzoo writes: the tag the Hub and transformers read
to know the tensors are PyTorch's."""

METRICS = "metrics.jsonl"
"""One JSON record per log or evaluation line of a training run."""
RESUME = "resume.json"
"""The latest checkpoint's record: which files, the optimizer and RNG state, the settings."""
CHECKPOINTS = "checkpoint"
"""The folder of the latest checkpoint's weight and state files."""
LOCK = ".zoo-lock"
"""Held (flock) by the process training in the folder; also marks the folder as a seqzoo run."""

COMPARISON = "compare.json"
"""The result of ``zoo compare``, beside one run folder per run."""
CURVES = "curves.png"
"""The learning curves ``zoo compare`` draws."""


def checkpoint_files(step: int) -> tuple[str, str]:
    """(weights, state) file names of the checkpoint taken at ``step``, inside ``CHECKPOINTS``."""
    return f"model-{step:08d}.safetensors", f"state-{step:08d}.safetensors"
