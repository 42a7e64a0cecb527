"""Scheduling through the pages: booking sends both invitations, another person's booking
is a 404, the join button opens the live room at the time (the slot's interviewer in it),
and a real Celery beat sends the reminder of the booking that is due, once."""

import time as clock
from datetime import time, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from interviews.live.models import LiveRoom
from interviews.scheduling import services as scheduling
from interviews.scheduling.models import Availability, Booking, Slot
from interviews.tests.factories import CaseStudyFactory, candidate, interviewer

pytestmark = pytest.mark.django_db


def slot_at(host, starts_at, *, minutes=60) -> Slot:
    """A slot starting at ``starts_at`` exactly (a one-off window's slot, made directly so the
    test can put it anywhere relative to now)."""
    # The window only parents the slot: a whole day, so a slot near midnight fits its checks.
    availability = Availability.objects.create(
        owner=host, date=starts_at.date(), start_time=time(0, 0), end_time=time(23, 59),
        time_zone="UTC")
    return Slot.objects.create(availability=availability, host=host, kind="interview",
                               starts_at=starts_at,
                               ends_at=starts_at + timedelta(minutes=minutes))


def test_booking_from_the_page_mails_both_and_shows_the_booking(
        client, django_capture_on_commit_callbacks):
    host, booker = interviewer(), candidate()
    case = CaseStudyFactory()
    slot = slot_at(host, (timezone.now() + timedelta(days=2)).replace(hour=10, minute=0,
                                                                       second=0, microsecond=0))
    client.force_login(booker)
    page = client.get(reverse("scheduling:book"))
    assert page.status_code == 200 and f'name="slot" value="{slot.pk}"' in page.text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("scheduling:book"),
                               {"slot": slot.pk, "case_study": case.pk})
    booking = Booking.objects.get(slot=slot)
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:booking",
                                           kwargs={"booking_id": booking.pk})
    assert sorted(m.to[0] for m in mail.outbox) == sorted([host.email, booker.email])
    # The slot is gone from the list, and booking it again says why.
    assert f'name="slot" value="{slot.pk}"' not in client.get(reverse("scheduling:book")).text
    again = client.post(reverse("scheduling:book"), {"slot": slot.pk, "case_study": case.pk},
                        follow=True)
    assert "Someone booked this slot a moment ago" in again.text
    client.force_login(candidate())
    assert client.get(reverse("scheduling:booking",
                              kwargs={"booking_id": booking.pk})).status_code == 404


def test_the_join_button_opens_the_live_room_at_the_time(client):
    host, booker = interviewer(), candidate()
    case = CaseStudyFactory()
    now = timezone.now()
    soon = slot_at(host, now + timedelta(minutes=5))
    later = slot_at(host, now + timedelta(hours=3))
    booking = scheduling.booking_create(candidate=booker, slot_id=soon.pk, case_study=case,
                                        notify=False)
    early = scheduling.booking_create(candidate=booker, slot_id=later.pk,
                                      case_study=CaseStudyFactory(), notify=False)
    join = reverse("scheduling:booking_join", kwargs={"booking_id": booking.pk})
    # The interviewer first: the candidate has not opened the room yet.
    client.force_login(host)
    waiting = client.post(join, follow=True)
    assert "has not opened the room yet" in waiting.text
    client.force_login(booker)
    response = client.post(join)
    room = LiveRoom.objects.get(candidate=booker, case_study=case)
    assert response["Location"] == room.get_absolute_url()
    assert room.interviewer == host
    booking.refresh_from_db()  # who came: the attendance sweep reads it after the slot
    assert booking.candidate_joined_at is not None and booking.host_joined_at is not None
    client.force_login(host)
    assert client.post(join)["Location"] == reverse("live:console",
                                                    kwargs={"room_id": room.pk})
    client.force_login(booker)
    too_early = client.post(reverse("scheduling:booking_join",
                                    kwargs={"booking_id": early.pk}), follow=True)
    assert "You can join from" in too_early.text


@pytest.mark.slow
def test_a_real_celery_beat_sends_the_due_reminder_once(celery_workers, tmp_path):
    host, booker = interviewer(), candidate()
    case = CaseStudyFactory()
    now = timezone.now()
    # The clock has moved to 59 minutes before the first interview (the reminder goes out 60
    # minutes before); the second one is two hours away.
    due = scheduling.booking_create(candidate=booker, slot_id=slot_at(
        host, now + timedelta(minutes=59)).pk, case_study=case, notify=False)
    not_due = scheduling.booking_create(candidate=booker, slot_id=slot_at(
        host, now + timedelta(hours=2)).pk, case_study=case, notify=False)
    mail_dir = tmp_path / "mail"
    worker = celery_workers(queue="default", beat=True, env={
        "BOOKING_REMINDER_SWEEP_SECONDS": "1", "SCHEDULING_REMINDER_MINUTES": "60",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir)})
    deadline = clock.monotonic() + 90
    while clock.monotonic() < deadline:
        due.refresh_from_db()
        if due.reminder_sent_at is not None and mail_dir.exists() and any(mail_dir.iterdir()):
            break
        assert worker.poll() is None, worker.log_path.read_text()[-3000:]
        clock.sleep(0.5)
    clock.sleep(3)  # a few more beats: the reminder must not go out again
    assert due.reminder_sent_at is not None, worker.log_path.read_text()[-3000:]
    not_due.refresh_from_db()
    assert not_due.reminder_sent_at is None
    messages = "".join(path.read_text() for path in mail_dir.iterdir())
    assert messages.count("Subject: Reminder:") == 2  # the candidate and the interviewer
    assert f"To: {booker.email}" in messages and f"To: {host.email}" in messages
    assert "BEGIN:VCALENDAR" in messages


def test_home_pages_list_upcoming_interviews_with_their_join_button(client):
    host, booker = interviewer(), candidate()
    starts = (timezone.now() + timedelta(hours=5)).replace(second=0, microsecond=0)
    booking = scheduling.booking_create(candidate=booker, slot_id=slot_at(host, starts).pk,
                                        case_study=CaseStudyFactory(), notify=False)
    scheduling.profile_time_zone_set(user=host, time_zone="Asia/Kolkata")
    for user, local in ((booker, starts), (host, starts + timedelta(hours=5, minutes=30))):
        client.force_login(user)
        page = client.get(reverse("home")).text
        assert 'data-testid="home-upcoming"' in page
        assert booking.case_study.title in page
        # Rendered shut, with the moment it opens (ten minutes before, in the person's zone).
        assert f'data-testid="join-{booking.pk}"' in page and "disabled" in page
        assert f"{local - timedelta(minutes=10):%Y-%m-%dT%H:%M}" in page
        assert f"{local:%H:%M}" in page
    client.force_login(candidate())
    assert 'data-testid="home-upcoming"' not in client.get(reverse("home")).text
