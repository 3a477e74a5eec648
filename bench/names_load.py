"""How long the names task takes to load a big ``text<TAB>label`` file, and its memory.

Writes a file of random made-up names (4 labels) with ``--lines`` lines into a temporary folder,
then loads it in a fresh process as ``zoo train names ... --set data=FILE.tsv`` would, and prints
seconds, peak RSS and the bytes kept per character afterwards.

    python bench/names_load.py --lines 1000000
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import resource, sys, time
from zoo_names.data import load
start = time.perf_counter()
texts = load(sys.argv[1], fraction=0.1, seed=0, fold_accents=True)
seconds = time.perf_counter() - start
kept = sum(t.numel() * t.element_size() for t in (texts.ids, texts.starts, texts.lengths, texts.labels, texts.held))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{len(texts)} lines, {texts.ids.numel()} characters: {seconds:.1f} s, peak RSS {peak:.0f} MB, "
      f"kept {kept / 2**20:.1f} MB ({kept / texts.ids.numel():.1f} bytes per character)")
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.tsv"
        with open(path, "w", encoding="utf-8") as out:
            for _ in range(args.lines):
                name = "".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(4, 12)))
                out.write(f"{name.capitalize()}\t{rng.choice('ABCD')}\n")
        print(f"{path.stat().st_size / 2**20:.1f} MB file", flush=True)
        subprocess.run([sys.executable, "-c", CHILD, str(path)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
