"""Every page, as every role, in real Chromium: no Content Security Policy violation and no
console error. Pages come from crawling the site with Django's test client; one page per
URL pattern and role is opened in the browser."""

import re

import pytest
from django.test import Client

from tests.e2e.conftest import close_quietly
from tests.test_crawl_security import crawl, site  # noqa: F401 - the fixture is reused

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REPORT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def pattern(url: str) -> str:
    return re.sub(r"/[0-9a-f-]{36}/|/\d+/", "/N/", url.split("?")[0])


def html_pages(user) -> list[str]:
    client = Client()
    if user is not None:
        client.force_login(user)
    pages, shapes = [], set()
    for url, response in crawl(client).items():
        if response.status_code != 200 or not response.get("Content-Type", "").startswith(
                "text/html") or url.startswith("/admin/"):
            continue
        if pattern(url) not in shapes:
            shapes.add(pattern(url))
            pages.append(url)
    return pages


def test_no_page_violates_the_csp_or_logs_an_error(site, browser, live_server):  # noqa: F811
    users, _ = site
    visited = 0
    problems = []
    for role, user in users.items():
        context = browser.new_context(base_url=live_server.url)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies["sessionid"]
            context.add_cookies([{"name": "sessionid", "value": cookie.value,
                                  "url": live_server.url}])
        context.add_init_script(REPORT_VIOLATIONS)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda msg, errors=errors: msg.type == "error"
                and errors.append(msg.text))
        for url in html_pages(user):
            errors.clear()
            page.goto(url)
            page.wait_for_load_state("networkidle")
            violations = page.evaluate("window.__cspViolations")
            if violations or errors:
                problems.append((role, url, violations, list(errors)))
            visited += 1
        close_quietly(context)
    assert problems == []
    assert visited > 20
