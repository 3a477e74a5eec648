"""The plugin's own tests: seqzoo's model contract suite on minGRU, and the parity task's data."""

import torch
from zoo_mingru.config import MinGRUConfig, ParityConfig
from zoo_mingru.model import MinGRU
from zoo_mingru.task import ParityTask, bits_of, running_parity

import zoo.testing


def test_mingru_passes_the_model_contract():
    zoo.testing.check_model(MinGRU, MinGRUConfig(hidden_size=8, num_layers=2), input_size=5)


def test_mingru_is_found_through_its_entry_point():
    zoo.testing.check_model("mingru-example", {"hidden_size": 4})  # the installed plugin, by name


def test_parity_targets_and_split():
    bits = bits_of(torch.tensor([0b1011, 0b0110]), 4)  # least significant bit first
    assert bits.tolist() == [[1, 1, 0, 1], [0, 1, 1, 0]]
    assert running_parity(bits).tolist() == [[1, 0, 0, 1], [0, 1, 0, 0]]
    task = ParityTask(ParityConfig(bits=6, eval_size=16))
    task.prepare(seed=0)
    held_out = set(task.eval_ids.tolist())
    seen = {int(n) for step in range(50) for n in (task.batch(step, 32, zoo.Shard())["bits"] << torch.arange(6)).sum(-1)}
    assert len(held_out) == 16 and not held_out & seen
