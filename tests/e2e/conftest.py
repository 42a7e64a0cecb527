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
    close_quietly(context)


def close_quietly(context) -> None:
    """Close a browser context after aborting its requests: nothing more reaches the server
    (the interview's heartbeat, the save a page sends on pagehide), since a request landing
    while the test database is flushed deadlocks the flush."""
    context.route("**/*", lambda route: route.abort())
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


# axe-core, vendored by `make test-deps` (pinned and integrity-checked in the Makefile).
AXE = ROOT / "tests" / "e2e" / "vendor" / "axe-core" / "axe.min.js"
# What fails a page: axe's two highest impacts (contrast, missing names and labels, broken
# ARIA). "moderate" and "minor" findings are best practice, reported by axe but not gated.
AXE_FAILING_IMPACTS = ("serious", "critical")
# Injected through the DevTools protocol, so the page's Content Security Policy (script
# nonces, no eval) stays on while axe runs.
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), html: n.html,
                                summary: n.failureSummary})),
  }));
}"""


@pytest.fixture(scope="session")
def axe_source() -> str:
    from conftest import skip_or_fail

    if not AXE.exists():
        skip_or_fail(f"axe-core is not vendored at {AXE}: run `make test-deps`")
    return AXE.read_text()


def axe_violations(page, axe_source: str) -> list[dict]:
    """Run axe-core on ``page`` as it is now (its current viewport and state) and return the
    serious and critical violations: ``{id, impact, help, helpUrl, nodes: [{target, html,
    summary}]}``. Injects axe once per document."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source)
    return [v for v in page.evaluate(RUN_AXE) if v["impact"] in AXE_FAILING_IMPACTS]


def axe_report(where: str, violations: list[dict], max_nodes: int = 6) -> str:
    """``violations`` (from :func:`axe_violations`) as text a person can act on: the rule,
    why, where to read about it, and the first few failing elements."""
    lines = []
    for violation in violations:
        lines.append(f"{where}: [{violation['impact']}] {violation['id']}: {violation['help']}"
                     f" ({len(violation['nodes'])} elements; {violation['helpUrl']})")
        for node in violation["nodes"][:max_nodes]:
            html = " ".join(node["html"].split())[:160]
            summary = " ".join(node["summary"].split())[:240]
            lines.append(f"    {node['target']}  {html}\n      {summary}")
    return "\n".join(lines)


@pytest.fixture
def open_as(browser, asgi_live_server):
    """``open_as(user)``: a page in a fresh browser context on the ASGI server, logged in as
    ``user``, recording console errors; the contexts close after the test."""
    contexts = []

    def open_page(user, *, viewport=(1366, 900)):
        from django.test import Client

        client = Client()
        client.force_login(user)
        context = browser.new_context(base_url=asgi_live_server.url,
                                      viewport={"width": viewport[0], "height": viewport[1]})
        contexts.append(context)
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                              "url": asgi_live_server.url}])
        page = context.new_page()
        page.console_errors = []
        page.on("console", lambda msg: msg.type == "error"
                and page.console_errors.append(msg.text))
        return page

    yield open_page
    for context in contexts:
        close_quietly(context)
