"""Every bad input to zoo train / run / eval is one line on stderr and exit 2, never a traceback
(issue 12, part 3). Real plugins, the real CLI (in-process through click, or the installed script)."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from zoo.cli import cli

ZOO = str(Path(sys.executable).with_name("zoo"))
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
ADDER = Path(importlib.util.find_spec("zoo_adder").origin).parent / "pretrained" / "adder-gru"
TINY = ["--hidden-size", "8", "--bits", "4", "--device", "cpu"]


def one_error(args: list[str], *needles: str, code: int = 2) -> str:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == code, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception  # no exception escaped
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "adder-gru"
    shutil.copytree(ADDER, folder)
    return folder


def edit_config(folder: Path, edit) -> None:
    config = json.loads((folder / "config.json").read_text())
    edit(config)
    (folder / "config.json").write_text(json.dumps(config))


# -- --out that cannot be created -----------------------------------------------------------------
def test_out_that_cannot_be_created(tmp_path):
    (tmp_path / "afile").write_text("x")
    one_error(["train", "adder", "gru", *TINY, "--out", str(tmp_path / "afile" / "run")], "is under", "which is a file")
    one_error(["train", "adder", "gru", *TINY, "--out", "/proc/zoo-run"], "cannot create run directory /proc/zoo-run")
    if os.geteuid() != 0:  # root may write anywhere: permissions only stop other users
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        one_error(["train", "adder", "gru", *TINY, "--out", str(locked / "run")], "Permission denied")


@contextlib.contextmanager
def tmpfs(path: Path, options: str):
    path.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                                           capture_output=True).returncode:
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def test_out_on_a_read_only_filesystem(tmp_path):
    with tmpfs(tmp_path / "ro", "ro,size=1m") as ro:
        one_error(["train", "adder", "gru", *TINY, "--out", str(ro / "run")], "Read-only file system")


def test_a_full_disk_says_so_and_names_the_whole_checkpoint(tmp_path):
    """A real full filesystem: room for one checkpoint, not for the next (old files go only after)."""
    import zoo

    args = dict(settings=["hidden_size=256", "bits=4"], steps=6, eval_every=2, log_every=100)
    probe = zoo.train("adder", "gru", out=tmp_path / "probe", **{**args, "steps": 2}).run_dir
    used = sum(p.stat().st_size for p in probe.rglob("*") if p.is_file())
    state = next((probe / "checkpoint").glob("state-*")).stat().st_size
    size = used + state // 2 + 64 * 1024  # the second checkpoint's state file cannot fit
    with tmpfs(tmp_path / "small", f"size={size}") as small:
        run = small / "run"
        with pytest.raises(zoo.ZooError, match=rf"^the disk is full while writing .*-00000004.safetensors; the "
                                               rf"checkpoint of step 2 in {run} is still whole"):
            zoo.train("adder", "gru", out=run, **args)
        assert json.loads((run / "resume.json").read_text())["step"] == 2
        assert not list(run.rglob(".*.tmp"))
        shutil.rmtree(run)


# -- sizes that cannot fit -------------------------------------------------------------------------
@pytest.mark.parametrize("args", [["--hidden-size", "1000000"], ["--batch-size", "1000000000"]])
def test_sizes_that_cannot_fit_are_refused_before_allocating(tmp_path, args):
    line = one_error(["train", "adder", "gru", "--bits", "4", "--device", "cpu", "--steps", "1",
                      "--out", str(tmp_path / "r"), *args], "of memory", "available RAM")
    assert "this needs about" in line
    assert not (tmp_path / "r").exists()


def test_the_meta_build_skips_random_init_and_so_never_imports_dynamo():
    """Checking sizes is free: torch's meta normal_ would import torch._dynamo (~1.8 s per zoo run)."""
    code = (
        "import sys, torch\n"
        "from torch import nn\n"
        "from zoo import sizing\n"
        "net = sizing.meta_network(lambda: nn.Sequential(nn.Embedding(70, 32), nn.LSTM(32, 64), nn.Linear(64, 70)))\n"
        "assert net is not None and all(p.is_meta for p in net.parameters())\n"
        "print(sizing.parameter_bytes(net)[0], any(m.startswith('torch._dynamo') for m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    expected = 70 * 32 + 4 * 64 * (32 + 64 + 2) + 64 * 70 + 70  # embedding, LSTM (4 gates, 2 biases), head
    assert out == [str(expected), "False"]


def test_a_config_asking_for_a_huge_network_fails_on_shapes_before_building(model_dir):
    edit_config(model_dir, lambda c: c["model"]["config"].update(hidden_size=1_000_000))
    line = one_error(["run", str(model_dir), "1+2"], "model.safetensors: tensor 'backbone.rnn.")
    assert "has shape [48" in line and "but the config expects [3000000" in line


def test_a_weights_shape_error_names_the_tensor_and_both_shapes(model_dir):
    edit_config(model_dir, lambda c: c["model"]["config"].update(hidden_size=12))
    for command in (["run", str(model_dir), "1+2"], ["eval", str(model_dir)]):
        one_error(command, "tensor 'backbone.rnn.bias_hh_l0' has shape [48] but the config expects [36]")


# -- float knobs -----------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_float_knobs_refuse_nan_and_infinity(value):
    refused = "not a finite number"
    one_error(["run", "adder-gru", "1+2", "--temperature", value], "--temperature", refused)
    one_error(["eval", "adder-gru", "--tolerance", value], "--tolerance", refused)
    for flag in ("--lr", "--epochs", "--grad-clip", "--weight-decay", "--min-lr-ratio"):
        one_error(["train", "adder", "gru", flag, value], flag)
    one_error(["train", "adder", "gru", "--held-out", value], "expected a finite number")  # a task's float


# -- damaged config.json ---------------------------------------------------------------------------
def test_a_config_json_symlink_loop(model_dir):
    (model_dir / "config.json").unlink()
    (model_dir / "config.json").symlink_to(model_dir / "loop.json")
    (model_dir / "loop.json").symlink_to(model_dir / "config.json")
    for command in (["run", str(model_dir), "1+2"], ["eval", str(model_dir)]):
        one_error(command, "config.json: cannot be read", "symbolic links")


@pytest.mark.parametrize(("edit", "needle"), [
    (lambda c: c["model"]["config"].update(hidden_size="many"), "'hidden_size' (int): expected an integer"),
    (lambda c: c["model"]["config"].update(hidden_size=[16]), "bad value [16] for 'hidden_size' of model 'gru': "
                                                              "expected int"),
    (lambda c: c["task"]["config"].update(held_out=True), "'held_out' of task 'adder': expected float"),
    (lambda c: c["model"]["config"].update(bias="maybe"), "'bias' (bool): expected true or false"),
    (lambda c: c["model"]["config"].update(hidden_size=-3), "hidden_size must be at least 1, got -3"),
    (lambda c: c.update(task="adder"), "'task' must be an object"),
])
def test_a_config_json_with_wrong_types_names_the_key_and_type(model_dir, edit, needle):
    edit_config(model_dir, edit)
    one_error(["run", str(model_dir), "1+2"], needle)


# -- damaged resume files --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    import zoo

    out = tmp_path_factory.mktemp("runs") / "r"
    return zoo.train("adder", "gru", settings=["hidden_size=8", "bits=4"], steps=2, eval_every=2, out=out).run_dir


@pytest.fixture
def damaged(run_dir, tmp_path) -> Path:
    copy = tmp_path / "r"
    shutil.copytree(run_dir, copy)
    (copy / ".zoo-lock").unlink(missing_ok=True)
    return copy


def _checkpoint_file(run: Path, kind: str) -> Path:
    return run / "checkpoint" / json.loads((run / "resume.json").read_text())["files"][kind]


def test_a_truncated_checkpoint_state_on_resume(damaged):
    state = _checkpoint_file(damaged, "state")
    state.write_bytes(state.read_bytes()[: state.stat().st_size // 2])
    one_error(["train", "--resume", str(damaged), "--steps", "3"], "state-00000002.safetensors: truncated")


@pytest.mark.parametrize("key", ["step", "files", "settings", "optimizer", "rng", "elapsed"])
def test_resume_json_without_its_keys(damaged, key):
    record = json.loads((damaged / "resume.json").read_text())
    del record[key]
    (damaged / "resume.json").write_text(json.dumps(record))
    one_error(["train", "--resume", str(damaged), "--steps", "3"], f"'{key}' is missing")


def test_a_checkpoint_of_the_wrong_shape_on_resume(damaged):
    from safetensors.torch import load_file, save_file

    model = _checkpoint_file(damaged, "model")
    tensors = load_file(str(model))
    tensors["head.weight"] = tensors["head.weight"][:, :5].contiguous()
    save_file(tensors, str(model))
    one_error(["train", "--resume", str(damaged), "--steps", "3"],
              "tensor 'head.weight' has shape [2, 5] but the config expects [2, 8]")


# -- interrupting ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_ctrl_c_during_zoo_run_exits_130_and_prints_nothing(tmp_path):
    # a shell's background job (nohup CMD &) starts with SIGINT ignored, and Python then keeps it
    # ignored, rightly: give the child the default disposition a terminal's foreground job has
    proc = subprocess.Popen([ZOO, "run", "charlm-lstm", "The ", "--length", "100000000"], cwd=tmp_path, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert proc.stdout.read(20), "zoo run produced no output"
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"zoo run still running 60 s after Ctrl-C; stderr: {err[-2000:]!r}") from None
    assert proc.returncode == 130 and err == b""


@pytest.mark.slow
def test_a_second_ctrl_c_ends_a_huge_step_at_once(tmp_path):
    """One optimizer step here takes far longer than the test waits; the second signal must not wait."""
    proc = subprocess.Popen([ZOO, "train", "charlm", "lstm", "--set", "window=200", "--hidden-size", "512",
                             "--batch-size", "1024", "--steps", "3", "--device", "cpu", "--out", "r"],
                            cwd=tmp_path, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert "training charlm with lstm" in proc.stdout.readline()
    time.sleep(1.0)  # inside the first step now
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and time.monotonic() - sent < 10
    assert "stopped at once by a second signal" in err
    assert not (tmp_path / "r" / "resume.json").exists()
    assert zoo_ok(["train", "charlm", "lstm", "--set", "window=8", "--hidden-size", "8", "--steps", "2",
                   "--device", "cpu", "--out", "r"], tmp_path)  # the killed start is not in the way


def zoo_ok(args: list[str], cwd: Path) -> bool:
    proc = subprocess.run([ZOO, *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    return True


@pytest.mark.slow
def test_two_zoo_train_into_the_same_out_one_is_refused(tmp_path):
    args = [ZOO, "train", "adder", "gru", *TINY, "--steps", "400", "--eval-every", "100", "--out", "same"]
    procs = [subprocess.Popen(args, cwd=tmp_path, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = sorted((p.wait(timeout=240), p.communicate()[1]) for p in procs)
    assert [code for code, _ in results] == [0, 2], results
    assert "same is in use by another zoo process (pid" in results[1][1]
    assert "Traceback" not in results[1][1] and len(results[1][1].strip().splitlines()) == 1
    steps = [json.loads(x)["step"] for x in (tmp_path / "same" / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(steps), "metrics.jsonl holds one run, not two interleaved"
