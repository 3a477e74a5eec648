"""The ``names`` task: read a surname character by character and say which language it comes from.

Many-to-one: the backbone runs over the whole name and the classifier reads its output at the
name's last real character (``zoo.last_valid``), so padding in a batch changes nothing. Metrics on
the held-out split: accuracy, macro-F1 (each language counts the same, whatever its size) and a
confusion matrix written into the run folder.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from zoo import (
    Backbone,
    Batch,
    Metric,
    Probe,
    RunOptions,
    Shard,
    State,
    StepOutput,
    Steps,
    Task,
    ZooError,
    last_valid,
    unwrap,
)
from zoo_names.config import NamesConfig
from zoo_names.data import SMALL, Texts, fold, load, say

EVAL_CHUNK = 1024
TOP = 3
CONFUSION_JSON = "confusion.json"
CONFUSION_PNG = "confusion.png"


class NamesNet(nn.Module):
    """Characters (one-hot or embedded) -> backbone -> output at the last character -> class logits."""

    def __init__(self, vocab: int, classes: int, config: NamesConfig, backbone: Backbone) -> None:
        super().__init__()
        self.vocab = vocab
        self.embed = nn.Embedding(vocab, config.embedding_size) if config.input == "embedding" else None
        self.backbone = backbone(config.embedding_size if self.embed is not None else vocab)
        self.head = nn.Linear(self.backbone.output_size, classes)

    def forward(self, ids: Tensor, lengths: Tensor) -> Tensor:
        """Logits (batch, classes) for right-padded ids (batch, time) of the given lengths."""
        x = self.embed(ids) if self.embed is not None else F.one_hot(ids, self.vocab).to(self.head.weight.dtype)
        y, _ = self.backbone(x, None, lengths)
        return self.head(last_valid(y, lengths))


class NamesTask(Task):
    uses_state = False  # each name runs whole from no state: stateless models fit too
    train_defaults = {"steps": 3000, "batch_size": 64, "lr": 3e-3, "eval_every": 500, "log_every": 100}
    model_defaults = {"hidden_size": 128}
    run_options = frozenset({"top_k"})
    pipeline_tag = "text-classification"
    example_input = "Dostoevsky"

    config: NamesConfig

    def __init__(self, config: NamesConfig) -> None:
        super().__init__(config)
        self.texts: Texts | None = None
        self.chars = ""
        self.classes: list[str] = []
        self.index: dict[str, int] = {}
        self.seed = 0
        self.train_index = torch.empty(0, dtype=torch.long)
        self.eval_index = torch.empty(0, dtype=torch.long)
        self.by_class = torch.empty(0, dtype=torch.long)
        self.class_start = torch.empty(0, dtype=torch.long)
        self.class_count = torch.empty(0, dtype=torch.long)
        self.evaluated_on_train = False
        self.confusion: list[list[int]] | None = None

    @property
    def primary_metric(self) -> Metric:
        return Metric("accuracy", "max", target=self.config.target)

    # -- data and vocabulary -------------------------------------------------------------------
    def prepare(self, seed: int) -> None:
        texts = load(self.config.data, fraction=self.config.held_out_fraction, seed=self.config.split_seed,
                     fold_accents=self.config.fold_accents)
        self.texts, self.seed = texts, seed
        self._set_vocabulary(texts.chars, texts.classes)
        train = (~texts.held).nonzero().squeeze(1)
        missing = [texts.classes[c] for c in range(len(texts.classes)) if not bool((texts.labels[train] == c).any())]
        if len(texts) < SMALL or missing or not bool(texts.held.any()):
            why = f"only {len(texts)} texts" if len(texts) < SMALL else (
                f"no training text left for {', '.join(missing)}" if missing else "nothing held out")
            say(f"{why}: training on all of them and evaluating on the training texts (no held-out split)")
            self.train_index = self.eval_index = torch.arange(len(texts))
            self.evaluated_on_train = True
        else:
            self.train_index, self.eval_index = train, texts.held.nonzero().squeeze(1)
        labels = texts.labels[self.train_index]
        order = torch.argsort(labels, stable=True)
        self.by_class = self.train_index[order]
        self.class_count = torch.bincount(labels, minlength=len(self.classes))
        self.class_start = torch.cumsum(self.class_count, 0) - self.class_count

    def _set_vocabulary(self, chars: str, classes: list[str]) -> None:
        self.chars, self.classes = chars, list(classes)
        self.index = {c: i for i, c in enumerate(chars)}

    def state_dict(self) -> dict[str, Any]:
        return {"chars": self.chars, "classes": self.classes}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        chars, classes = state.get("chars"), state.get("classes")
        if not isinstance(chars, str) or not chars or not isinstance(classes, list) or len(classes) < 2:
            raise ZooError("config.json: the names task needs vocabulary.chars and vocabulary.classes")
        self._set_vocabulary(chars, [str(c) for c in classes])

    def fingerprint(self) -> str:
        return self.texts.digest if self.texts is not None else ""

    # -- network -------------------------------------------------------------------------------
    def build(self, backbone: Backbone) -> nn.Module:
        if not self.chars:
            raise ZooError("names: no vocabulary yet (call prepare or load_state_dict first)")
        return NamesNet(len(self.chars), len(self.classes), self.config, backbone)

    # -- training ------------------------------------------------------------------------------
    def steps_per_epoch(self, batch_size: int) -> int | None:
        return max(1, len(self.train_index) // batch_size)

    def batch(self, step: int, batch_size: int, shard: Shard) -> Batch:
        if self.texts is None:
            raise RuntimeError("prepare() must run before batch()")
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
        if self.config.sampling == "balanced":
            present = (self.class_count > 0).nonzero().squeeze(1)
            cls = present[torch.randint(len(present), (batch_size,), generator=g)]
            pos = (torch.rand(batch_size, generator=g) * self.class_count[cls]).long()
            index = self.by_class[self.class_start[cls] + pos]
        else:
            index = self.train_index[torch.randint(len(self.train_index), (batch_size,), generator=g)]
        index = index[shard.rows(batch_size)]
        ids, lengths = self.texts.rows(index)
        return {"ids": ids, "lengths": lengths, "labels": self.texts.labels[index]}

    def loss(self, net: nn.Module, batch: Batch, state: State | None) -> StepOutput:
        logits = net(batch["ids"], batch["lengths"].cpu())
        return StepOutput(loss=F.cross_entropy(logits.float(), batch["labels"]), tokens=len(batch["labels"]))

    @torch.no_grad()
    def evaluate(self, net: nn.Module, device: torch.device) -> dict[str, float]:
        """Accuracy, macro-F1 and loss over the held-out texts; keeps the confusion matrix."""
        if self.texts is None:
            raise RuntimeError("prepare() must run before evaluate()")
        was_training = net.training
        net.eval()
        n = len(self.classes)
        confusion = torch.zeros(n * n, dtype=torch.long)
        total_loss = 0.0
        try:
            for chunk in self.eval_index.split(EVAL_CHUNK):
                ids, lengths = self.texts.rows(chunk)
                labels = self.texts.labels[chunk]
                logits = net(ids.to(device), lengths).float().cpu()
                total_loss += F.cross_entropy(logits, labels, reduction="sum").item()
                confusion += torch.bincount(labels * n + logits.argmax(-1), minlength=n * n)
        finally:
            net.train(was_training)
        matrix = confusion.view(n, n)
        self.confusion = matrix.tolist()
        return {**scores(matrix), "val_loss": total_loss / max(1, len(self.eval_index))}

    def report_files(self) -> dict[str, bytes]:
        """confusion.json (rows: true language, columns: predicted) and, with matplotlib, a PNG."""
        if self.confusion is None:
            return {}
        record = {"classes": self.classes, "rows": "true", "columns": "predicted",
                  "split": "training" if self.evaluated_on_train else "held-out", "matrix": self.confusion}
        files = {CONFUSION_JSON: (json.dumps(record, indent=1) + "\n").encode()}
        png = confusion_png(self.classes, self.confusion)
        if png is not None:
            files[CONFUSION_PNG] = png
        return files

    # -- inference -----------------------------------------------------------------------------
    def _name(self, text: str) -> str:
        name = (fold(text) if self.config.fold_accents else text).strip()
        if not name:
            raise ZooError("give a name to classify, such as Dostoevsky")
        unknown = sorted({c for c in name if c not in self.index})
        if unknown:
            shown = ", ".join(repr(c) for c in unknown)
            raise ZooError(f"{shown}: not in the model's vocabulary of {len(self.chars)} characters "
                           f"(the characters of its training names)")
        return name

    def steps(self, net: nn.Module, text: str) -> Steps:
        """The language the network would name after each prefix of the name. ``NAME => LANGUAGE``
        scores the true language at every step (how early the network knows it)."""
        raw, arrow, language = text.partition(" => ")
        name = self._name(raw)
        target: int | None = None
        if arrow:
            if language.strip() not in self.classes:
                raise ZooError(f"unknown language {language.strip()!r}: one of {', '.join(self.classes)}")
            target = self.classes.index(language.strip())
        model = unwrap(net)
        ids = torch.tensor([[self.index[c] for c in name]], device=next(model.parameters()).device)
        x = model.embed(ids) if model.embed is not None else F.one_hot(ids, model.vocab).to(model.head.weight.dtype)
        y, _ = model.backbone(x)
        return Steps(list(name), model.head(y)[0], list(self.classes), [target] * len(name), Probe(model.backbone, x))

    def run(self, net: nn.Module, text: str, options: RunOptions) -> Iterator[str]:
        """The ``top_k`` (default 3) most likely labels, best first, one per line with probability."""
        name = self._name(text)
        device = next(net.parameters()).device
        ids = torch.tensor([[self.index[c] for c in name]], device=device)
        with torch.inference_mode():
            probs = torch.softmax(net(ids, torch.tensor([len(name)])).float()[0], -1)
        k = min(options.top_k or TOP, len(self.classes))
        values, labels = probs.topk(k)
        width = max(len(self.classes[int(i)]) for i in labels)
        for p, i in zip(values.tolist(), labels.tolist(), strict=True):
            yield f"{self.classes[i]:<{width}}  {p:.3f}\n"


def scores(matrix: Tensor) -> dict[str, float]:
    """Accuracy and macro-F1 of a confusion matrix (rows true, columns predicted).

    Macro-F1 averages the F1 of every class that occurs as truth or prediction, as scikit-learn does.
    """
    tp = matrix.diag().double()
    truth, predicted = matrix.sum(1).double(), matrix.sum(0).double()
    seen = (truth + predicted) > 0
    f1 = torch.where(seen, 2 * tp / (truth + predicted).clamp(min=1), torch.zeros_like(tp))
    return {"accuracy": (tp.sum() / truth.sum().clamp(min=1)).item(),
            "macro_f1": (f1[seen].mean() if bool(seen.any()) else tp.sum() * 0).item()}


def confusion_png(classes: list[str], matrix: list[list[int]]) -> bytes | None:
    """The confusion matrix as a PNG, rows normalised; None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    counts = torch.tensor(matrix, dtype=torch.float)
    share = counts / counts.sum(1, keepdim=True).clamp(min=1)
    size = 2 + 0.35 * len(classes)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(share.tolist(), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(classes)), classes, rotation=90)
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.colorbar(image, ax=ax, label="share of the true class")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=80)
    plt.close(fig)
    return out.getvalue()
