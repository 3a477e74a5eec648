"""The training loop every task and model shares.

One step: batch for this step and rank -> task.loss under autocast -> backward (scaled for fp16)
-> clip -> optimizer step, with the learning rate set from the schedule. Around it: logging,
evaluation, early stop at the task's target, checkpoints, signals, NaN detection, and for stateful
tasks the carried (detached) state of truncated BPTT.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import random
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from zoo.diagnostics import logger
from zoo.engine.dist import Dist
from zoo.engine.report import Reporter
from zoo.engine.samples import sample
from zoo.engine.schedule import Schedule
from zoo.engine.settings import TrainSettings
from zoo.engine.signals import StopFlag, catch_stop_signals
from zoo.errors import ZooError
from zoo.state import State, detach, tree_map

if TYPE_CHECKING:
    from zoo.task import Shard, Task


class Diverged(ZooError):
    """The loss or the weights stopped being finite numbers."""


def make_optimizer(settings: TrainSettings, params: list[nn.Parameter], device: torch.device) -> torch.optim.Optimizer:
    extra: dict[str, Any] = {}
    if settings.weight_decay is not None:
        extra["weight_decay"] = settings.weight_decay
    if settings.optimizer in ("adam", "adamw") and device.type == "cuda":
        extra["fused"] = True
    if settings.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=settings.lr, **extra)
    if settings.optimizer == "adam":
        return torch.optim.Adam(params, lr=settings.lr, **extra)
    if settings.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=settings.lr, **extra)
    return torch.optim.SGD(params, lr=settings.lr, momentum=0.9, **extra)


def autocast_for(precision: str, device: torch.device) -> Callable[[], contextlib.AbstractContextManager[Any]]:
    """A factory of the mixed-precision context for this device (a no-op for fp32)."""
    if precision == "fp32":
        return contextlib.nullcontext
    if precision == "fp16" and device.type != "cuda":
        raise ZooError(f"--precision fp16 needs a CUDA device (got {device.type}); use bf16 or fp32")
    dtype = torch.float16 if precision == "fp16" else torch.bfloat16
    if precision == "bf16" and device.type == "cpu":
        _warn_if_bf16_is_emulated()
    return lambda: torch.autocast(device_type=device.type, dtype=dtype)


@functools.cache
def _warn_if_bf16_is_emulated() -> None:
    """Once per process: without native bf16 (AVX-512 BF16 or AMX) the user's choice costs time."""
    if torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return
    logger(__name__).warning(
        "this CPU has no bf16 instructions: bf16 autocast is emulated here and slower than fp32 "
        "(measured on an AVX2-only EPYC: an LSTM step 1.6x, a GRU step 12x; docs/benchmarks.md)")


@contextlib.contextmanager
def _isolated_rng(device: torch.device) -> Iterator[None]:
    """Evaluation must not move the training RNG: resumed and uninterrupted runs stay identical."""
    py = random.getstate()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        yield
    random.setstate(py)


