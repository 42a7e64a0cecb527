"""Browser tests: Playwright drives Debian's Chromium (browser downloads do not work here).

The page talks to pytest-django's live server, which uses the test database (PostgreSQL in
CI). Playwright's sync API runs an event loop in this thread, so Django's async-safety guard
is relaxed for these tests only.
"""

import os
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parents[2]
# Test runs write screenshots under var/ (never committed), so `make test` leaves a clone
# clean; `make screenshots` points this at docs/img/ to refresh the README's pictures.
SCREENSHOT_DIR = Path(os.environ.get("MLSD_SCREENSHOT_DIR", ROOT / "var" / "screenshots"))
SCRATCH_DIR = ROOT / "var" / "screenshots"

# Chromium as the env doc starts it: no background networking on this closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 860})
    page = context.new_page()
    console_errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and console_errors.append(msg.text))
    page.console_errors = console_errors
    yield page
    context.close()


def screenshot(page, name: str, full_page: bool = True, docs: bool = True) -> Path:
    """Save a screenshot to look at: under var/screenshots/, or, for the pictures the README
    shows (``docs``), wherever ``MLSD_SCREENSHOT_DIR`` says (docs/img/ under
    ``make screenshots``)."""
    folder = SCREENSHOT_DIR if docs else SCRATCH_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
