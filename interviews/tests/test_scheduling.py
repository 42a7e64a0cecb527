"""Scheduling: windows become UTC slots in the owner's time zone, exactly one of two racing
bookings wins on PostgreSQL, cancel and reschedule follow the cut-off, no-shows pause peer
bookings, and each booking mails both people an invitation that parses with the right UTC
times."""

import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core import mail
from django.db import connection
from icalendar import Calendar

from interviews.scheduling import policy
from interviews.scheduling import services as scheduling
from interviews.scheduling.models import Availability, Booking, Slot
from interviews.tests.factories import CaseStudyFactory, candidate, interviewer

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)  # a Friday, before Europe's DST change


def weekly(owner, *, weekday=0, start=time(18, 0), end=time(20, 0), zone="Europe/Berlin",
           kind=Availability.Kind.INTERVIEW, case_study=None, now=NOW):
    return scheduling.availability_publish(owner=owner, now=now, window=scheduling.WindowInput(
        kind=kind, weekday=weekday, start_time=start, end_time=end, time_zone=zone,
        case_study=case_study))


def test_a_weekly_window_keeps_its_local_time_across_daylight_saving():
    host = interviewer()
    availability = weekly(host)  # Mondays 18:00-20:00 in Berlin: two one-hour slots
    starts = list(Slot.objects.filter(availability=availability).values_list("starts_at",
                                                                             flat=True))
    assert len(starts) == 8  # four Mondays within the four-week horizon, two slots each
    # 23 March (CET, UTC+1): 17:00 UTC. 30 March (CEST, UTC+2): 16:00 UTC.
    assert datetime(2026, 3, 23, 17, 0, tzinfo=UTC) in starts
    assert datetime(2026, 3, 30, 16, 0, tzinfo=UTC) in starts
    assert weekly  # repeated publishing of the same window is safe:
    assert scheduling.slots_materialize(availability=availability, now=NOW) == 0


def test_a_one_off_window_and_bad_windows():
    host = interviewer()
    one_off = scheduling.availability_publish(owner=host, now=NOW, window=scheduling.WindowInput(
        kind="interview", date=date(2026, 3, 25), start_time=time(9, 0), end_time=time(10, 30),
        time_zone="America/New_York", slot_minutes=45))
    assert [s.starts_at for s in one_off.slots.all()] == [
        datetime(2026, 3, 25, 13, 0, tzinfo=UTC), datetime(2026, 3, 25, 13, 45, tzinfo=UTC)]
    with pytest.raises(scheduling.SchedulingRefused, match="Unknown time zone"):
        weekly(host, zone="Mars/Olympus")
    with pytest.raises(scheduling.SchedulingRefused, match="end after it starts"):
        weekly(host, start=time(20, 0), end=time(18, 0))


def test_booking_mails_both_people_an_invitation_in_their_own_time_zone(
        django_capture_on_commit_callbacks):
    host, booker = interviewer(), candidate()
    scheduling.profile_time_zone_set(user=host, time_zone="Europe/Berlin")
    scheduling.profile_time_zone_set(user=booker, time_zone="Asia/Tokyo")
    case = CaseStudyFactory()
    slot = Slot.objects.filter(availability=weekly(host)).order_by("starts_at").first()
    with django_capture_on_commit_callbacks(execute=True):
        booking = scheduling.booking_create(candidate=booker, slot_id=slot.pk, case_study=case,
                                            now=NOW)
    assert booking.status == Booking.Status.BOOKED
    assert sorted(m.to[0] for m in mail.outbox) == sorted([host.email, booker.email])
    by_person = {m.to[0]: m for m in mail.outbox}
    # Monday 23 March 18:00 in Berlin is 17:00 UTC and Tuesday 02:00 in Tokyo.
    assert "18:00 (Europe/Berlin)" in by_person[host.email].subject
    assert "Tuesday 24 March 2026, 02:00 (Asia/Tokyo)" in by_person[booker.email].subject
    for message in mail.outbox:
        (name, content, mimetype), = message.attachments
        assert name == "invite.ics" and mimetype.startswith("text/calendar")
        event = Calendar.from_ical(content).walk("VEVENT")[0]
        assert event.decoded("dtstart") == datetime(2026, 3, 23, 17, 0, tzinfo=UTC)
        assert event.decoded("dtend") == datetime(2026, 3, 23, 18, 0, tzinfo=UTC)
        assert f"/schedule/bookings/{booking.pk}/" in str(event["url"])
        assert {str(a) for a in event.get("attendee")} == {f"mailto:{host.email}",
                                                           f"mailto:{booker.email}"}


