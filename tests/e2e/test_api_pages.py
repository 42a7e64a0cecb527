"""The API tokens page and the API page in Chromium: a token is made (its secret shown once,
copied with the button) and revoked with the keyboard; both pages fit a 390 px phone, run
under the Content Security Policy, and have no serious axe violation."""

import pytest

from tests.e2e.conftest import axe_report, axe_violations, screenshot
from tests.e2e.test_accessibility import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_token_is_made_shown_once_and_revoked_in_the_browser(page, live_server, catalogue,
                                                               axe_source):
    from interviews.tests.factories import candidate
    from mlsd_site.models import ApiToken
    from mlsd_site.tokens import secret_digest

    user = candidate(username="ada")
    log_in(page.context, user, live_server.url)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/accounts/tokens/")
    page.get_by_label("Name").fill("laptop notebook")
    page.get_by_label("Read and submit models").check()
    page.get_by_label("Expires after").select_option("30")
    page.get_by_role("button", name="Create token").press("Enter")
    secret = page.get_by_test_id("new-token-secret").inner_text()
    assert ApiToken.objects.get(user=user).secret_sha256 == secret_digest(secret)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "api-tokens-phone", docs=False)
    assert axe_violations(page, axe_source) == [], axe_report("tokens", axe_violations(
        page, axe_source))
    page.goto("/accounts/tokens/")
    assert secret not in page.content()
    page.get_by_role("button", name="Revoke laptop notebook").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "is revoked" in page.inner_text("body")
    assert ApiToken.objects.get(user=user).revoked_at is not None
    assert page.console_errors == []


def test_the_api_page_renders_the_schema_under_the_csp(page, live_server, catalogue,
                                                         axe_source):
    page.goto("/api/")
    rows = page.get_by_test_id("endpoints").locator("tbody tr")
    assert rows.count() == 8  # every operation of the schema
    assert "POST /api/v1/case-studies/{slug}/submissions" in page.inner_text("body")
    assert "mlsd submit CASE model.onnx --wait" in page.inner_text("body")
    assert axe_violations(page, axe_source) == [], axe_report("api", axe_violations(
        page, axe_source))
    screenshot(page, "api-page", docs=False)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "api-page-phone", docs=False)
    assert page.console_errors == []
