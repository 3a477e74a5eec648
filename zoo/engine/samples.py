"""Samples during training (``--sample-every N``): the task's own ``run`` on a fixed prompt.

The prompt comes from ``Task.sample_prompt`` (None: the task's ``run`` does not generate, and
nothing is sampled); the seed is fixed, so successive samples differ only by what the network
has learned, which is what a learner watching "gibberish -> words -> style" wants to see.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

SAMPLE_SEED = 0


def sample(task: Any, net: nn.Module) -> str | None:
    """The task's answer to its sample prompt, or None when it has none."""
    from zoo.task import RunOptions

    prompt = task.sample_prompt()
    if prompt is None:
        return None
    options: dict[str, Any] = {}  # the task's own default length: it knows what a useful sample is
    if "seed" in task.run_options:
        options["seed"] = SAMPLE_SEED
    with torch.no_grad():
        return "".join(task.run(net, prompt, RunOptions(**options)))
