"""The audition notebook in a real browser: JupyterLab on localhost, driven by Playwright.

Debian's Chromium is used (``/usr/bin/chromium``); Playwright downloads nothing.
The test skips, saying why, where Chromium or Playwright is missing.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser._lab import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_FLAGS,
    REPO,
    jupyter_lab,
    skip_without_a_browser,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """A JupyterLab server on localhost with a copy of the audition notebook."""
    skip_without_a_browser()
    shutil.copy(REPO / "notebooks" / "06_audition.ipynb", tmp_path)
    environment = {
        "AUDIOLAB_STORE": str(tmp_path / "outputs"),
        "AUDIOLAB_DURATION": "3",
    }
    with jupyter_lab(tmp_path, "06_audition.ipynb", environment) as url:
        yield url


def test_the_audition_widget_renders_and_generates_in_chromium(lab: str) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        try:
            page.goto(lab, wait_until="domcontentloaded")
            page.wait_for_selector(".jp-Notebook", timeout=60_000)
            # the kernel is up when the status bar says it is idle
            page.locator(".jp-StatusBar-TextItem", has_text="Idle").first.wait_for(timeout=120_000)
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_text("Run All Cells", exact=True).click()
            generate = page.locator(".jupyter-widgets button", has_text="Generate").first
            generate.wait_for(state="visible", timeout=180_000)
            players = page.locator(".jupyter-widgets audio")
            page.wait_for_function(  # the notebook's own cells generate takes first
                "document.querySelectorAll('.jupyter-widgets audio').length >= 5", timeout=180_000
            )
            before = players.count()
            page.wait_for_function(
                "!document.querySelector('.jupyter-widgets button.mod-primary').disabled",
                timeout=60_000,
            )
            generate.click()  # a click in the page: more takes and players
            page.wait_for_function(
                f"document.querySelectorAll('.jupyter-widgets audio').length > {before}",
                timeout=120_000,
            )
            assert players.count() > before
            generate.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "audition.png"), full_page=False)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "audition-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    assert (ARTIFACTS / "audition.png").stat().st_size > 10_000
