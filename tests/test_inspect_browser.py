"""The ``zoo inspect --html`` page in a real browser: Debian's headless Chromium over DevTools.

One ``zoo inspect --html PAGE --json --states`` run gives both the page and the activations it
should show; the test then checks in Chromium that the page loads without console errors, that
every character's colour is the one its JSON activation calls for, that the unit switch
recolours the text, that hovering shows the predictions, and takes a screenshot.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.chromium import Browser, find_chromium
from tests.test_inspect import run_zoo

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium)")

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n"


def expected_rgb(value: float, scale: float) -> list[int]:
    """The page's colour rule: white at 0, red for positive, blue for negative, full at ``scale``."""
    a = max(-1.0, min(1.0, value / scale))
    fade = round(255 * (1 - abs(a)))
    return [255, fade, fade] if a >= 0 else [fade, fade, 255]


@pytest.fixture(scope="module")
def inspected(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    page = tmp_path_factory.mktemp("page") / "page.html"
    done = run_zoo("inspect", "charlm-lstm", TEXT, "--html", str(page), "--json", "--states")
    assert done.returncode == 0, done.stderr
    return page, [json.loads(line) for line in done.stdout.splitlines()]


def spans(browser: Browser) -> list[dict]:
    return browser.evaluate(
        "Array.from(document.querySelectorAll('#text span')).map(s => ({v: parseFloat(s.dataset.v), "
        "rgb: getComputedStyle(s).backgroundColor.match(/\\d+/g).map(Number)}))"
    )


def check_unit(browser: Browser, records: list[dict], unit: int) -> None:
    values = [r["states"]["h"][unit] for r in records]
    scale = max(abs(v) for v in values)
    shown = spans(browser)
    assert len(shown) == len(values) == len(TEXT)
    for t, (span, value) in enumerate(zip(shown, values, strict=True)):
        assert span["v"] == pytest.approx(value, abs=scale / 127 + 1e-5), f"step {t}"  # one signed byte per value
        assert all(abs(a - b) <= 3 for a, b in zip(span["rgb"], expected_rgb(value, scale), strict=True)), f"step {t}"


def test_page_in_chromium(inspected: tuple[Path, list[dict]], tmp_path: Path) -> None:
    page, records = inspected
    with Browser(CHROMIUM) as browser:  # type: ignore[arg-type]
        browser.open(page)
        assert browser.errors == []
        first = browser.evaluate("D.unit")
        check_unit(browser, records, first)

        other = (first + 1) % len(records[0]["states"]["h"])
        before = [s["rgb"] for s in spans(browser)]
        browser.evaluate(f"{{ const box = document.getElementById('unit'); box.value = {other}; "
                         "box.dispatchEvent(new Event('change')); }")
        assert [s["rgb"] for s in spans(browser)] != before
        check_unit(browser, records, other)

        browser.evaluate("document.getElementById('s1').dispatchEvent(new MouseEvent('mouseover', {bubbles: true}))")
        hover = browser.evaluate("document.getElementById('hover').textContent")
        second = records[1]
        assert f"next {second['target']}  p = {second['p_target']:.3f}" in hover
        assert f"{second['top'][0]['token']}  {second['top'][0]['p']:.3f}" in hover

        assert browser.evaluate("document.querySelectorAll('#units li').length") >= 1
        assert browser.evaluate("document.querySelectorAll('#gates svg').length") == 3  # input, forget, output
        shot = browser.screenshot(tmp_path / "inspect-page.png")
        assert browser.errors == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
