"""docs/course/ stays true: every command in the pages runs, and the claims the test can check hold.

Conventions the pages follow (docs/course/README.md says so too):

- a ```console block holds ``$ command`` lines, each followed by its output as the page shows it;
  the commands of a page run in order, in one fresh folder, with the installed ``zoo``;
- a command whose shown output is an ``error:`` line must fail with exactly that line and exit 2;
- ``zoo run`` output is compared exactly unless the page shows ``...`` in it (trained networks
  whose numbers depend on timing or threads);
- a ``zoo compare`` table must have the rows (model and varied setting) the page shows;
- a ```python block followed by a ```text block is run and must print exactly that text;
- commands with ``--device cuda`` run only where CUDA is available.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "docs" / "course"
PAGES = sorted(p.name for p in COURSE.glob("*.md") if p.name != "README.md")
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.S | re.M)
BIN = Path(sys.executable).parent
TOPICS = {"counting.md", "hello.md", "names.md", "char-rnn.md", "samples.md", "by-hand.md", "adder.md",
          "seq2seq.md", "gpu.md"}


@dataclass
class Command:
    line: str
    shown: str


@dataclass
class Ran:
    command: Command
    rc: int
    stdout: str
    stderr: str


def blocks(page: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer((COURSE / page).read_text(encoding="utf-8"))]


def commands(page: str) -> list[Command]:
    out: list[Command] = []
    for kind, body in blocks(page):
        if kind != "console":
            continue
        for line in body.splitlines():
            if line.startswith("$ "):
                out.append(Command(line[2:], ""))
            elif out:
                out[-1].shown += line + "\n"
    return out


def env() -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    return {**keep, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "OMP_NUM_THREADS": "1",
            "PYTHONWARNINGS": "ignore"}


def cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def run_page(page: str, folder: Path) -> list[Ran]:
    done = []
    for command in commands(page):
        if "--device cuda" in command.line and not cuda():
            continue
        proc = subprocess.run(["bash", "-c", command.line], cwd=folder, capture_output=True, text=True,
                              timeout=900, env=env(), stdin=subprocess.DEVNULL)
        done.append(Ran(command, proc.returncode, proc.stdout, proc.stderr))
    return done


def table_rows(text: str) -> list[str]:
    """The model-and-setting column of a ``zoo compare`` leaderboard."""
    return sorted(m.group(1).strip() for m in re.finditer(r"^\d+\s+(.+?)\s{2,}\S", text, re.M))


def check_generic(ran: Ran) -> None:
    shown, line = ran.command.shown, ran.command.line
    if shown.startswith("error:"):
        assert ran.rc == 2, f"{line}: expected exit 2, got {ran.rc}"
        assert ran.stderr == shown, f"{line}: stderr {ran.stderr!r} is not the page's {shown!r}"
        return
    assert ran.rc == 0, f"{line}: exit {ran.rc}\n{ran.stderr[-2000:]}"
    if line.startswith("zoo run ") and "..." not in shown:
        assert ran.stdout == shown, f"{line}: printed {ran.stdout!r}, the page shows {shown!r}"
    if line.startswith("zoo compare ") and "--json" not in line:
        assert table_rows(ran.stdout) == table_rows(shown), f"{line}: rows differ from the page's"


def test_every_topic_has_a_page_and_the_index_links_them():
    index = (COURSE / "README.md").read_text(encoding="utf-8")
    assert set(PAGES) == TOPICS
    for page in PAGES:
        assert f"({page})" in index


@pytest.mark.slow
@pytest.mark.parametrize("page", sorted(TOPICS - {"by-hand.md"}))
def test_the_commands_of_a_page_run_and_print_what_it_shows(page, tmp_path):
    ran = run_page(page, tmp_path)
    assert ran or page == "gpu.md"
    for r in ran:
        check_generic(r)
    for claim in CLAIMS.get(page, ()):
        claim(ran, tmp_path)


# -- page-specific claims ----------------------------------------------------------------------
def output_of(ran: list[Ran], prefix: str) -> Ran:
    return next(r for r in ran if r.command.line.startswith(prefix))


def hello_claims(ran: list[Ran], folder: Path) -> None:
    assert (folder / "hihello.txt").read_text() == "hihello"
    train = output_of(ran, "zoo train charlm rnn --set data=hihello.txt --out")
    assert "evaluating on the training text" in train.stderr
    for r in ran:
        if "--temperature 0.01" in r.command.line:
            assert r.stdout.strip() == "hihello"


def names_claims(ran: list[Ran], folder: Path) -> None:
    top = output_of(ran, "zoo run names-gru Dostoevsky").stdout.splitlines()
    assert len(top) == 3 and top[0].split()[0] == "Russian"
    probs = [float(line.split()[-1]) for line in top]
    assert probs == sorted(probs, reverse=True)
    assert (folder / "runs" / "names" / "confusion.json").is_file()


def samples_claims(ran: list[Ran], folder: Path) -> None:
    again = [r for r in ran if r.command.line.startswith("zoo train --resume")][-1]
    assert "already reached its budget (300 of 300 steps); nothing to train" in again.stderr
    recorded = output_of(ran, "zoo inspect runs/evolve --samples").stdout
    assert all(f"--- step {n} ---" in recorded for n in (100, 200, 300))


def seq2seq_claims(ran: list[Ran], folder: Path) -> None:
    from zoo_seq2seq.data import ANTONYMS

    assert output_of(ran, "zoo run seq2seq-antonyms king").stdout.strip() == dict(ANTONYMS)["king"]
    assert output_of(ran, "zoo run seq2seq-antonyms mans").rc == 0  # a-z: not refused


def adder_claims(ran: list[Ran], folder: Path) -> None:
    assert output_of(ran, "zoo run adder-gru 81+113").stdout.strip() == str(81 + 113)


CLAIMS = {"hello.md": [hello_claims], "names.md": [names_claims], "samples.md": [samples_claims],
          "seq2seq.md": [seq2seq_claims], "adder.md": [adder_claims]}


# -- the network by hand ---------------------------------------------------------------------------
def recurrence(f, xs):
    """Hidden states (both units equal) and outputs of the sheet's network, all weights 1, no bias."""
    h, out = 0.0, []
    for x in xs:
        h = f(sum(x) + 2 * h)  # W x (each unit sums the inputs) + U h (each unit sums both units)
        out.append((h, 2 * h))  # y = V h with V all ones
    return out


