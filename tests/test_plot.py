"""``zoo plot``: learning curves from metrics.jsonl, through the real ``zoo`` script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from zoo import compare
from zoo.errors import ZooError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def write_run(folder: Path, records: list[dict], *, task: str = "count", model: str = "gru", tail: str = "") -> Path:
    """A run directory as the engine leaves it, as far as plotting is concerned."""
    folder.mkdir(parents=True)
    text = "".join(json.dumps(r) + "\n" for r in records) + tail
    (folder / "metrics.jsonl").write_text(text, encoding="utf-8")
    config = {"format_version": 1, "task": {"name": task, "config": {}}, "model": {"name": model, "config": {}}}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


def records(decay: float) -> list[dict]:
    """Training lines every step and an evaluation every 5 steps, like the engine writes."""
    out: list[dict] = []
    for step in range(1, 21):
        out.append({"step": step, "kind": "train", "loss": 2.0 * decay**step, "lr": 0.01,
                    "tokens_per_s": 1000.0, "elapsed": step / 10})
        if step % 5 == 0:
            out.append({"step": step, "kind": "eval", "val_loss": 2.1 * decay**step, "accuracy": min(1.0, step / 15)})
    return out


def zoo(*args: str, cwd: Path, block: str | None = None) -> subprocess.CompletedProcess:
    """Run the installed CLI; ``block`` makes that module unimportable, as if not installed."""
    code = "import sys\n"
    if block:
        code += f"sys.modules[{block!r}] = None\n"
    code += "from zoo.cli import main\ntry:\n    main(sys.argv[1:])\nfinally:\n"
    code += "    print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', file=sys.stderr)\n"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_read_metrics_keeps_order_and_skips_a_cut_last_line(tmp_path: Path) -> None:
    run = write_run(tmp_path / "r", records(0.9), tail='{"step": 21, "lo')
    got = compare.read_metrics(run)
    assert got == records(0.9)
    xs, ys = compare.curve(got, "accuracy")
    assert xs == [5.0, 10.0, 15.0, 20.0]
    assert ys == [5 / 15, 10 / 15, 1.0, 1.0]
    assert compare.metric_names(got) == ["loss", "val_loss", "accuracy"]


def test_read_metrics_rejects_a_corrupt_middle_line(tmp_path: Path) -> None:
    run = write_run(tmp_path / "r", records(0.9)[:3])
    lines = (run / "metrics.jsonl").read_text().splitlines()
    lines.insert(1, "not json")
    (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(ZooError, match=r"metrics.jsonl:2: not a JSON object"):
        compare.read_metrics(run)
    with pytest.raises(ZooError, match="no such run directory"):
        compare.read_metrics(tmp_path / "missing")


def test_zoo_plot_draws_one_panel_per_metric(tmp_path: Path) -> None:
    a = write_run(tmp_path / "a", records(0.8), model="gru")
    b = write_run(tmp_path / "b", records(0.9), model="lstm")
    one = zoo("plot", str(a), str(b), "--metric", "accuracy", "-o", "one.png", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    assert "NO-TORCH" in one.stderr  # plotting never needs torch
    two = zoo("plot", str(a), str(b), "-o", "two.png", cwd=tmp_path)  # default: loss + first eval metric
    assert two.returncode == 0, two.stderr
    assert "wrote two.png" in two.stdout

    import matplotlib.image

    img1, img2 = (matplotlib.image.imread(tmp_path / n) for n in ("one.png", "two.png"))
    assert (tmp_path / "two.png").read_bytes().startswith(PNG_SIGNATURE)
    assert img1.shape[0] == img2.shape[0]
    assert img2.shape[1] == pytest.approx(2 * img1.shape[1], rel=0.02)  # panels side by side
    assert img1[..., :3].std() > 0.05  # something was drawn, not a blank canvas


def test_zoo_plot_errors_are_one_line(tmp_path: Path) -> None:
    run = write_run(tmp_path / "r", records(0.9))
    unknown = zoo("plot", str(run), "--metric", "bleu", cwd=tmp_path)
    assert unknown.returncode == 2
    assert "error: no run logged metric 'bleu'; logged: accuracy, loss, val_loss" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    missing = zoo("plot", str(run), cwd=tmp_path, block="matplotlib")
    assert missing.returncode == 2
    assert "error: matplotlib is not installed; install the plotting extra: pip install 'seqzoo[plot]'" in missing.stderr
    assert not (tmp_path / "curves.png").exists()
