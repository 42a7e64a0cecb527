"""A candidate uploads a model, watches it get scored by a real worker without reloading,
opens the plots, and finds their row on the leaderboard."""

import pytest
from playwright.sync_api import expect

from grading.tests.conftest import train_example_model
from interviews.tests.factories import candidate
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.slow]

SLUG = "ad-click-prediction"


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("who")).to_contain_text(username)


def test_candidate_uploads_and_watches_the_score_arrive(tiny_dataset, tmp_path,
                                                        celery_worker_process, page):
    _, built = tiny_dataset(SLUG)
    model = train_example_model(built, tmp_path / "work")
    candidate(username="ada")
    log_in(page, "ada")

    page.goto(f"/case-studies/{SLUG}/")
    page.get_by_test_id("submit-link").click()
    expect(page.get_by_test_id("quota")).to_contain_text("5 of 5")
    page.set_input_files("#id_artifact", str(model))
    page.get_by_label("Note").fill("logistic regression, no ids")
    screenshot(page, "upload")

    # Slow the upload down so the progress bar is there to see.
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 1024})
    page.locator("form.upload").get_by_role("button", name="Upload and score").click()
    expect(page.get_by_test_id("upload-progress")).to_be_visible()
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})

    page.wait_for_url("**/submissions/**")
    url = page.url
    statuses = set()
    body = page.get_by_test_id("submission-body")
    for _ in range(240):
        statuses.add(body.get_attribute("data-status"))
        if "scored" in statuses or "failed" in statuses:
            break
        page.wait_for_timeout(250)
    assert page.url == url  # no reload: htmx swapped the status in place
    expect(page.get_by_test_id("status")).to_have_text("Scored", timeout=60_000)
    assert statuses & {"queued", "running"}, statuses
    expect(page.get_by_test_id("metrics")).to_contain_text("Log loss")
    # During the round: the per-week values only; the curves wait for the round to close.
    expect(page.get_by_test_id("charts").locator("svg")).to_have_count(1)
    expect(page.get_by_test_id("charts-kept-back")).to_contain_text("ROC curve")
    expect(page.get_by_test_id("ladder-note")).to_contain_text("from this submission")
    page.get_by_test_id("charts").scroll_into_view_if_needed()
    screenshot(page, "submission-scored")

    page.get_by_role("link", name="Leaderboard →").click()
    row = page.get_by_test_id("row").filter(has_text="ada")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("you")
    screenshot(page, "leaderboard")
    assert page.console_errors == [], page.console_errors