def test_a_booked_slot_is_refused_to_the_next_candidate_and_to_its_host():
    host, first, second = interviewer(), candidate(), candidate()
    case = CaseStudyFactory()
    slot = Slot.objects.filter(availability=weekly(host)).first()
    scheduling.booking_create(candidate=first, slot_id=slot.pk, case_study=case, now=NOW,
                              notify=False)
    with pytest.raises(scheduling.SchedulingRefused, match="moment ago"):
        scheduling.booking_create(candidate=second, slot_id=slot.pk, case_study=case, now=NOW)
    with pytest.raises(scheduling.SchedulingRefused, match="candidates book it"):
        scheduling.booking_create(candidate=host, slot_id=slot.pk, case_study=case, now=NOW)
    with pytest.raises(scheduling.SchedulingRefused, match="already started"):
        scheduling.booking_create(candidate=second, slot_id=slot.pk, case_study=case,
                                  now=slot.starts_at)


def test_a_slot_for_one_case_study_is_not_booked_for_another():
    host, booker = interviewer(), candidate()
    case, other = CaseStudyFactory(), CaseStudyFactory()
    slot = Slot.objects.filter(availability=weekly(host, case_study=case)).first()
    with pytest.raises(scheduling.SchedulingRefused, match=f"for {case.title}"):
        scheduling.booking_create(candidate=booker, slot_id=slot.pk, case_study=other, now=NOW)


def test_cancel_before_the_cut_off_is_not_late_and_after_it_is():
    host, booker = interviewer(), candidate()
    case = CaseStudyFactory()
    early, late = Slot.objects.filter(availability=weekly(host)).order_by("starts_at")[:2]
    one = scheduling.booking_create(candidate=booker, slot_id=early.pk, case_study=case,
                                    now=NOW, notify=False)
    two = scheduling.booking_create(candidate=booker, slot_id=late.pk, case_study=case,
                                    now=NOW, notify=False)
    cancelled = scheduling.booking_cancel(user=booker, booking_id=one.pk, now=NOW,
                                          notify=False)
    assert cancelled.status == Booking.Status.CANCELLED and not cancelled.is_late_cancellation
    late_now = late.starts_at - timedelta(hours=2)
    cancelled = scheduling.booking_cancel(user=host, booking_id=two.pk, now=late_now,
                                          notify=False)
    assert cancelled.is_late_cancellation and cancelled.cancelled_by == host
    with pytest.raises(scheduling.SchedulingRefused, match="no longer active"):
        scheduling.booking_cancel(user=booker, booking_id=two.pk, now=late_now)
    # The freed slot can be booked again.
    again = scheduling.booking_create(candidate=candidate(), slot_id=early.pk, case_study=case,
                                      now=NOW, notify=False)
    assert again.status == Booking.Status.BOOKED


def test_reschedule_moves_the_booking_until_the_cut_off_only():
    host, booker, stranger = interviewer(), candidate(), candidate()
    case = CaseStudyFactory()
    first, second, third = Slot.objects.filter(availability=weekly(host)).order_by(
        "starts_at")[:3]
    booking = scheduling.booking_create(candidate=booker, slot_id=first.pk, case_study=case,
                                        now=NOW, notify=False)
    with pytest.raises(scheduling.SchedulingRefused, match="No such booking"):
        scheduling.booking_reschedule(user=stranger, booking_id=booking.pk,
                                      new_slot_id=second.pk, now=NOW)
    moved = scheduling.booking_reschedule(user=booker, booking_id=booking.pk,
                                          new_slot_id=second.pk, now=NOW, notify=False)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.RESCHEDULED and booking.rescheduled_to == moved
    assert moved.slot == second and moved.status == Booking.Status.BOOKED
    with pytest.raises(scheduling.SchedulingRefused, match="hours before it starts"):
        scheduling.booking_reschedule(user=booker, booking_id=moved.pk, new_slot_id=third.pk,
                                      now=second.starts_at - timedelta(hours=1))
    # A move to a taken slot leaves the booking where it was.
    scheduling.booking_create(candidate=stranger, slot_id=third.pk, case_study=case, now=NOW,
                              notify=False)
    with pytest.raises(scheduling.SchedulingRefused, match="moment ago"):
        scheduling.booking_reschedule(user=booker, booking_id=moved.pk, new_slot_id=third.pk,
                                      now=NOW)
    moved.refresh_from_db()
    assert moved.status == Booking.Status.BOOKED


