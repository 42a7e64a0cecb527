"""The scorecard policy, rule by rule, each as a table of cases.

The tables use unsaved sessions and grades and hand-made ``Actor``s, and no database: these
tests carry no ``django_db`` mark, so pytest-django fails any of them whose rule runs a
query. The last tests use the database on purpose: ``actor_of`` reads real roles once, and
the queue's SQL tabs agree with the rules they restate."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import AnonymousUser

from interviews.models import Grade, InterviewSession
from interviews.scorecards import policy
from interviews.scorecards.policy import Actor

CANDIDATE_ID, ME, OTHER = 1, 10, 11

INTERVIEWER = Actor(pk=ME, is_interviewer=True, is_admin=False)
ADMIN = Actor(pk=ME, is_interviewer=True, is_admin=True)
CANDIDATE = Actor(pk=CANDIDATE_ID, is_interviewer=False, is_admin=False)  # the session's
STRANGER = Actor(pk=99, is_interviewer=False, is_admin=False)  # another candidate
ANONYMOUS = Actor(pk=None, is_interviewer=False, is_admin=False)
# The session's candidate, made an interviewer since: still never grades their own interview.
PROMOTED = Actor(pk=CANDIDATE_ID, is_interviewer=True, is_admin=False)
# Holds a slot but lost the Interviewers group: the grade stays, the rights go.
DEMOTED = Actor(pk=ME, is_interviewer=False, is_admin=False)


def session(*, required: int = 1, running: bool = False, released: bool = False
            ) -> InterviewSession:
    return InterviewSession(
        pk=5, candidate_id=CANDIDATE_ID, graders_required=required,
        status=InterviewSession.Status.ACTIVE if running else InterviewSession.Status.SUBMITTED,
        feedback_released_at=datetime(2025, 1, 1, tzinfo=UTC) if released else None)


def draft(grader_id: int) -> Grade:
    return Grade(grader_id=grader_id, status=Grade.Status.DRAFT)


def done(grader_id: int) -> Grade:
    return Grade(grader_id=grader_id, status=Grade.Status.SUBMITTED)


# --- roles ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "grades", "manages"), [
    (INTERVIEWER, True, False),
    (ADMIN, True, True),
    (Actor(pk=ME, is_interviewer=False, is_admin=True), False, True),  # odd, but each fact alone
    (CANDIDATE, False, False),
    (ANONYMOUS, False, False),
], ids=["interviewer", "admin", "admin-only-permission", "candidate", "anonymous"])
def test_who_grades_and_who_manages_graders(actor, grades, manages):
    assert policy.may_grade(actor) is grades
    assert policy.may_manage(actor) is manages


# --- the session's grades ---------------------------------------------------------------------


@pytest.mark.parametrize(("required", "grades", "complete", "slots"), [
    (1, [], False, 1),
    (1, [draft(ME)], False, 0),
    (1, [done(ME)], True, 0),
    (2, [done(ME)], False, 1),
    (2, [done(ME), draft(OTHER)], False, 0),
    (2, [done(ME), done(OTHER)], True, 0),
    (1, [done(ME), draft(OTHER)], False, 0),  # more graders than needed: the draft still counts
    (1, [done(ME), done(OTHER)], True, 0),
], ids=["nobody", "a-draft", "the-one-grade", "one-of-two", "one-draft-of-two", "two-of-two",
        "a-draft-beyond-the-required", "two-submitted-of-one"])
def test_a_session_is_complete_when_every_grade_is_in(required, grades, complete, slots):
    assert policy.is_complete(session=session(required=required), grades=grades) is complete
    assert policy.open_slots(session=session(required=required), grades=grades) == slots


def test_grade_of_finds_the_users_grade_and_nobody_elses():
    mine, theirs = draft(ME), done(OTHER)
    assert policy.grade_of(user_id=ME, grades=[theirs, mine]) is mine
    assert policy.grade_of(user_id=CANDIDATE_ID, grades=[theirs, mine]) is None
    assert policy.grade_of(user_id=None, grades=[theirs, mine]) is None


# --- grader slots -----------------------------------------------------------------------------


@pytest.mark.parametrize(("grader_id", "the_session", "grades", "refusal"), [
    (ME, session(), [], None),
    (ME, session(required=2), [done(OTHER)], None),
    (ME, session(running=True), [], "The interview is still in progress."),
    (ME, session(released=True), [done(OTHER)], "The feedback is already released."),
    (CANDIDATE_ID, session(), [], "Nobody grades their own interview."),
    (ME, session(), [draft(OTHER)],
     "This session already has 1 grader, as many as it needs."),
    (ME, session(required=2), [draft(OTHER), done(3)],
     "This session already has 2 graders, as many as it needs."),
    # The first reason wins: a running session is refused as running, even to its candidate.
    (CANDIDATE_ID, session(running=True), [], "The interview is still in progress."),
], ids=["open", "second-slot", "running", "released", "own-interview", "full-one", "full-two",
        "running-before-own"])
def test_why_a_grader_cannot_take_a_slot(grader_id, the_session, grades, refusal):
    assert policy.slot_refusal(grader_id=grader_id, session=the_session,
                               grades=grades) == refusal


@pytest.mark.parametrize(("actor", "the_session", "grades", "claims"), [
    (INTERVIEWER, session(), [], True),
    (ADMIN, session(), [], True),
    (INTERVIEWER, session(required=2), [done(OTHER)], True),
    (INTERVIEWER, session(required=2), [draft(ME)], False),  # holds one already
    (INTERVIEWER, session(), [draft(OTHER)], False),  # full
    (INTERVIEWER, session(released=True), [], False),
    (INTERVIEWER, session(running=True), [], False),
    (PROMOTED, session(), [], False),  # their own interview
    (STRANGER, session(), [], False),  # not an interviewer
    (ANONYMOUS, session(), [], False),
], ids=["interviewer", "admin", "open-second-slot", "already-holds-one", "full", "released",
        "running", "own-interview", "candidate", "anonymous"])
def test_who_may_claim(actor, the_session, grades, claims):
    assert policy.can_claim(actor=actor, session=the_session, grades=grades) is claims


@pytest.mark.parametrize(("grade", "takes_back"), [(draft(ME), True), (done(ME), False)],
                         ids=["draft", "submitted"])
def test_only_a_draft_is_given_or_taken_back(grade, takes_back):
    assert policy.can_take_back(grade) is takes_back


@pytest.mark.parametrize(("actor", "the_session", "manages"), [
    (ADMIN, session(), True),
    (ADMIN, session(released=True), False),
    (ADMIN, session(running=True), False),
    (INTERVIEWER, session(), False),
    (CANDIDATE, session(), False),
], ids=["admin", "released", "running", "interviewer", "candidate"])
def test_who_may_manage_a_sessions_graders_now(actor, the_session, manages):
    assert policy.can_manage(actor=actor, session=the_session) is manages


@pytest.mark.parametrize(("the_session", "grades", "count", "refusal"), [
    (session(), [], 2, None),
    (session(required=2), [draft(ME), done(OTHER)], 2, None),
    (session(required=3), [draft(ME), done(OTHER)], 2, None),
    (session(required=2), [draft(ME), done(OTHER)], 1,
     "2 interviewers already grade this session: take a slot back first."),
    (session(released=True), [done(ME)], 2, "The feedback is already released."),
], ids=["raise", "same", "lower-to-the-graders", "below-the-graders", "released"])
def test_how_many_graders_a_session_may_need(the_session, grades, count, refusal):
    assert policy.graders_required_refusal(session=the_session, grades=grades,
                                           count=count) == refusal


# --- release ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "grades", "releases"), [
    (INTERVIEWER, [draft(ME)], True),  # a grader, even before submitting (state is apart)
    (INTERVIEWER, [done(OTHER)], False),  # an interviewer who does not grade it
    (ADMIN, [done(OTHER)], True),
    (ADMIN, [], True),
    (DEMOTED, [done(ME)], False),
    (CANDIDATE, [done(OTHER)], False),
], ids=["grader", "outsider", "admin", "admin-no-grades", "demoted-grader", "candidate"])
def test_who_may_release(actor, grades, releases):
    assert policy.may_release(actor=actor, grades=grades) is releases


@pytest.mark.parametrize(("the_session", "grades", "refusal"), [
    (session(), [done(ME)], None),
    (session(released=True), [done(ME)], None),  # releasing again is no refusal
    (session(running=True), [], "The interview is still in progress."),
    (session(), [], "0 of 1 grade submitted: release once every grader has submitted."),
    (session(), [draft(ME)], "0 of 1 grade submitted: release once every grader has submitted."),
    (session(required=2), [done(ME)],
     "1 of 2 grades submitted: release once every grader has submitted."),
    (session(required=2), [done(ME), draft(OTHER)],
     "1 of 2 grades submitted: release once every grader has submitted."),
], ids=["complete", "released", "running", "no-grade", "a-draft", "one-of-two",
        "one-draft-of-two"])
def test_why_feedback_cannot_be_released(the_session, grades, refusal):
    assert policy.release_refusal(session=the_session, grades=grades) == refusal


@pytest.mark.parametrize(("actor", "the_session", "grades", "releases"), [
    (INTERVIEWER, session(), [done(ME)], True),
    (INTERVIEWER, session(required=2), [done(ME)], False),
    (INTERVIEWER, session(required=2), [done(ME), draft(OTHER)], False),
    (INTERVIEWER, session(), [done(OTHER)], False),
    (ADMIN, session(), [done(OTHER)], True),
    (ADMIN, session(released=True), [done(OTHER)], False),
    (CANDIDATE, session(), [done(OTHER)], False),
], ids=["grader-complete", "grader-one-of-two", "other-still-drafting", "outsider", "admin",
        "already-released", "candidate"])
def test_who_gets_the_release_button(actor, the_session, grades, releases):
    assert policy.can_release(actor=actor, session=the_session, grades=grades) is releases


# --- visibility -------------------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "the_session", "grades", "visible"), [
    (INTERVIEWER, session(required=2), [draft(ME), done(OTHER)], False),
    (INTERVIEWER, session(required=2), [done(ME), draft(OTHER)], True),
    (INTERVIEWER, session(required=2), [done(ME), done(OTHER)], True),
    (INTERVIEWER, session(required=2), [done(OTHER)], False),
    (INTERVIEWER, session(required=2), [done(OTHER), draft(3)], False),
    (INTERVIEWER, session(required=2), [done(OTHER), done(3)], True),
    (ADMIN, session(required=2), [done(OTHER)], True),
    (ADMIN, session(required=2), [draft(ME), done(OTHER)], False),
], ids=["my-draft", "my-submitted", "both-submitted", "outsider-one-to-come",
        "outsider-a-draft-to-come", "outsider-complete", "admin-outsider", "admin-grading"])
def test_who_sees_the_other_graders_scores(actor, the_session, grades, visible):
    assert policy.others_visible(actor=actor, session=the_session, grades=grades) is visible


# --- with the database ------------------------------------------------------------------------


@pytest.mark.django_db
def test_actor_of_reads_the_roles_once_per_user(django_assert_num_queries):
    from interviews.scorecards.selectors.access import actor_of
    from interviews.tests.factories import admin_user, candidate, interviewer

    cases = [(candidate(), False, False), (interviewer(), True, False),
             (admin_user(), True, True)]
    for user, grades, manages in cases:
        actor = actor_of(user)
        assert (actor.pk, actor.is_interviewer, actor.is_admin) == (user.pk, grades, manages)
        with django_assert_num_queries(0):  # Django keeps the permissions on the user object
            assert actor_of(user) == actor
    assert actor_of(AnonymousUser()) == ANONYMOUS


@pytest.mark.django_db
def test_the_queue_tabs_sql_agrees_with_the_rules_it_restates():
    from interviews.scorecards.selectors.queue import (
        HAS_OPEN_SLOT,
        IS_COMPLETE,
        with_grade_counts,
    )
    from interviews.tests.factories import graded, interviewer, released, submitted_session

    threes = dict.fromkeys(range(1, 8), 3)
    shapes = [(1, []), (1, [False]), (1, [True]), (2, [True]), (2, [True, False]),
              (2, [True, True]), (3, [True, True])]  # graders required, submitted or draft
    for required, grades in shapes:
        one = submitted_session(graders_required=required)
        for submit in grades:
            graded(one, interviewer(), threes, submit=submit)
    last = submitted_session()
    graded(last, interviewer(), threes)
    released(last)  # released: still complete, with no open slot

    sessions = with_grade_counts(InterviewSession.objects.all())
    open_in_sql = set(sessions.filter(HAS_OPEN_SLOT).values_list("pk", flat=True))
    complete_in_sql = set(sessions.filter(IS_COMPLETE).values_list("pk", flat=True))
    rows = [(one, list(one.grades.all())) for one in InterviewSession.objects.all()]
    assert len(rows) == len(shapes) + 1
    assert open_in_sql == {one.pk for one, grades in rows
                           if policy.open_slots(session=one, grades=grades) > 0}
    assert complete_in_sql == {one.pk for one, grades in rows
                               if policy.is_complete(session=one, grades=grades)}
    # Both kinds of session occur, so the comparison could fail.
    assert open_in_sql and complete_in_sql and open_in_sql != complete_in_sql
