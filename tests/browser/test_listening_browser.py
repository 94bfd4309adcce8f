"""An ABX listening test completed by clicks in a real browser: JupyterLab driven by Playwright.

Debian's Chromium is used (``/usr/bin/chromium``); Playwright downloads nothing.
The test skips, saying why, where Chromium or Playwright is missing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from tests.browser._lab import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_FLAGS,
    jupyter_lab,
    skip_without_a_browser,
)

pytestmark = pytest.mark.browser
TRIALS = 4

SETUP = f"""
import os
from audiolab import synth
from audiolab.listening import ListeningTest
from audiolab.store import Store

takes = {{
    "house": synth.reference(124, "A minor", duration=2.0, sr=16000),
    "breakbeat": synth.reference(124, "A minor", duration=2.0, sr=16000, pattern="breakbeat"),
}}
store = Store(os.environ["AUDIOLAB_STORE"])
test = ListeningTest(takes, kind="abx", trials={TRIALS}, seed=7, listener="browser", store=store)
test
"""
# the other kinds, shown for their screenshots (the ABX test is the one clicked through)
OTHERS = """
takes["half time"] = synth.reference(124, "A minor", duration=2.0, sr=16000, pattern="half_time")
display(ListeningTest(takes, kind="pairwise", seed=7, listener="browser", store=store))
display(ListeningTest(takes, kind="mushra", seed=7, listener="browser", store=store))
"""


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """A JupyterLab server on localhost with a notebook that shows an ABX test."""
    skip_without_a_browser()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(c.strip()) for c in (SETUP, OTHERS)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, tmp_path / "abx.ipynb")
    environment = {
        "AUDIOLAB_STORE": str(tmp_path / "outputs"),
    }
    with jupyter_lab(tmp_path, "abx.ipynb", environment) as url:
        yield url


def test_an_abx_test_is_completed_by_clicks_in_chromium(lab: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1100, "height": 800})
        try:
            page.goto(lab, wait_until="domcontentloaded")
            page.wait_for_selector(".jp-Notebook", timeout=60_000)
            page.locator(".jp-StatusBar-TextItem", has_text="Idle").first.wait_for(timeout=120_000)
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_text("Run All Cells", exact=True).click()
            news = page.get_by_role("button", name="No", exact=True)  # JupyterLab's news toast
            try:
                news.click(timeout=5_000)
            except Exception:  # no toast: nothing to dismiss
                pass
            widget = page.locator(".jupyter-widgets", has_text="ABX listening test").first
            widget.wait_for(state="visible", timeout=180_000)
            for trial in range(1, TRIALS + 1):
                page.get_by_text(f"trial {trial} of {TRIALS}").wait_for(timeout=60_000)
                deadline = time.monotonic() + 60
                while widget.locator("audio").count() != 3:  # A, B and X
                    assert time.monotonic() < deadline, "the players of A, B and X did not appear"
                    time.sleep(0.2)
                if trial == 2:
                    widget.screenshot(path=str(ARTIFACTS / "listening-abx.png"))
                choice = "X is A" if trial % 2 else "X is B"
                page.get_by_role("button", name=choice).click()
            page.get_by_text(f"done: {TRIALS} of {TRIALS} answered").wait_for(timeout=60_000)
            page.get_by_text("one-sided binomial test").wait_for(timeout=60_000)
            widget.screenshot(path=str(ARTIFACTS / "listening-abx-done.png"))
            for kind in ("pairwise", "mushra"):
                other = page.locator(".jupyter-widgets", has_text=f"{kind.upper()} listening test")
                other.first.scroll_into_view_if_needed()
                other.first.screenshot(path=str(ARTIFACTS / f"listening-{kind}.png"))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "listening-abx-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    assert (ARTIFACTS / "listening-abx.png").stat().st_size > 5_000
    # the clicks reached the catalog: a row per trial, the answers in the order clicked
    from audiolab.store import Store

    answers = Store(tmp_path / "outputs").trials()
    assert [a.answer for a in answers] == ["A", "B"] * (TRIALS // 2)
    assert all(a.listener == "browser" and a.kind == "abx" and a.seconds > 0 for a in answers)
    assert (ARTIFACTS / "listening-mushra.png").stat().st_size > 5_000