class Trainer:
    """Holds one run's live objects; ``run()`` trains until a budget, target, signal or NaN."""

    def __init__(self, *, task: Task, net: nn.Module, settings: TrainSettings, device: torch.device,
                 dist: Dist, schedule: Schedule, reporter: Reporter,
                 save: Callable[[Trainer, State], None]) -> None:
        self.task, self.model, self.settings = task, net, settings
        self.device, self.dist, self.schedule, self.reporter = device, dist, schedule, reporter
        self._save = save
        self.params = list(net.parameters())
        self.optimizer = make_optimizer(settings, self.params, device)
        self.autocast = autocast_for(settings.precision, device)
        self.scaler = torch.amp.GradScaler("cuda") if settings.precision == "fp16" else None
        self.stateful = bool(getattr(task, "stateful", False))
        self.shard = _shard(dist)
        wrapped: nn.Module = net
        if dist.enabled:
            from torch.nn.parallel import DistributedDataParallel

            wrapped = DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None)
        if settings.compile:
            wrapped = torch.compile(wrapped)  # type: ignore[assignment]
        self.net = wrapped
        # progress, restored on resume
        self.step = 0
        self.tokens = 0
        self.elapsed = 0.0
        self.carry: State = None
        self.metrics: dict[str, float] = {}
        self.last_loss: float | None = None
        self._last_eval_step = -1
        self._last_eval_full = False

    # -- one optimizer step ----------------------------------------------------------------
    def _train_step(self, step: int, lr: float) -> tuple[torch.Tensor, int]:
        """One optimizer step; returns the detached loss and its token count."""
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        batch = {k: v.to(self.device, non_blocking=True) if torch.is_tensor(v) else v
                 for k, v in self.task.batch(step, self.settings.batch_size, self.shard).items()}
        with self.autocast():
            out = self.task.loss(self.net, batch, self.carry)
        loss = out.loss
        clip = self.settings.grad_clip
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            if clip:
                self.scaler.unscale_(self.optimizer)
                nn.utils.clip_grad_norm_(self.params, clip)
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            if clip:
                nn.utils.clip_grad_norm_(self.params, clip)
            self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if self.stateful:
            self.carry = detach(out.state)
        return loss.detach(), out.tokens or 1

    # -- the loop ------------------------------------------------------------------------------
    def run(self) -> str:
        """Train; return why it stopped: steps, epochs, time, target or interrupted."""
        self.model.train()
        with catch_stop_signals() as flag:
            return self._loop(flag)

    def _loop(self, flag: StopFlag) -> str:
        s, sched = self.settings, self.schedule
        started = time.monotonic() - self.elapsed
        sync_every = s.log_every if self.dist.enabled else 1
        loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        window_tokens, window_steps, window_start = 0, 0, time.monotonic()
        clock = self.elapsed
        lr = sched.rate(self.step, clock)
        stopped = ""
        while not stopped:
            if sched.total_steps is not None and self.step >= sched.total_steps:
                stopped = "epochs" if s.epochs is not None and s.steps is None else "steps"
                break
            if self.step % sync_every == 0:
                interrupted, clock = self.dist.max([1.0 if flag else 0.0, time.monotonic() - started])
                if interrupted:
                    stopped = "interrupted"
                    break
                if sched.total_seconds is not None and clock >= sched.total_seconds:
                    stopped = "time"
                    break
            lr = sched.rate(self.step, clock)
            loss, tokens = self._train_step(self.step, lr)
            loss_sum.add_(loss, alpha=tokens)  # token-weighted, one kernel, no host sync
            window_tokens += tokens
            window_steps += 1
            self.step += 1
            self.reporter.advance(1)
            if self.step % s.log_every == 0:
                self.elapsed = time.monotonic() - started
                self._log(loss_sum, window_tokens, window_steps, window_start, lr)
                loss_sum.zero_()
                window_tokens, window_steps, window_start = 0, 0, time.monotonic()
            if self.step % s.eval_every == 0:
                paused = time.monotonic()
                self.elapsed = paused - started
                if self._evaluate_and_check(bounded=True):
                    stopped = "target"
                self.checkpoint()
                window_start += time.monotonic() - paused  # tokens/s counts training only
            if s.sample_every and self.step % s.sample_every == 0 and self.dist.is_main:
                paused = time.monotonic()
                self._sample()
                window_start += time.monotonic() - paused
        self.elapsed = time.monotonic() - started
        if window_steps:
            self._log(loss_sum, window_tokens, window_steps, window_start, lr)
        if stopped != "interrupted" and (self._last_eval_step != self.step or not self._last_eval_full):
            if self._evaluate_and_check():
                stopped = "target"
        self.checkpoint()
        return stopped

    def _log(self, loss_sum: torch.Tensor, tokens: int, steps: int, since: float, lr: float) -> None:
        total, count = self.dist.sum([float(loss_sum.item()), float(tokens)])
        loss = total / max(count, 1.0)
        if not math.isfinite(loss):
            raise Diverged(
                f"loss became {loss} between steps {self.step - steps + 1} and {self.step}; "
                "the last good checkpoint is kept; try a lower --lr or --grad-clip"
            )
        self.last_loss = loss
        self.tokens += int(count)
        seconds = max(time.monotonic() - since, 1e-9)
        rate = count / seconds if count else 0.0
        per_step = seconds / steps
        eta = None
        if self.schedule.total_steps is not None:
            eta = (self.schedule.total_steps - self.step) * per_step
        if self.schedule.total_seconds is not None:
            left = self.schedule.total_seconds - self.elapsed
            eta = left if eta is None else min(eta, left)
        self.reporter.train(self.step, loss, lr, rate, self.elapsed, eta, int(count), seconds)

    def evaluate(self, bounded: bool = False) -> dict[str, float]:
        """The task's metrics, computed on rank 0 with the plain network and shared with all ranks.

        ``bounded`` (the evaluations during training) asks the task for its bounded evaluation
        first (``Task.evaluate_bounded``); the end of the run always gets the full one.
        """
        text = ""
        if self.dist.is_main:
            self.model.eval()
            with _isolated_rng(self.device), self.autocast(), torch.no_grad():
                metrics = self.task.evaluate_bounded(self.model, self.device) if bounded else None
                full = metrics is None
                if metrics is None:
                    metrics = self.task.evaluate(self.model, self.device)
            self.model.train()
            text = json.dumps({"full": full, "metrics": {k: float(v) for k, v in metrics.items()}})
        shared = json.loads(self.dist.broadcast_text(text))
        self._last_eval_full = bool(shared["full"])
        return shared["metrics"]

    def _evaluate_and_check(self, bounded: bool = False) -> bool:
        """Evaluate now; True when the task's target is reached."""
        metrics = self.evaluate(bounded)
        self._last_eval_step = self.step
        self.metrics = metrics
        self.reporter.evaluation(self.step, metrics)
        primary = self.task.primary_metric
        if primary.name not in metrics:
            raise ZooError(f"task evaluate() returned no '{primary.name}' (its primary metric)")
        return primary.reached(metrics[primary.name])

    def _sample(self) -> None:
        """Show what the task's ``run`` makes of its fixed prompt now (``--sample-every``)."""
        self.model.eval()
        with _isolated_rng(self.device), self.autocast():
            text = sample(self.task, self.model)
        self.model.train()
        if text is not None:
            self.reporter.sample(self.step, text)

    def final_metrics(self) -> dict[str, float]:
        out = dict(self.metrics)
        if self.last_loss is not None:
            out["train_loss"] = self.last_loss
        return out

    # -- checkpoints ---------------------------------------------------------------------------
    def checkpoint(self) -> None:
        """Save resume state on rank 0 (all ranks call: the carried state is gathered)."""
        bad = [name for name, p in self.model.named_parameters() if not torch.isfinite(p).all()]
        if bad:
            raise Diverged(f"weights became non-finite at step {self.step} ({bad[0]}); the last good checkpoint is kept")
        carry = self.dist.stack_state(self.carry) if self.carry is not None else None
        if self.dist.is_main:
            self._save(self, carry)

    def resume_from(self, record: dict[str, Any], stacked: State) -> None:
        """Continue from a checkpoint's progress counters and carried state."""
        self.restore_carry(stacked)
        self.step, self.elapsed = int(record["step"]), float(record["elapsed"])
        self.tokens = int(record.get("tokens") or 0)
        self.metrics = {k: v for k, v in dict(record.get("metrics") or {}).items() if k != "train_loss"}
        self.last_loss = record.get("last_loss")

    def restore_carry(self, stacked: State) -> None:
        """This rank's slice of a carried state saved stacked over ranks."""
        if stacked is None:
            return
        leaves: list[int] = []
        tree_map(lambda t: leaves.append(t.shape[0]), stacked)
        if leaves and leaves[0] != self.dist.world_size:
            raise ZooError(
                f"this run carried state on {leaves[0]} process(es): resume it with the same number "
                f"(now {self.dist.world_size})"
            )
        self.carry = tree_map(lambda t: t[self.dist.rank].to(self.device), stacked)


def _shard(dist: Dist) -> Shard:
    from zoo.task import Shard

    return Shard(dist.rank, dist.world_size)