def test_the_network_by_hand_matches_the_recurrence_and_the_code(tmp_path):
    xs = [(1, 1), (1, 1), (2, 2)]
    expected = {"identity": recurrence(lambda v: v, xs), "tanh": recurrence(math.tanh, xs),
                "relu": recurrence(lambda v: max(v, 0.0), xs)}
    pairs = [(body, nxt) for (kind, body), (nkind, nxt) in zip(blocks("by-hand.md"), blocks("by-hand.md")[1:],
                                                                  strict=False)
             if kind == "python" and nkind == "text"]
    assert len(pairs) == 2
    for number, (program, shown) in enumerate(pairs):
        script = tmp_path / f"page{number}.py"
        script.write_text(program, encoding="utf-8")
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env())
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == shown
    zoo_lines, torch_lines = pairs[0][1].splitlines(), pairs[1][1].splitlines()
    for line in zoo_lines:
        name, step = line.split()[0], int(re.search(r"t=(\d)", line).group(1))
        h, y = expected[name][step - 1]
        numbers = [float(v) for v in re.findall(r"-?\d+\.\d+", line)]
        assert numbers == pytest.approx([h, h, y], abs=1e-6)
    relu = expected["relu"]
    for step, line in enumerate(torch_lines[:3]):
        assert [float(v) for v in re.findall(r"-?\d+\.\d+", line)] == [relu[step][0]] * 2
    assert [float(v) for v in re.findall(r"-?\d+\.\d+", torch_lines[3])] == [relu[t][0] for t in (0, 0, 1, 1, 2, 2, 2, 2)]
    page = (COURSE / "by-hand.md").read_text(encoding="utf-8")
    for name in ("tanh",):
        for h, y in expected[name]:
            assert f"{h:.6f}" in page and f"{y:.6f}" in page
