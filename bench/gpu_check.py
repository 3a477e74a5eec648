"""The GPU checks of bench/gpu_check.sh, one function per check, each printing one result line.

Run through the shell script (it sets the time limits); ``--cpu-smoke`` runs every part that
can run without CUDA, on tiny sizes, so CI keeps the script working on machines without a GPU:

    bench/gpu_check.sh                 # on a CUDA machine: every check, under 8 minutes
    bench/gpu_check.sh --cpu-smoke     # anywhere: the CPU-runnable parts, in seconds

Checks: the CUDA path against the CPU path (same seed, close losses); bf16 and fp16 autocast
(fp16 with GradScaler); cuDNN LSTM/GRU against the generic kernels; one-process DDP over nccl;
engine vs hand-loop throughput (bench/engine_overhead.py); tinyshakespeare quality in 3 minutes
for lstm and transformer; minGRU/minLSTM parallel scan vs GRU at window 512. Results go to
stdout as lines and, with ``--json FILE``, to one JSON file.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

import zoo
from zoo import layout

REPO = Path(__file__).resolve().parents[1]
SHAKESPEARE = REPO.parent / "shared" / "data" / "tinyshakespeare.txt"
RESULTS: dict[str, Any] = {}
FAILED: list[str] = []


def report(name: str, ok: bool | None, line: str, **figures: Any) -> None:
    """One result line: PASS, FAIL or SKIP, and the figures behind it."""
    word = "SKIP" if ok is None else "PASS" if ok else "FAIL"
    print(f"{word} {name}: {line}", flush=True)
    RESULTS[name] = {"result": word, "line": line, **figures}
    if ok is False:
        FAILED.append(name)


def losses(run_dir: Path) -> list[float]:
    """Training losses of a run's log lines, in order."""
    lines = (run_dir / layout.METRICS).read_text().splitlines()
    return [rec["loss"] for rec in map(json.loads, lines) if rec.get("kind") == "train"]


def train(args: argparse.Namespace, tmp: Path, name: str, model: str, device: str, **options: Any) -> Any:
    settings = [f"data={args.data}", f"window={args.window}", *options.pop("settings", [])]
    if model in ("lstm", "gru"):
        settings.append(f"hidden_size={args.hidden}")
    return zoo.train("charlm", model, settings=settings, device=device, out=tmp / name,
                     seed=0, log_every=5, **options)


# -- the checks ----------------------------------------------------------------------------------


def check_device_vs_cpu(args: argparse.Namespace, tmp: Path) -> None:
    if not args.cuda:
        return report("cuda_vs_cpu", None, "needs CUDA")
    steps = args.steps
    cpu = losses(train(args, tmp, "cpu", "lstm", "cpu", steps=steps, eval_every=10_000).run_dir)
    gpu = losses(train(args, tmp, "gpu", "lstm", "cuda", steps=steps, eval_every=10_000).run_dir)
    worst = max(abs(a - b) for a, b in zip(cpu, gpu, strict=True))
    report("cuda_vs_cpu", worst < 0.05, f"charlm lstm {steps} steps, seed 0: largest loss difference "
           f"{worst:.4f} (limit 0.05); final cpu {cpu[-1]:.4f} cuda {gpu[-1]:.4f}", worst=worst)


def check_autocast(args: argparse.Namespace, tmp: Path) -> None:
    device = "cuda" if args.cuda else "cpu"
    base = losses(train(args, tmp, "fp32", "lstm", device, steps=args.steps, eval_every=10_000).run_dir)
    for precision in ("bf16", "fp16"):
        if precision == "fp16" and not args.cuda:
            report("autocast_fp16", None, "fp16 autocast with GradScaler needs CUDA")
            continue
        run = train(args, tmp, precision, "lstm", device, steps=args.steps, eval_every=10_000, precision=precision)
        got = losses(run.run_dir)
        gap = abs(got[-1] - base[-1])
        finite = all(v == v and abs(v) != float("inf") for v in got)
        report(f"autocast_{precision}", finite and gap < 0.1,
               f"{device} {precision}: final loss {got[-1]:.4f} vs fp32 {base[-1]:.4f} (gap {gap:.4f}, limit 0.1)"
               + (", with GradScaler" if precision == "fp16" else ""), gap=gap)


