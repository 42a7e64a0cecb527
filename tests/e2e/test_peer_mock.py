"""A peer mock end to end in two real Chromium contexts on the ASGI server: one candidate
offers a peer slot, the other books it in the browser; both get an e-mail with an .ics
invitation whose times are right in their two time zones; at the time both join, run turn 1
(the booker interviews from the console), swap roles for turn 2, and after each turn the peer
interviewer sends a peer scorecard the other then reads. Screenshots; axe on the new pages."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar

from interviews.models import CaseStudy
from interviews.scheduling import services as scheduling
from interviews.scheduling.models import Availability, PeerScorecard, Slot
from interviews.tests.factories import candidate
from tests.e2e.conftest import axe_report, axe_violations, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.slow,
              pytest.mark.django_db(transaction=True)]

WAIT_MS = 15_000


def peer_slot_soon(host, case_study) -> Slot:
    """A peer slot of ``host`` starting in five minutes: joinable now (the join opens ten
    minutes before), as if the clock had moved to the day of the mock."""
    starts = (timezone.now() + timedelta(minutes=5)).replace(second=0, microsecond=0)
    availability = Availability.objects.create(
        owner=host, kind="peer", date=starts.date(), start_time=time(0, 0),
        end_time=time(23, 59), time_zone="UTC", case_study=case_study)
    return Slot.objects.create(availability=availability, host=host, kind="peer",
                               starts_at=starts, ends_at=starts + timedelta(hours=1),
                               case_study=case_study)


def run_turn(candidate_page, interviewer_page, peer_url):
    """Both open the turn from the peer mock's page; the interviewer starts the clock, the
    candidate sees the interview, the interviewer ends it."""
    from playwright.sync_api import expect

    interviewer_page.goto(peer_url)
    interviewer_page.get_by_test_id("peer-next").click()
    interviewer_page.wait_for_url(re.compile(r"/live/\d+/console/$"))
    candidate_page.goto(peer_url)
    candidate_page.get_by_test_id("peer-next").click()
    candidate_page.wait_for_url(re.compile(r"/live/\d+/$"))
    interviewer_page.get_by_test_id("start-clock").click()
    expect(candidate_page.get_by_test_id("answer-1")).to_be_visible(timeout=WAIT_MS)
    candidate_page.get_by_test_id("answer-1").press_sequentially("Frame it as ranking")
    interviewer_page.get_by_test_id("end-open").click()
    interviewer_page.get_by_test_id("end-confirm").click()
    expect(interviewer_page.get_by_test_id("console-ended")).to_be_visible(timeout=WAIT_MS)


def send_peer_scorecard(page, peer_url, turn, work_on):
    page.goto(peer_url)
    page.get_by_test_id(f"write-peer-scorecard-{turn}").click()
    form = page.get_by_test_id("peer-scorecard-form")
    for select in form.locator("select").all():
        select.select_option("3")
    form.locator("textarea[name=comment_1]").fill("Clear problem statement.")
    form.locator("textarea[name=went_well]").fill("Structured and calm.")
    form.locator("textarea[name=work_on]").fill(work_on)
    page.get_by_test_id("send-peer-scorecard").click()
    page.wait_for_url(re.compile(r"/schedule/peer/\d+/$"))


def test_a_peer_mock_booked_joined_and_run_both_ways(catalogue, open_as, axe_source):
    from playwright.sync_api import expect

    host_user, booker_user = candidate(username="hana"), candidate(username="bo")
    scheduling.profile_time_zone_set(user=host_user, time_zone="Europe/Berlin")
    scheduling.profile_time_zone_set(user=booker_user, time_zone="Asia/Tokyo")
    host_case = CaseStudy.objects.get(slug="feed-ranking")
    booker_case = CaseStudy.objects.get(slug="ad-click-prediction")
    slot = peer_slot_soon(host_user, host_case)

    # The booker finds the peer slot and books it for their own case study.
    booker = open_as(booker_user, viewport=(1280, 900))
    booker.goto("/schedule/book/?kind=peer")
    violations = axe_violations(booker, axe_source)
    assert violations == [], axe_report("book a peer slot", violations)
    booker.locator(f"#case-{slot.pk}").select_option(str(booker_case.pk))
    screenshot(booker, "peer-book", full_page=False, docs=False)
    booker.get_by_test_id(f"book-{slot.pk}").click()
    booker.wait_for_url(re.compile(r"/schedule/peer/\d+/$"))
    peer_url = booker.url

    # Both got an invitation: the same UTC times in the .ics, each e-mail in its own zone.
    assert sorted(m.to[0] for m in mail.outbox) == sorted([host_user.email, booker_user.email])
    for message in mail.outbox:
        (_, content, mimetype), = message.attachments
        assert mimetype.startswith("text/calendar")
        event = Calendar.from_ical(content).walk("VEVENT")[0]
        assert event.decoded("dtstart") == slot.starts_at.astimezone(UTC)
        assert event.decoded("dtend") == slot.ends_at.astimezone(UTC)
    from zoneinfo import ZoneInfo

    for user, zone in ((host_user, "Europe/Berlin"), (booker_user, "Asia/Tokyo")):
        (message,) = [m for m in mail.outbox if m.to == [user.email]]
        local = slot.starts_at.astimezone(ZoneInfo(zone))
        assert f"{local:%H:%M} ({zone})" in message.subject, message.subject

    # At the time, the host joins from their schedule: the booking leads to the peer mock.
    host = open_as(host_user, viewport=(1280, 900))
    host.goto("/schedule/")
    host.get_by_test_id(f"join-{slot.bookings.get().pk}").click()
    host.wait_for_url(re.compile(r"/schedule/peer/\d+/$"))
    assert host.url == peer_url
    violations = axe_violations(host, axe_source)
    assert violations == [], axe_report("peer mock page", violations)

    # Turn 1: the host is interviewed, the booker interviews; then the booker's scorecard.
    run_turn(host, booker, peer_url)
    send_peer_scorecard(booker, peer_url, 1, "Quantify the latency budget.")
    # Turn 2: roles swapped.
    run_turn(booker, host, peer_url)
    send_peer_scorecard(host, peer_url, 2, "Say how the model is retrained.")

    # Each reads the other's feedback, labelled as peer feedback.
    host.goto(peer_url)
    expect(host.get_by_test_id("peer-scorecard-1")).to_contain_text("Quantify the latency budget.")
    expect(host.get_by_test_id("peer-scorecard-1")).to_contain_text("Peer feedback")
    booker.goto(peer_url)
    expect(booker.get_by_test_id("peer-scorecard-2")).to_contain_text(
        "Say how the model is retrained.")
    expect(booker.get_by_test_id("peer-stage")).to_contain_text("Both turns")
    screenshot(booker, "peer-mock-done", docs=False)
    cards = PeerScorecard.objects.order_by("room__pk")
    assert [(c.author.username, c.subject.username) for c in cards] == [("bo", "hana"),
                                                                          ("hana", "bo")]
    assert host.console_errors == [] and booker.console_errors == []
    phone = open_as(booker_user, viewport=(390, 844))
    phone.goto(peer_url)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "peer-mock-phone", docs=False)
    assert datetime.now(UTC) < slot.ends_at  # the whole mock ran inside its slot
