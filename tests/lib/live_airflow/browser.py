"""A headless Chromium driven by Playwright, with the system's browser (hack/install-browser.sh).

Chromium is started with the flags this workplace needs (no background networking, no first-run or
component updates: its closed network refuses those connections) and a throwaway profile.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.lib.paths import ARTIFACTS, REPO

INSTALL = REPO / "hack" / "install-browser.sh"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip


class NoBrowser(RuntimeError):
    """No Chromium could be found or installed; the message says what to do."""


def chromium() -> str:
    """The path of a Chromium, installing Debian's where that is possible."""
    proc = subprocess.run([str(INSTALL)], capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise NoBrowser(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "hack/install-browser.sh failed")
    return proc.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def page(artifacts: str, flags: list[str] | None = None, ignore_https_errors: bool = False) -> Iterator[object]:
    """A fresh browser page (a fresh profile: no cookie of an earlier page); screenshots go to
    test-artifacts/<artifacts>/. `flags` adds to Chromium's; `ignore_https_errors` for a server on a
    private CA the browser cannot be told about (its real clients check it)."""
    from playwright.sync_api import sync_playwright

    executable = chromium()
    (ARTIFACTS / artifacts).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(profile, executable_path=executable, headless=True,
                                                        args=FLAGS + (flags or []), ignore_https_errors=ignore_https_errors,
                                                        viewport={"width": 1400, "height": 900})  # fmt: skip
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def screenshot(page: object, artifacts: str, name: str) -> Path:
    path = ARTIFACTS / artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def goto(page: object, url: str, attempts: int = 3) -> None:
    """page.goto(url) until the network is idle. A navigation the page's own script starts meanwhile
    (the UI redirecting after its login) aborts ours (net::ERR_ABORTED): go again, up to `attempts`."""
    from playwright.sync_api import Error

    for attempt in range(1, attempts + 1):
        try:
            page.goto(url, wait_until="networkidle")
            return
        except Error as error:
            if "ERR_ABORTED" not in str(error) or attempt == attempts:
                raise
            page.wait_for_load_state("networkidle")