def check_fused_vs_generic(args: argparse.Namespace, tmp: Path) -> None:
    """cuDNN's LSTM/GRU against torch's generic kernels (on a CPU: oneDNN against native)."""
    device = "cuda" if args.cuda else "cpu"
    for name in ("lstm", "gru"):
        torch.manual_seed(0)
        model = zoo.backbone(name, input_size=16, hidden_size=args.hidden, num_layers=2).to(device)
        x = torch.randn(8, args.window, 16, device=device)

        y_f, g_f = _fused_run(model, x, True, args.cuda)
        y_g, g_g = _fused_run(model, x, False, args.cuda)
        out = (y_f - y_g).abs().max().item()
        grad = max((a - b).abs().max().item() for a, b in zip(g_f, g_g, strict=True))
        kind = "cuDNN vs generic" if args.cuda else "oneDNN vs native (CPU)"
        report(f"fused_vs_generic_{name}", out < 1e-4 and grad < 1e-4,
               f"{name} {kind}: outputs differ by {out:.2e}, gradients by {grad:.2e} (limit 1e-4)",
               output_diff=out, grad_diff=grad)


def _fused_run(model: torch.nn.Module, x: torch.Tensor, fused: bool, cuda: bool) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Outputs and gradients with the fused kernels on or off."""
    model.zero_grad()
    flags = torch.backends.cudnn.flags(enabled=fused) if cuda else torch.backends.mkldnn.flags(enabled=fused)
    with flags:
        y, _ = model(x)
        y.square().mean().backward()
    return y.detach(), [p.grad.detach().clone() for p in model.parameters()]


def check_ddp(args: argparse.Namespace, tmp: Path) -> None:
    """One process, world size 1: DistributedDataParallel over nccl (gloo on a CPU) trains exactly
    like the bare network, so the wrapper, its bucketing and the process group work here."""
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    device = torch.device("cuda" if args.cuda else "cpu")
    backend = "nccl" if args.cuda else "gloo"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1)
    try:
        nets = []
        for _ in range(2):
            torch.manual_seed(0)
            nets.append(zoo.backbone("gru", input_size=8, hidden_size=32).to(device))
        wrapped = DistributedDataParallel(nets[1], device_ids=[device.index or 0] if args.cuda else None)
        opts = [torch.optim.SGD(nets[0].parameters(), lr=0.1), torch.optim.SGD(wrapped.parameters(), lr=0.1)]
        gen = torch.Generator().manual_seed(1)
        for _ in range(5):
            x = torch.randn(4, 16, 8, generator=gen).to(device)
            for net, opt in zip((nets[0], wrapped), opts, strict=True):
                opt.zero_grad()
                net(x)[0].square().mean().backward()
                opt.step()
        diff = max((a - b).abs().max().item() for a, b in zip(nets[0].parameters(), nets[1].parameters(), strict=True))
        report("ddp_one_process", diff < 1e-5, f"DDP over {backend}, world size 1, 5 SGD steps: "
               f"weights differ from the bare network by {diff:.2e} (limit 1e-5)", diff=diff)
    finally:
        dist.destroy_process_group()


def check_engine_vs_hand(args: argparse.Namespace, tmp: Path) -> None:
    device = "cuda" if args.cuda else "cpu"
    size = ["--rounds", "3", "--steps", "60"] if args.cuda else [
        "--rounds", "1", "--steps", "4", "--batch-size", "4", "--window", "8", "--hidden-size", "16", "--threads", "1",
        "--data", args.data]
    done = subprocess.run([sys.executable, str(REPO / "bench" / "engine_overhead.py"), "--device", device, *size],
                          capture_output=True, text=True, timeout=240)
    if done.returncode != 0:
        return report("engine_vs_hand", False, f"bench/engine_overhead.py failed: {done.stderr.strip()[-300:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    ok = figures["same_final_weights"] and (figures["median_ratio"] >= 0.9 or not args.cuda)
    report("engine_vs_hand", ok, f"{device}: engine/hand tokens per second, median {figures['median_ratio']:.3f} "
           f"(rounds {figures['ratios']}); same final weights: {figures['same_final_weights']}", **figures)


def check_scan_vs_gru(args: argparse.Namespace, tmp: Path) -> None:
    """Forward+backward over one window: minGRU/minLSTM's parallel scan, the same minGRU stepped
    one token at a time (the recurrence as a loop), and torch's GRU (cuDNN on a GPU)."""
    device = "cuda" if args.cuda else "cpu"
    window, batch, hidden = (512, 64, 256) if args.cuda else (32, 4, 16)
    x = torch.randn(batch, window, hidden, device=device)
    models = {name: zoo.backbone(name, input_size=hidden, hidden_size=hidden, num_layers=1).to(device)
              for name in ("mingru", "minlstm", "gru")}

    def stepped(model: zoo.Model, x: torch.Tensor) -> torch.Tensor:
        state, outs = None, []
        for t in range(x.shape[1]):
            y, state = model.step(x[:, t], state)
            outs.append(y)
        return torch.stack(outs, dim=1)

    cases: dict[str, Callable[[], torch.Tensor]] = {
        "mingru scan": lambda: models["mingru"](x)[0],
        "minlstm scan": lambda: models["minlstm"](x)[0],
        "gru (fused)": lambda: models["gru"](x)[0],
        "mingru stepped": lambda: stepped(models["mingru"], x),
    }
    times = {}
    for name, fn in cases.items():
        samples = []
        for _ in range(2 + args.repeats):
            if args.cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
            fn().square().mean().backward()
            if args.cuda:
                torch.cuda.synchronize()
            samples.append(time.perf_counter() - start)
        times[name] = statistics.median(samples[2:])  # the first two warm up kernels and allocator
    line = ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in times.items())
    speed = times["mingru stepped"] / times["mingru scan"]
    vs_gru = times["gru (fused)"] / times["mingru scan"]
    report("scan_vs_gru", True, f"{device} window {window}, batch {batch}, hidden {hidden}, fwd+bwd medians: {line}; "
           f"scan over stepped minGRU {speed:.1f}x, over fused GRU {vs_gru:.2f}x",
           ms={k: round(v * 1e3, 3) for k, v in times.items()}, scan_over_stepped=speed, scan_over_gru=vs_gru)


