"""The pictures in docs/inspect.md: the bundled charlm-lstm's ``zoo inspect --html`` page in Chromium.

Writes docs/inspect-page.png (the text coloured by the best-ranked unit, hovering a character) and
docs/inspect-gates.png (the ranked units and the LSTM gate-saturation view) from the first
3,000 characters of tinyshakespeare (``<repo>/../shared/data/tinyshakespeare.txt``).

    .venv/bin/python bench/inspect_screenshots.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.chromium import Browser, find_chromium  # noqa: E402

CORPUS = next((c for c in (REPO.parent / "shared" / "data" / "tinyshakespeare.txt",  # a clone beside shared/
                           REPO.parents[1] / "shared" / "data" / "tinyshakespeare.txt")  # a git worktree one deeper
               if c.is_file()), REPO.parent / "shared" / "data" / "tinyshakespeare.txt")


def main() -> None:
    chromium = find_chromium()
    if chromium is None:
        sys.exit("Chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        text, page = Path(tmp) / "text.txt", Path(tmp) / "page.html"
        text.write_text(CORPUS.read_text(encoding="utf-8")[:3000], encoding="utf-8")
        zoo = Path(sys.executable).with_name("zoo")
        subprocess.run([str(zoo), "inspect", "charlm-lstm", "--text", str(text), "--html", str(page)], check=True)
        with Browser(chromium, width=1200, height=820) as browser:
            browser.open(page)
            browser.evaluate("document.getElementById('s97').dispatchEvent(new MouseEvent('mouseover', {bubbles: true}))")
            browser.screenshot(REPO / "docs" / "inspect-page.png")
            browser.evaluate("document.getElementById('ranked').scrollIntoView()")
            browser.screenshot(REPO / "docs" / "inspect-gates.png")
            assert not browser.errors, browser.errors
    print("wrote docs/inspect-page.png and docs/inspect-gates.png")


if __name__ == "__main__":
    main()
