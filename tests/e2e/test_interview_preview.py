"""The Markdown preview in Debian's Chromium: keystroke saves render nothing; opening a step's
Preview tab asks the server to render what is in the editor (saved yet or not)."""

import re

import pytest
from playwright.sync_api import expect

from interviews.models import Answer, InterviewSession
from interviews.services.catalogue import demo_accounts_ensure

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_preview_is_rendered_when_shown_and_never_by_saves(page, catalogue):
    account = next(a for a in demo_accounts_ensure() if a.role == "candidate")
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Log in").click()
    page.goto("/case-studies/ad-click-prediction/")
    page.get_by_test_id("start-interview").click()
    page.wait_for_url(re.compile(r"/sessions/\d+/$"))
    session = InterviewSession.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    previews: list[str] = []
    page.on("request", lambda request: "/preview/" in request.url and previews.append(
        request.post_data or ""))

    card = page.locator("#step-1")
    editor = page.get_by_test_id("answer-1")
    editor.fill("Offline metric: **NE**.")
    expect(page.get_by_test_id("save-state-1")).to_contain_text("Saved at")
    editor.press_sequentially(" Then <i>AUC</i>.")
    expect(page.get_by_test_id("save-state-1")).to_contain_text("Saved at")
    assert previews == []  # saves alone never render Markdown

    card.get_by_role("tab", name="Preview").click()
    preview = page.locator("#preview-1")
    expect(preview.locator("strong")).to_have_text("NE")
    expect(preview).to_contain_text("Then <i>AUC</i>.")  # raw HTML stays text
    expect(preview.locator("i")).to_have_count(0)
    expect(editor).to_be_hidden()
    assert len(previews) == 1

    # Back to writing: the preview shows the editor's text even before its save is confirmed.
    card.get_by_role("tab", name="Write").click()
    editor.press_sequentially("\n\n- **calibration**")
    card.get_by_role("tab", name="Preview").click()
    expect(preview.locator("li strong")).to_have_text("calibration")
    expect(page.get_by_test_id("save-state-1")).to_contain_text("Saved at")
    assert Answer.objects.get(session=session, step_number=1).text.endswith("- **calibration**")
    assert page.console_errors == [], page.console_errors
