"""End to end: `gankit serve` in a subprocess, driven in real headless Chromium."""

import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.viz.browser import chromium_page

pytestmark = pytest.mark.slow  # the full lane only (pytest -m 'not slow' skips it)


@pytest.fixture
def served(image_run):
    """The URL of `gankit serve RUN --port 0` on the loopback; the server is stopped afterwards."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "gankit", "serve", str(image_run), "--port", "0"],
        cwd=Path(__file__).parents[2],  # this checkout's gankit
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    found: list[str] = []

    def read_url() -> None:
        for line in proc.stdout:
            match = re.search(r"http://127\.0\.0\.1:\d+/", line)
            if match:
                found.append(match.group(0))
                return

    reader = threading.Thread(target=read_url, daemon=True)
    reader.start()
    reader.join(timeout=60)
    try:
        assert found, f"gankit serve did not print its URL within 60 s (exit status {proc.poll()})"
        yield found[0]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _generation(page, selector: str) -> int:
    return int(page.get_attribute(selector, "data-generation"))


def _next_image(page, selector: str, before: int) -> None:
    page.wait_for_function(
        "([sel, n]) => { const img = document.querySelector(sel);"
        " return Number(img.dataset.generation) > n && img.naturalWidth > 0; }",
        arg=[selector, before],
        timeout=15_000,
    )


def test_explorer_in_headless_chromium(served, chromium):
    with chromium_page(chromium) as page:
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(served)
        _next_image(page, "#samples", 0)  # the first samples arrive by themselves
        first_src = page.get_attribute("#samples", "src")
        assert page.evaluate("document.querySelector('#samples').naturalWidth") == (2 + 4 * 30) * 2  # 16 images

        # move the latent-dimension slider with the keyboard, as a user would
        page.select_option("#dim-select", "3")
        before = _generation(page, "#samples")
        page.focus("#dim-slider")
        for _ in range(20):
            page.keyboard.press("ArrowRight")
        _next_image(page, "#samples", before)
        assert page.get_attribute("#samples", "src") != first_src
        assert float(page.text_content("#dim-value")) == pytest.approx(float(page.input_value("#dim-slider")))

        # re-roll z, then interpolate between two samples
        page.click("#set-a")
        before = _generation(page, "#samples")
        page.click("#reroll")
        _next_image(page, "#samples", before)
        assert page.text_content("#seed") == "1"
        page.click("#set-b")
        page.click("#interpolate")
        _next_image(page, "#interp", 0)
        assert page.is_visible("#interp")

        # a bad request shows the server's message and nothing breaks
        page.fill("#count", "500")
        page.dispatch_event("#count", "change")
        page.wait_for_selector("#status.error")
        assert "n must be an integer in 1..64" in page.text_content("#status")
        assert errors == []
