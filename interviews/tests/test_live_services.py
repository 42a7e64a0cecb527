"""Live interviews, the writes: rooms, invites, the clock, the events of a running room,
follow-up autosave, and the room ending with its session however that is submitted."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from interviews.live import policy, services
from interviews.live.models import FollowUp, FollowUpRevision, LiveEvent, LiveInvite, LiveRoom
from interviews.live.push import wake_message
from interviews.live.selectors import event_payload, events_after
from interviews.live.services import FollowUpConflict, LiveRefused
from interviews.models import GuideStep, InterviewSession, QuestionAsked
from interviews.services.sessions import SessionClosed, session_submit, session_submit_overdue
from interviews.tests.factories import (
    CaseStudyFactory,
    admin_user,
    candidate,
    interviewer,
    rubric_with_steps,
    start_session,
)

pytestmark = pytest.mark.django_db

Kind = LiveEvent.Kind


@pytest.fixture
def case():
    rubric_with_steps()
    return CaseStudyFactory()


@pytest.fixture
def room(case):
    room, _ = services.room_open(candidate=candidate(username="cand"), case_study=case)
    return room


@pytest.fixture
def running(room):
    grader = interviewer(username="iv")
    services.room_claim(room_id=room.pk, interviewer=grader)
    return services.room_start(room=LiveRoom.objects.get(pk=room.pk), interviewer=grader)


def kinds(room, *, interviewer_view=True):
    return [event.kind for event in events_after(room, after=0,
                                                 interviewer_view=interviewer_view)]


# --- opening a room -------------------------------------------------------------------------


def test_opening_twice_returns_the_same_room(case):
    person = candidate()
    first, created = services.room_open(candidate=person, case_study=case)
    again, created_again = services.room_open(candidate=person, case_study=case)
    assert created and not created_again and first.pk == again.pk
    assert first.state == LiveRoom.State.WAITING and first.session is None


def test_interviewers_and_admins_do_not_open_rooms(case):
    for person in (interviewer(), admin_user()):
        with pytest.raises(PermissionDenied):
            services.room_open(candidate=person, case_study=case)


def test_a_running_solo_session_of_the_case_study_blocks_a_live_room(case):
    session = start_session(case_study=case)
    with pytest.raises(LiveRefused, match="running"):
        services.room_open(candidate=session.candidate, case_study=case)


# --- invites --------------------------------------------------------------------------------


def test_an_invite_stores_only_the_hash_and_lets_one_interviewer_in(room):
    new = services.invite_create(room=room, candidate=room.candidate)
    stored = LiveInvite.objects.get()
    assert new.token not in stored.token_hash and len(stored.token_hash) == 64
    assert stored.token_hash == policy.invite_token_hash(new.token)
    assert timedelta(hours=23) < stored.expires_at - stored.created_at <= timedelta(hours=24)
    grader = interviewer()
    joined = services.invite_redeem(token=new.token, user=grader)
    assert joined.pk == room.pk and LiveRoom.objects.get().interviewer_id == grader.pk
    # The same interviewer may open their link again; anyone else may not.
    assert services.invite_redeem(token=new.token, user=grader).pk == room.pk
    with pytest.raises(LiveRefused, match="already been used"):
        services.invite_redeem(token=new.token, user=interviewer())


def test_only_an_interviewer_redeems_and_not_the_candidate(room):
    new = services.invite_create(room=room, candidate=room.candidate)
    for person in (room.candidate, candidate()):
        with pytest.raises(PermissionDenied):
            services.invite_redeem(token=new.token, user=person)
    assert LiveInvite.objects.get().redeemed_at is None


def test_unknown_and_expired_invites_are_refused(room):
    with pytest.raises(LiveInvite.DoesNotExist):
        services.invite_redeem(token="not-a-token", user=interviewer())
    new = services.invite_create(room=room, candidate=room.candidate)
    LiveInvite.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(LiveRefused, match="expired"):
        services.invite_redeem(token=new.token, user=interviewer())


def test_no_invite_once_the_room_has_an_interviewer(room):
    services.room_claim(room_id=room.pk, interviewer=interviewer())
    with pytest.raises(LiveRefused, match="already has an interviewer"):
        services.invite_create(room=room, candidate=room.candidate)


def test_an_invite_does_not_override_a_claim(room):
    new = services.invite_create(room=room, candidate=room.candidate)
    first = interviewer()
    services.room_claim(room_id=room.pk, interviewer=first)
    with pytest.raises(LiveRefused, match="Another interviewer"):
        services.invite_redeem(token=new.token, user=interviewer())
    assert LiveRoom.objects.get().interviewer_id == first.pk
    assert LiveInvite.objects.get().redeemed_at is None


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_redeems_of_one_invite_let_exactly_one_in(require_postgres, case):
    room, _ = services.room_open(candidate=candidate(), case_study=case)
    new = services.invite_create(room=room, candidate=room.candidate)
    people = [interviewer(username="first"), interviewer(username="second")]
    barrier = threading.Barrier(2, timeout=30)
    outcomes: dict[str, str] = {}

    def redeem(person) -> None:
        try:
            barrier.wait()
            services.invite_redeem(token=new.token, user=person)
            outcomes[person.username] = "in"
        except LiveRefused:
            outcomes[person.username] = "refused"
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            outcomes[person.username] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem, args=(person,)) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["in", "refused"], outcomes
    winner = next(name for name, outcome in outcomes.items() if outcome == "in")
    room.refresh_from_db()
    invite = LiveInvite.objects.get()
    assert room.interviewer.username == winner == invite.redeemed_by.username


# --- claim and assign -----------------------------------------------------------------------


def test_claim_is_first_come_and_for_interviewers_only(room):
    with pytest.raises(PermissionDenied):
        services.room_claim(room_id=room.pk, interviewer=candidate())
    first = interviewer()
    services.room_claim(room_id=room.pk, interviewer=first)
    services.room_claim(room_id=room.pk, interviewer=first)  # again: nothing changes
    with pytest.raises(LiveRefused):
        services.room_claim(room_id=room.pk, interviewer=interviewer())


def test_admins_assign_and_reassign_while_waiting(room):
    boss, one, two = admin_user(), interviewer(), interviewer()
    with pytest.raises(PermissionDenied):
        services.room_assign(room_id=room.pk, admin=one, interviewer=two)
    with pytest.raises(ValidationError):
        services.room_assign(room_id=room.pk, admin=boss, interviewer=candidate())
    services.room_assign(room_id=room.pk, admin=boss, interviewer=one)
    services.room_assign(room_id=room.pk, admin=boss, interviewer=two)
    assert LiveRoom.objects.get().interviewer_id == two.pk
    services.room_start(room=room, interviewer=two)
    with pytest.raises(LiveRefused):
        services.room_assign(room_id=room.pk, admin=boss, interviewer=one)


# --- presence -------------------------------------------------------------------------------


def test_presence_logs_changes_only(room):
    grader = interviewer()
    services.room_claim(room_id=room.pk, interviewer=grader)
    assert kinds(room) == [Kind.JOINED]  # the candidate opened the room
    assert services.room_presence(room=room, user=grader, present=False) is None  # never in
    assert services.room_presence(room=room, user=room.candidate, present=True) is None  # reload
    services.room_presence(room=room, user=grader, present=True)
    services.room_presence(room=room, user=room.candidate, present=False)
    assert services.room_presence(room=room, user=room.candidate, present=False) is None
    assert kinds(room) == [Kind.JOINED, Kind.JOINED, Kind.LEFT]
    with pytest.raises(PermissionDenied):
        services.room_presence(room=room, user=interviewer(), present=True)


# --- the clock ------------------------------------------------------------------------------


def test_only_the_room_interviewer_starts_and_it_makes_the_session(room):
    grader = interviewer()
    with pytest.raises(LiveRefused):
        services.room_start(room=room, interviewer=grader)  # not the room's yet
    services.room_claim(room_id=room.pk, interviewer=grader)
    with pytest.raises(LiveRefused):
        services.room_start(room=room, interviewer=room.candidate)
    with pytest.raises(LiveRefused):
        services.room_start(room=room, interviewer=interviewer())
    started = services.room_start(room=room, interviewer=grader)
    again = services.room_start(room=room, interviewer=grader)
    assert started.state == again.state == LiveRoom.State.RUNNING
    session = InterviewSession.objects.get()
    assert started.session_id == again.session_id == session.pk
    assert session.candidate_id == room.candidate_id and session.is_active
    assert session.answers.count() == 6
    assert kinds(room) == [Kind.JOINED, Kind.STARTED]  # opening the room is being in it


def test_the_clock_waits_until_the_candidate_is_in_the_room(room):
    grader = interviewer()
    services.room_claim(room_id=room.pk, interviewer=grader)
    services.room_presence(room=room, user=room.candidate, present=False)
    with pytest.raises(LiveRefused, match="not in the room"):
        services.room_start(room=room, interviewer=grader)
    assert LiveRoom.objects.get().state == LiveRoom.State.WAITING
    assert not InterviewSession.objects.exists()
    services.room_presence(room=room, user=room.candidate, present=True)
    assert services.room_start(room=room, interviewer=grader).state == LiveRoom.State.RUNNING


def test_start_refuses_when_a_solo_session_started_meanwhile(room):
    grader = interviewer()
    services.room_claim(room_id=room.pk, interviewer=grader)
    start_session(candidate_user=room.candidate, case_study=room.case_study)
    with pytest.raises(ValidationError, match="already has a session"):
        services.room_start(room=room, interviewer=grader)
    assert LiveRoom.objects.get().state == LiveRoom.State.WAITING


# --- a running room -------------------------------------------------------------------------


def test_questions_and_answers(running):
    event = services.question_post(room=running, candidate=running.candidate,
                                   text="  How many   users? ", step_number=3)
    assert (event.kind, event.body, event.step_number) == (Kind.QUESTION, "How many users?", 3)
    asked = QuestionAsked.objects.get()
    assert asked.text == "How many users?" and asked.kind == QuestionAsked.Kind.FREE_TEXT
    with pytest.raises(LiveRefused):
        services.question_post(room=running, candidate=running.interviewer, text="Hm?")
    with pytest.raises(LiveRefused):
        services.answer_post(room=running, interviewer=running.candidate,
                             question_seq=event.seq, text="Ten")
    with pytest.raises(ValidationError):
        services.answer_post(room=running, interviewer=running.interviewer,
                             question_seq=event.seq + 40, text="Ten")
    answer = services.answer_post(room=running, interviewer=running.interviewer,
                                  question_seq=event.seq, text="Ten million a day.")
    assert answer.data == {"question_seq": event.seq} and answer.step_number == 3
    assert QuestionAsked.objects.get().answer == "Ten million a day."


def test_nothing_is_posted_before_the_start(room):
    grader = interviewer()
    services.room_claim(room_id=room.pk, interviewer=grader)
    with pytest.raises(LiveRefused, match="not started"):
        services.question_post(room=room, candidate=room.candidate, text="Scale?")
    with pytest.raises(LiveRefused, match="not started"):
        services.follow_up_post(room=room, interviewer=grader, step_number=1, text="Why?")
    # ...but the interviewer may note things down in the waiting room.
    note = services.note_post(room=room, interviewer=grader, text="Seems nervous.")
    assert note.elapsed_ms is None and note.audience == LiveEvent.Audience.INTERVIEWER


def test_notes_are_for_the_interviewer_only(running):
    services.note_post(room=running, interviewer=running.interviewer, text="Strong on metrics",
                       step_number=2)
    with pytest.raises(LiveRefused):
        services.note_post(room=running, interviewer=running.candidate, text="Hi")
    assert Kind.NOTE in kinds(running)
    assert Kind.NOTE not in kinds(running, interviewer_view=False)
    note = LiveEvent.objects.get(kind=Kind.NOTE)
    assert note.elapsed_ms is not None and note.step_number == 2


def test_follow_up_and_its_autosave(running):
    follow_up = services.follow_up_post(room=running, interviewer=running.interviewer,
                                        step_number=4, text="How would you handle cold start?")
    event = LiveEvent.objects.get(kind=Kind.FOLLOW_UP)
    assert event.data == {"follow_up": follow_up.pk} and event.step_number == 4
    saved = services.follow_up_answer_save(candidate=running.candidate, room=running,
                                           follow_up_id=follow_up.pk, text="Popularity prior.",
                                           base_version=0)
    assert saved.follow_up.version == 1 and saved.remaining_ms > 0
    # A retried save that had landed: accepted, no new version.
    services.follow_up_answer_save(candidate=running.candidate, room=running,
                                   follow_up_id=follow_up.pk, text="Popularity prior.",
                                   base_version=0)
    with pytest.raises(FollowUpConflict):
        services.follow_up_answer_save(candidate=running.candidate, room=running,
                                       follow_up_id=follow_up.pk, text="Other tab",
                                       base_version=0)
    services.follow_up_answer_save(candidate=running.candidate, room=running,
                                   follow_up_id=follow_up.pk,
                                   text="Popularity prior, then content features.",
                                   base_version=1)
    follow_up.refresh_from_db()
    assert follow_up.version == 2 and follow_up.answer.endswith("content features.")
    assert list(FollowUpRevision.objects.values_list("version", flat=True)) == [1, 2]
    answered = LiveEvent.objects.filter(kind=Kind.FOLLOW_UP_ANSWERED).order_by("seq")
    assert [(e.data["version"], e.body) for e in answered] == [
        (1, "Popularity prior."), (2, "Popularity prior, then content features.")]
    with pytest.raises(FollowUp.DoesNotExist):
        services.follow_up_answer_save(candidate=candidate(), room=running,
                                       follow_up_id=follow_up.pk, text="x", base_version=2)


def test_requirement_changes_from_the_guide_or_typed(running):
    GuideStep.objects.create(
        case_study=running.case_study, step_number=3, answer_key="Scale.",
        requirement_changes=[{"change": "The latency budget is now 50 ms.",
                              "good_adjustment": "Cache."}])
    from_guide = services.requirement_change_post(room=running, interviewer=running.interviewer,
                                                  guide_step=3, guide_index=0)
    assert from_guide.body == "The latency budget is now 50 ms."
    assert from_guide.data == {"guide_step": 3, "guide_index": 0}
    with pytest.raises(ValidationError):
        services.requirement_change_post(room=running, interviewer=running.interviewer,
                                         guide_step=3, guide_index=5)
    typed = services.requirement_change_post(room=running, interviewer=running.interviewer,
                                             text="Traffic doubles at lunch.")
    assert typed.body == "Traffic doubles at lunch." and typed.step_number is None


def test_a_time_check_says_the_minutes_left(running):
    event = services.time_check_post(room=running, interviewer=running.interviewer)
    duration_minutes = running.case_study.duration_seconds // 60
    assert event.data["minutes_left"] == duration_minutes
    assert event.body == f"{duration_minutes} minutes left."


# --- the end ---------------------------------------------------------------------------------


def test_the_interviewer_ends_and_the_session_is_submitted(running):
    with pytest.raises(LiveRefused):
        services.room_end(room=running, user=running.candidate)
    ended = services.room_end(room=running, user=running.interviewer)
    services.room_end(room=running, user=running.interviewer)  # again: nothing changes
    assert ended.state == LiveRoom.State.ENDED and ended.ended_at is not None
    session = InterviewSession.objects.get()
    assert session.is_submitted and session.submit_reason == "early"
    ends = LiveEvent.objects.filter(kind=Kind.ENDED)
    assert ends.count() == 1 and ends.get().data["reason"] == "interviewer"
    # The interviewer who ran it holds a draft of its scorecard.
    assert list(session.grades.values_list("grader_id", "status")) == [
        (running.interviewer_id, "draft")]
    with pytest.raises(LiveRefused, match="ended"):
        services.time_check_post(room=running, interviewer=running.interviewer)


def test_the_candidate_may_stop_waiting(room):
    services.room_end(room=room, user=room.candidate)
    assert LiveRoom.objects.get().state == LiveRoom.State.ENDED
    # ...and open a fresh room afterwards.
    again, created = services.room_open(candidate=room.candidate, case_study=room.case_study)
    assert created and again.pk != room.pk


def test_a_session_submitted_by_the_candidate_ends_its_room(running):
    session_submit(session=running.session)
    room = LiveRoom.objects.get()
    assert room.state == LiveRoom.State.ENDED
    assert LiveEvent.objects.get(kind=Kind.ENDED).data["reason"] == "candidate"


def test_the_deadline_sweep_ends_the_room(running):
    InterviewSession.objects.update(
        started_at=timezone.now() - timedelta(hours=2),
        deadline=timezone.now() - timedelta(minutes=5))
    assert session_submit_overdue() == 1
    room = LiveRoom.objects.get()
    assert room.state == LiveRoom.State.ENDED
    ended = LiveEvent.objects.get(kind=Kind.ENDED)
    assert ended.data["reason"] == "deadline" and ended.body == "Time is up."
    assert InterviewSession.objects.get().grades.get().grader_id == room.interviewer_id


def test_a_follow_up_answer_after_the_deadline_is_refused_and_the_room_ends(running):
    follow_up = services.follow_up_post(room=running, interviewer=running.interviewer,
                                        step_number=1, text="Why?")
    InterviewSession.objects.update(
        started_at=timezone.now() - timedelta(hours=2),
        deadline=timezone.now() - timedelta(minutes=5))
    with pytest.raises(SessionClosed):
        services.follow_up_answer_save(candidate=running.candidate, room=running,
                                       follow_up_id=follow_up.pk, text="Late", base_version=0)
    # The refusal did not roll the deadline's submission back.
    assert InterviewSession.objects.get().is_submitted
    assert LiveRoom.objects.get().state == LiveRoom.State.ENDED


# --- the log under concurrency --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_sequence_numbers_stay_consecutive_under_concurrent_appends(require_postgres, case):
    room, _ = services.room_open(candidate=candidate(), case_study=case)
    grader = interviewer()
    services.room_claim(room_id=room.pk, interviewer=grader)
    room = services.room_start(room=room, interviewer=grader)
    writers, per_writer = 4, 15
    barrier = threading.Barrier(writers, timeout=30)
    failures: list[BaseException] = []

    def write(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_writer):
                services.note_post(room=room, interviewer=grader, text=f"writer {n} note {i}")
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    seqs = list(LiveEvent.objects.filter(room=room).order_by("seq")
                .values_list("seq", flat=True))
    total = 2 + writers * per_writer  # "joined" (opening the room), "started", the notes
    assert seqs == list(range(1, total + 1))
    assert LiveRoom.objects.get(pk=room.pk).last_seq == total


# --- the wake-up ----------------------------------------------------------------------------


def test_the_wake_up_carries_an_event_both_sides_may_read_and_never_a_private_one(
        running, monkeypatch, django_capture_on_commit_callbacks):
    woken = []
    monkeypatch.setattr(services, "room_wake",
                        lambda room_id, seq, **kwargs: woken.append((room_id, seq, kwargs)))
    with django_capture_on_commit_callbacks(execute=True):
        question = services.question_post(room=running, candidate=running.candidate,
                                          text="Which regions?", step_number=2)
        note = services.note_post(room=running, interviewer=running.interviewer,
                                  text="Strong on metrics")
        follow_up = services.follow_up_post(room=running, interviewer=running.interviewer,
                                            step_number=2, text="Why AUC?")
    assert [(room_id, seq) for room_id, seq, _ in woken] == [
        (running.pk, question.seq), (running.pk, note.seq), (running.pk, follow_up.event.seq)]
    shared, private, asked = (kwargs for _, _, kwargs in woken)
    # The pushed event is what a read of the log gives the page.
    from_log = [event_payload(event) for event in
                events_after(running, after=question.seq - 1, interviewer_view=False)]
    assert shared == {"audience": LiveEvent.Audience.BOTH, "event": from_log[0]}
    assert shared["event"]["actor"] == running.candidate.get_username()
    assert private == {"audience": LiveEvent.Audience.INTERVIEWER, "event": None}
    # Written after the append, in the same transaction: the wake-up has it too.
    assert asked == {"audience": LiveEvent.Audience.BOTH, "event": from_log[1]}
    assert asked["event"]["data"] == {"follow_up": follow_up.pk}


def test_a_wake_message_drops_the_payload_of_an_interviewer_only_event():
    event = {"seq": 4, "audience": "interviewer", "body": "weak on scale"}
    assert wake_message(4, audience=LiveEvent.Audience.INTERVIEWER, event=event) == {
        "type": "log.grew", "seq": 4, "audience": "interviewer", "event": None}
    assert wake_message(5, audience=LiveEvent.Audience.BOTH, event={"seq": 5})["event"] == {
        "seq": 5}