def check_quality(args: argparse.Namespace, tmp: Path) -> None:
    """tinyshakespeare, 3 minutes each on the GPU, charlm's defaults: lstm and transformer side by side."""
    if not args.cuda:
        return report("quality_3min", None, "needs CUDA (two 3-minute runs)")
    if not Path(args.corpus).is_file():
        return report("quality_3min", None, f"no corpus at {args.corpus}")
    zoo_cmd = str(Path(sys.executable).with_name("zoo"))
    procs = {model: subprocess.Popen(
        [zoo_cmd, "train", "charlm", model, "--set", f"data={args.corpus}", "--device", "cuda",
         "--time", args.quality_time, "--out", str(tmp / f"quality-{model}"), "--json"],
        stdout=subprocess.PIPE, text=True) for model in ("lstm", "transformer")}
    for model, proc in procs.items():
        out, _ = proc.communicate(timeout=420)
        if proc.returncode != 0:
            report(f"quality_{model}", False, f"zoo train charlm {model} --device cuda failed ({proc.returncode})")
            continue
        result = json.loads(out.strip().splitlines()[-1])
        loss = result["metrics"]["val_loss"]
        report(f"quality_{model}", loss <= 1.45, f"charlm {model}, cuda, {args.quality_time} (two runs sharing "
               f"the GPU): val_loss {loss:.4f} nats/char after {result['steps']} steps (target 1.45)",
               val_loss=loss, steps=result["steps"])


CHECKS = [check_device_vs_cpu, check_autocast, check_fused_vs_generic, check_ddp, check_scan_vs_gru,
          check_engine_vs_hand, check_quality]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-smoke", action="store_true", help="CPU-runnable parts only, tiny sizes")
    parser.add_argument("--data", default=str(SHAKESPEARE), help="corpus for the training checks")
    parser.add_argument("--quality-time", default="3m", help="budget of each quality run")
    parser.add_argument("--json", dest="json_path", help="write every result to this JSON file")
    parser.add_argument("--only", action="append", default=[], help="run only checks whose name has this text")
    args = parser.parse_args()
    args.cuda = torch.cuda.is_available() and not args.cpu_smoke
    if not args.cpu_smoke and not args.cuda:
        raise SystemExit("error: no CUDA device here; run with --cpu-smoke for the CPU-runnable parts")
    small = args.cpu_smoke
    args.steps, args.window, args.hidden, args.repeats = (6, 16, 32, 1) if small else (60, 64, 256, 5)
    args.corpus = args.data  # the quality runs need the real corpus, never the smoke text
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, device: "
          f"{torch.cuda.get_device_name() if args.cuda else 'cpu (smoke run)'}; load {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        if small or not Path(args.data).is_file():  # 20k characters of the built-in corpus: quick evaluations
            from zoo_charlm.data import builtin_text

            args.data = str(Path(tmp) / "text.txt")
            Path(args.data).write_text(builtin_text()[:20_000], encoding="utf-8")
        for check in CHECKS:
            if args.only and not any(text in check.__name__ for text in args.only):
                continue
            start = time.perf_counter()
            try:
                check(args, Path(tmp))
            except Exception as exc:  # noqa: BLE001 - one failing check must not hide the others
                report(check.__name__.removeprefix("check_"), False, f"raised {type(exc).__name__}: {exc}")
            print(f"  ({check.__name__} took {time.perf_counter() - start:.1f} s)", flush=True)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(RESULTS, indent=1) + "\n")
    if FAILED:
        raise SystemExit(f"error: failed: {', '.join(FAILED)}")


if __name__ == "__main__":
    main()
