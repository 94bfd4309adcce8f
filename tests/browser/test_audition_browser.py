"""The audition notebook in a real browser: JupyterLab on localhost, driven by Playwright.

Debian's Chromium is used (``/usr/bin/chromium``); Playwright downloads nothing.
The test skips, saying why, where Chromium or Playwright is missing.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
# headless, and quiet: this machine's network is closed to everything but localhost
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """A JupyterLab server on localhost with a copy of the audition notebook."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="playwright (Python) is not installed")
    shutil.copy(REPO / "notebooks" / "06_audition.ipynb", tmp_path)
    port, token = _free_port(), secrets.token_hex(16)
    environment = {
        **os.environ,
        "AUDIOLAB_STORE": str(tmp_path / "outputs"),
        "AUDIOLAB_DURATION": "3",
        "HF_HUB_OFFLINE": "1",
    }
    command = [
        *(sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1"),
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={tmp_path}",
        "--LabApp.news_url=",
    ]
    server = subprocess.Popen(
        command,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                assert server.poll() is None, "JupyterLab exited"
                assert time.monotonic() < deadline, "JupyterLab did not start in 60 s"
                time.sleep(0.5)
        yield f"{url}/lab/tree/06_audition.ipynb?token={token}"
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)


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