def test_repeated_no_shows_pause_peer_bookings():
    case = CaseStudyFactory()
    flaky, peer_host = candidate(), candidate()
    slots = list(Slot.objects.filter(availability=weekly(
        peer_host, kind=Availability.Kind.PEER, case_study=CaseStudyFactory())
    ).order_by("starts_at"))
    for slot in slots[:2]:
        booking = scheduling.booking_create(candidate=flaky, slot_id=slot.pk, case_study=case,
                                            now=NOW, notify=False)
        scheduling.booking_record_attendance(booking_id=booking.pk, no_show_user=flaky)
    after = slots[1].starts_at + timedelta(days=1)
    with pytest.raises(scheduling.SchedulingRefused, match="peer mocks can be booked again"):
        scheduling.booking_create(candidate=flaky, slot_id=slots[4].pk, case_study=case,
                                  now=after)
    # An interviewer's slot is still open to them, and the pause ends.
    iv_slot = Slot.objects.filter(availability=weekly(interviewer(), now=after)).first()
    scheduling.booking_create(candidate=flaky, slot_id=iv_slot.pk, case_study=case, now=after,
                              notify=False)
    assert policy.peer_paused_until(scheduling.no_show_times(user=flaky),
                                    now=after + timedelta(days=15)) is None


def test_reminders_go_out_once_within_the_reminder_window(settings):
    settings.SCHEDULING_REMINDER_MINUTES = 60
    host, booker = interviewer(), candidate()
    slot = Slot.objects.filter(availability=weekly(host)).order_by("starts_at").first()
    scheduling.booking_create(candidate=booker, slot_id=slot.pk, case_study=CaseStudyFactory(),
                              now=NOW, notify=False)
    assert scheduling.booking_reminders_send(now=slot.starts_at - timedelta(hours=2)) == 0
    assert scheduling.booking_reminders_send(now=slot.starts_at - timedelta(minutes=59)) == 1
    assert scheduling.booking_reminders_send(now=slot.starts_at - timedelta(minutes=30)) == 0
    assert len(mail.outbox) == 2
    assert all(m.subject.startswith("Reminder:") for m in mail.outbox)


@pytest.mark.django_db(transaction=True)
def test_two_candidates_booking_one_slot_at_the_same_instant_one_wins(require_postgres):
    host = interviewer()
    case = CaseStudyFactory()
    slot = Slot.objects.filter(availability=weekly(host)).first()
    people = [candidate() for _ in range(8)]
    barrier = threading.Barrier(len(people), timeout=30)
    won, refused, other = [], [], []

    def book(person) -> None:
        try:
            barrier.wait()
            won.append(scheduling.booking_create(candidate=person, slot_id=slot.pk,
                                                 case_study=case, now=NOW, notify=False))
        except scheduling.SchedulingRefused as error:
            refused.append(error.message)
        except BaseException as error:  # noqa: BLE001 - reported below
            other.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert other == []
    assert len(won) == 1 and len(refused) == len(people) - 1
    assert Booking.objects.filter(slot=slot, status=Booking.Status.BOOKED).count() == 1


def test_attendance_is_settled_from_who_joined_once_the_slot_is_over():
    host = interviewer()
    case = CaseStudyFactory()
    slots = list(Slot.objects.filter(availability=weekly(host)).order_by("starts_at")[:3])
    people = [candidate() for _ in slots]
    bookings = [scheduling.booking_create(candidate=p, slot_id=s.pk, case_study=case, now=NOW,
                                          notify=False) for p, s in zip(people, slots, strict=True)]
    # Both came to the first; only the interviewer to the second; nobody to the third.
    Booking.objects.filter(pk=bookings[0].pk).update(candidate_joined_at=NOW,
                                                     host_joined_at=NOW)
    Booking.objects.filter(pk=bookings[1].pk).update(host_joined_at=NOW)
    during = slots[2].ends_at
    assert scheduling.bookings_settle_attendance(now=during) == 2  # the third is not over yet
    after = slots[2].ends_at + scheduling.ATTENDANCE_GRACE
    assert scheduling.bookings_settle_attendance(now=after) == 1
    assert scheduling.bookings_settle_attendance(now=after) == 0  # settled once
    held, missed, empty = (Booking.objects.get(pk=b.pk) for b in bookings)
    assert held.status == Booking.Status.COMPLETED
    assert (missed.status, missed.no_show_user) == (Booking.Status.NO_SHOW, people[1])
    assert (empty.status, empty.no_show_user) == (Booking.Status.NO_SHOW, None)
    from interviews.scheduling import selectors

    assert selectors.attendance_record(user=people[1], now=after).no_shows == 1
    assert selectors.attendance_record(user=people[0], now=after).completed == 1
    assert selectors.attendance_record(user=host, now=after).no_shows == 0
