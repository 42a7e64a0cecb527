import re

import pytest
from playwright.sync_api import expect

from interviews.services.catalogue import demo_accounts_ensure
from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_candidate_logs_in_and_opens_a_case_study(page, catalogue):
    account = next(a for a in demo_accounts_ensure() if a.role == "candidate")

    page.goto("/")
    expect(page.get_by_role("heading", name="Practise ML system design interviews")).to_be_visible()
    expect(page.get_by_test_id("case-studies").locator("li")).to_have_count(5)
    screenshot(page, "home")

    page.get_by_role("link", name="Log in").first.click()
    page.get_by_label("Username").fill(account.username)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("who")).to_contain_text("candidate")

    page.get_by_role("link", name="Ad Click Prediction").click()
    expect(page.get_by_role("heading", name="Ad Click Prediction", level=1)).to_be_visible()
    expect(page.get_by_test_id("prompt")).to_be_visible()
    # The questions are listed; their answers are revealed only in an interview.
    expect(page.get_by_test_id("case-questions")).to_contain_text("What is the scale?")
    expect(page.get_by_test_id("case-questions")).not_to_contain_text("500 million")
    screenshot(page, "case-study")

    assert page.console_errors == [], page.console_errors


def test_pages_render_on_a_phone_without_csp_violations(page, catalogue):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/case-studies/food-delivery-time/")
    expect(page.get_by_role("heading", name="Estimate Food Delivery Time")).to_be_visible()
    # Nothing wider than the screen: the layout is responsive.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    screenshot(page, "case-study-phone")
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


def test_a_candidate_signs_up_and_logs_in_through_the_mailed_link(page, catalogue, mailoutbox):
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Password", exact=True).fill("a-long-unusual-pass-42")
    page.get_by_label("Password confirmation").fill("a-long-unusual-pass-42")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("We sent a link to grace@example.com")

    # Before the link, the account does not log in, and the page says why.
    page.get_by_role("link", name="Log in").first.click()
    page.get_by_label("Username").fill("grace")
    page.get_by_label("Password").fill("a-long-unusual-pass-42")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("awaits-verification")).to_contain_text("Confirm your e-mail")

    # The mail (Django's locmem outbox, as the console shows it under `make run`).
    link = re.search(r"https?://\S+/accounts/verify/\S+/", mailoutbox[-1].body).group(0)
    page.goto(link)
    page.get_by_test_id("confirm-email").click()
    expect(page.get_by_test_id("who")).to_contain_text("grace")
    expect(page.get_by_test_id("who")).to_contain_text("candidate")
    assert page.console_errors == [], page.console_errors
