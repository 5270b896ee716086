"""Retake the documentation's screenshots: two users editing the demo live.

Usage, from the repository root once ``make demo`` installed the demo::

    .venv/bin/python docs/screenshots.py

It sets the demo up on a fresh SQLite database, serves it, logs alice and bob in, in two
windows of Debian's Chromium (``/usr/bin/chromium``, driven by Playwright), has both
type in the welcome document and in the example article's admin page, and writes
``docs/_static/demo-two-users.png`` and ``docs/_static/admin-two-users.png``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "docs" / "_static"
VIEWPORT = {"width": 1000, "height": 640}
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu"]
PASSWORD = "demo"  # noqa: S105  (the demo's public accounts)


@contextmanager
def demo_server() -> Iterator[str]:
    """The demo on a fresh database, served at the returned base URL."""
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{scratch}/demo.sqlite3"}
        manage = [sys.executable, "manage.py"]
        for command in (["migrate", "--verbosity", "0"], ["setup_demo"]):
            subprocess.run(manage + command, cwd=ROOT, env=env, check=True)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen(
            [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for_port(port)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(10)


def _wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the demo did not start on port {port}")


def logged_in(browser: Browser, base: str, username: str) -> Page:
    """A page of a new browser window where ``username`` logged in."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def type_at_end(page: Page, text: str) -> None:
    """Click at the end of the editor's text and type ``text`` as a person would."""
    editable = page.locator(".collab-editor-body [contenteditable=true]").first
    editable.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text, delay=20)


def both_typing(bob: Page, alice: Page, url: str, bob_text: str, alice_text: str) -> None:
    """Open ``url`` in both windows, wait until synced, and have both type."""
    for page in (bob, alice):
        page.goto(url)
        page.locator(".collab-status[data-status=synced]").wait_for()
    type_at_end(bob, bob_text)
    type_at_end(alice, alice_text)
    bob.wait_for_timeout(1000)


def main() -> None:
    """Take both screenshots."""
    with demo_server() as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS
        )
        bob, alice = logged_in(browser, base, "bob"), logged_in(browser, base, "alice")
        both_typing(bob, alice, f"{base}/d/welcome/", " Bob was here.", " Alice too.")
        bob.screenshot(path=str(STATIC / "demo-two-users.png"))
        bob.goto(f"{base}/admin/demo/article/")
        article = bob.locator("#result_list tbody th a").first.get_attribute("href")
        both_typing(bob, alice, f"{base}{article}", " Bob edits in the admin.", " Alice adds this.")
        bob.screenshot(path=str(STATIC / "admin-two-users.png"))
        browser.close()


if __name__ == "__main__":
    main()
