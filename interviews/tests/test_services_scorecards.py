"""Grading services: claiming and assigning, drafts, submission and its lock (in the services
and in the database), evidence quotes, and releasing feedback."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from interviews.models import EvidenceQuote, Grade, InterviewSession, StepScore
from interviews.scorecards import services as services
from interviews.scorecards import verdict as rules
from interviews.tests.factories import (
    admin_user,
    candidate,
    grade_input,
    graded,
    interviewer,
    released,
    start_session,
    submitted_session,
)
from mlsd_site import roles

pytestmark = pytest.mark.django_db

ALL_THREES = dict.fromkeys(range(1, 8), 3)


# --- claiming and assigning -------------------------------------------------------------------


def test_claim_creates_a_draft_with_every_step_unscored_and_is_idempotent():
    session = submitted_session()
    grader = interviewer()
    grade, created = services.grade_claim(session=session, grader=grader)
    again, created_again = services.grade_claim(session=session, grader=grader)
    assert created and not created_again and again.pk == grade.pk
    assert grade.status == Grade.Status.DRAFT and grade.assigned_by is None
    scores = list(grade.step_scores.order_by("step_number"))
    assert [s.step_number for s in scores] == [1, 2, 3, 4, 5, 6, 7]
    assert not any(score.is_scored for score in scores)


def test_a_session_takes_only_as_many_graders_as_it_needs():
    session = submitted_session()
    services.grade_claim(session=session, grader=interviewer())
    with pytest.raises(services.ScorecardRefused, match="already has 1 grader"):
        services.grade_claim(session=session, grader=interviewer())
    services.session_set_graders_required(session=session, count=2, by=admin_user())
    services.grade_claim(session=session, grader=interviewer())
    assert session.grades.count() == 2


def test_only_interviewers_claim_and_only_submitted_sessions():
    session = submitted_session()
    with pytest.raises(PermissionDenied):
        services.grade_claim(session=session, grader=candidate())
    running = start_session()
    with pytest.raises(services.ScorecardRefused, match="still in progress"):
        services.grade_claim(session=running, grader=interviewer())
    assert not Grade.objects.exists()


def test_nobody_grades_their_own_interview():
    user = candidate()
    session = submitted_session(candidate_user=user)
    user.groups.add(roles.roles_ensure()[roles.INTERVIEWERS])  # promoted later
    user = type(user).objects.get(pk=user.pk)  # fresh permission cache
    with pytest.raises(services.ScorecardRefused, match="own interview"):
        services.grade_claim(session=session, grader=user)


def test_only_admins_assign_and_only_to_interviewers():
    session = submitted_session()
    grader = interviewer()
    with pytest.raises(PermissionDenied):
        services.grade_assign(session=session, grader=grader, assigned_by=interviewer())
    with pytest.raises(ValidationError):
        services.grade_assign(session=session, grader=candidate(), assigned_by=admin_user())
    boss = admin_user()
    grade, created = services.grade_assign(session=session, grader=grader, assigned_by=boss)
    assert created and grade.assigned_by == boss and grade.grader == grader


def test_graders_required_is_admin_only_and_never_below_the_graders_holding_a_slot():
    session = submitted_session(graders_required=2)
    boss = admin_user()
    with pytest.raises(PermissionDenied):
        services.session_set_graders_required(session=session, count=1, by=interviewer())
    with pytest.raises(ValidationError):
        services.session_set_graders_required(session=session, count=4, by=boss)
    services.grade_claim(session=session, grader=interviewer())
    services.grade_claim(session=session, grader=interviewer())
    with pytest.raises(services.ScorecardRefused, match="take a slot back first"):
        services.session_set_graders_required(session=session, count=1, by=boss)
    assert services.session_set_graders_required(session=session, count=3,
                                                 by=boss).graders_required == 3


def test_giving_back_deletes_the_draft_but_a_submitted_grade_stays():
    session = submitted_session(graders_required=2)
    first, second = interviewer(), interviewer()
    services.grade_claim(session=session, grader=first)
    graded(session, second, ALL_THREES)
    services.grade_unclaim(session=session, grader=first)
    assert not Grade.objects.filter(grader=first).exists()
    assert not StepScore.objects.filter(grade__grader=first).exists()
    with pytest.raises(services.GradeLocked):
        services.grade_unclaim(session=session, grader=second)
    with pytest.raises(services.GradeLocked):
        services.grade_unassign(session=session, grader=second, by=admin_user())


# --- drafts and submission --------------------------------------------------------------------


def test_a_draft_save_stores_levels_comments_and_flags_and_bumps_the_revision():
    session = submitted_session()
    grade, _ = services.grade_claim(session=session, grader=interviewer())
    data = grade_input({1: 4, 2: rules.NOT_REACHED, 7: 2}, comments={1: "  Sharp framing. "},
                       red_flags=["leakage"], summary="Good start.")
    saved = services.grade_save_draft(grade=grade, base_revision=0, data=data)
    assert saved.revision == 1 and saved.red_flags == ["leakage"]
    scores = {s.step_number: s for s in saved.step_scores.all()}
    assert (scores[1].level, scores[1].comment) == (4, "Sharp framing.")
    assert scores[2].not_reached and scores[2].level is None
    assert scores[7].level == 2 and scores[3].level is None
    assert saved.updated_at is not None


def test_a_stale_revision_is_refused_and_changes_nothing():
    session = submitted_session()
    grade, _ = services.grade_claim(session=session, grader=interviewer())
    services.grade_save_draft(grade=grade, base_revision=0, data=grade_input({1: 4}))
    with pytest.raises(services.GradeConflict) as conflict:
        services.grade_save_draft(grade=grade, base_revision=0, data=grade_input({1: 1}))
    assert conflict.value.grade.revision == 1
    assert grade.step_scores.get(step_number=1).level == 4


@pytest.mark.parametrize(("data", "message"), [
    (grade_input({}, red_flags=["not-a-flag"]), "Unknown red flag"),
    (grade_input({7: rules.NOT_REACHED}), "Communication is always scored"),
    (grade_input({1: 5}), "1 to 4"),
    (grade_input({}, verdict="maybe"), "Unknown verdict"),
    (grade_input({}, comments={1: "x" * 4001}), "at most"),
])
def test_bad_input_is_refused(data, message):
    session = submitted_session()
    grade, _ = services.grade_claim(session=session, grader=interviewer())
    with pytest.raises(ValidationError, match=message):
        services.grade_save_draft(grade=grade, base_revision=0, data=data)


def test_submit_needs_every_step_and_communication():
    session = submitted_session()
    grade, _ = services.grade_claim(session=session, grader=interviewer())
    with pytest.raises(ValidationError, match="missing: step 6, communication"):
        services.grade_submit(grade=grade, base_revision=0,
                              data=grade_input({1: 3, 2: 3, 3: 3, 4: 3, 5: 3}))
    grade.refresh_from_db()
    # The whole submission rolled back: still a draft, and the levels were not kept either.
    assert grade.status == Grade.Status.DRAFT and grade.revision == 0
    assert grade.step_scores.get(step_number=1).level is None


def test_submit_stores_the_weighted_mean_and_the_suggestion_from_the_rubric():
    session = submitted_session()  # factory rubric: six equal weights of 0.1
    grade = graded(session, interviewer(), {1: 4, 2: 4, 3: 4, 4: 3, 5: 3, 6: 3, 7: 4})
    assert grade.status == Grade.Status.SUBMITTED and grade.submitted_at is not None
    assert grade.weighted_mean == Decimal("3.500")
    assert grade.suggested_verdict == grade.verdict == rules.STRONG_HIRE
    assert not grade.is_override


def test_an_override_needs_a_reason_which_is_stored():
    session = submitted_session()
    grade, _ = services.grade_claim(session=session, grader=interviewer())
    levels = {**ALL_THREES, 6: 1}  # a step at 1: the rules say No hire
    with pytest.raises(ValidationError, match=r"differs from the rubric's suggestion \(No hire\)"):
        services.grade_submit(grade=grade, base_revision=0,
                              data=grade_input(levels, verdict=rules.HIRE))
    submitted = services.grade_submit(
        grade=grade, base_revision=0,
        data=grade_input(levels, verdict=rules.HIRE, reason="Step 6 was cut short by us."))
    assert (submitted.verdict, submitted.suggested_verdict) == (rules.HIRE, rules.NO_HIRE)
    assert submitted.is_override and submitted.override_reason == "Step 6 was cut short by us."


def test_a_red_flag_caps_the_stored_suggestion():
    session = submitted_session()
    grade = graded(session, interviewer(), dict.fromkeys(range(1, 8), 4),
                   red_flags=["serving_features"])
    assert grade.suggested_verdict == grade.verdict == rules.NO_HIRE
    assert grade.red_flag_labels == ["Features unavailable at serving time"]


def test_a_submitted_grade_is_locked_in_every_service():
    session = submitted_session()
    grade = graded(session, interviewer(), ALL_THREES)
    with pytest.raises(services.GradeLocked):
        services.grade_save_draft(grade=grade, base_revision=grade.revision,
                                  data=grade_input({1: 1}))
    with pytest.raises(services.GradeLocked):
        services.grade_submit(grade=grade, base_revision=grade.revision,
                              data=grade_input(ALL_THREES))
    with pytest.raises(services.GradeLocked):
        services.evidence_add(grade=grade, step_number=1, text="calibrated probability")
    assert grade.step_scores.get(step_number=1).level == 3


def test_the_database_refuses_any_change_to_a_submitted_grade():
    session = submitted_session()
    grade = graded(session, interviewer(), ALL_THREES)
    attempts = [
        lambda: Grade.objects.filter(pk=grade.pk).update(verdict=rules.STRONG_HIRE),
        lambda: Grade.objects.filter(pk=grade.pk).update(summary="rewritten"),
        lambda: Grade.objects.filter(pk=grade.pk).update(status=Grade.Status.DRAFT,
                                                         submitted_at=None,
                                                         suggested_verdict="",
                                                         weighted_mean=None),
        lambda: StepScore.objects.filter(grade=grade, step_number=1).update(level=4),
        lambda: StepScore.objects.filter(grade=grade, step_number=1).update(comment="edited"),
        lambda: EvidenceQuote.objects.create(grade=grade, step_number=1, text="p(click)"),
    ]
    for attempt in attempts:
        with pytest.raises(IntegrityError), transaction.atomic():
            attempt()
    grade.refresh_from_db()
    assert grade.verdict == rules.HIRE and grade.summary == ""
    assert grade.step_scores.get(step_number=1).level == 3
    # A draft still changes freely, and deleting (a user, a session) still cascades.
    draft_session = submitted_session()
    draft = graded(draft_session, interviewer(), {1: 2}, submit=False)
    assert StepScore.objects.filter(grade=draft, step_number=1).update(level=4) == 1
    InterviewSession.objects.filter(pk=session.pk).delete()
    assert not Grade.objects.filter(pk=grade.pk).exists()


# --- evidence -------------------------------------------------------------------------------


def test_evidence_is_verbatim_from_the_answer_as_the_grader_reads_it():
    session = submitted_session(diagram="flowchart LR\n  api --> ranker[Ranking service]")
    grade, _ = services.grade_claim(session=session, grader=interviewer())
    # The answer says "Predict **p(click)** for every": the rendered text has no asterisks,
    # and a selection may carry different white space.
    quote = services.evidence_add(grade=grade, step_number=1,
                                  text="Predict p(click)\n  for every candidate ad")
    assert quote.text == "Predict p(click) for every candidate ad"
    # From a list, across items; and from the diagram source.
    assert services.evidence_add(grade=grade, step_number=3,
                                 text="20 billion impressions a day 80 ms p99")
    assert services.evidence_add(grade=grade, step_number=5, text="ranker[Ranking service]")
    # The same quote twice is kept once.
    again = services.evidence_add(grade=grade, step_number=1,
                                  text="Predict p(click) for every candidate ad")
    assert again.pk == quote.pk and grade.evidence.count() == 3


@pytest.mark.parametrize(("step", "text", "message"), [
    (1, "Predict p(conversion)", "text from the candidate's answer"),
    (2, "Predict p(click)", "text from the candidate's answer"),  # another step's answer
    (1, "ab", "a few words"),
    (7, "Predict", "steps 1 to 6"),
    (1, "x" * 601, "at most 600"),
])
def test_evidence_that_is_not_in_the_answer_is_refused(step, text, message):
    session = submitted_session()
    grade, _ = services.grade_claim(session=session, grader=interviewer())
    with pytest.raises(ValidationError, match=message):
        services.evidence_add(grade=grade, step_number=step, text=text)
    assert not EvidenceQuote.objects.exists()


def test_evidence_can_be_removed_from_a_draft():
    session = submitted_session()
    grade, _ = services.grade_claim(session=session, grader=interviewer())
    quote = services.evidence_add(grade=grade, step_number=2, text="normalized entropy")
    assert services.evidence_remove(grade=grade, quote_id=quote.pk) == 2
    assert services.evidence_remove(grade=grade, quote_id=quote.pk) == 0
    assert not grade.evidence.exists()


# --- release ----------------------------------------------------------------------------------


def test_release_waits_for_every_required_grade():
    session = submitted_session(graders_required=2)
    first, second = interviewer(), interviewer()
    graded(session, first, ALL_THREES)
    with pytest.raises(services.ScorecardRefused, match="1 of 2 grades submitted"):
        services.session_release_feedback(session=session, by=first)
    graded(session, second, ALL_THREES, submit=False)
    with pytest.raises(services.ScorecardRefused, match="1 of 2 grades submitted"):
        services.session_release_feedback(session=session, by=admin_user())
    session.refresh_from_db()
    assert not session.is_released


def test_only_admins_and_the_sessions_graders_release():
    session = submitted_session()
    graded(session, interviewer(), ALL_THREES)
    for outsider in (interviewer(), candidate(), session.candidate):
        with pytest.raises(PermissionDenied):
            services.session_release_feedback(session=session, by=outsider)
    assert services.session_release_feedback(session=session, by=admin_user()).is_released


def test_release_stores_the_consensus_of_two_graders_and_is_idempotent():
    session = submitted_session(graders_required=2)
    lenient, strict = interviewer(), interviewer()
    # Equal weights: means 3.000 (Hire) and 2.500 (No hire).
    graded(session, lenient, ALL_THREES)
    graded(session, strict, {1: 2, 2: 2, 3: 3, 4: 3, 5: 3, 6: 2})
    result = services.session_release_feedback(session=session, by=lenient)
    assert result.feedback_verdict == rules.NO_HIRE  # the more cautious of the two
    assert result.feedback_weighted_mean == Decimal("2.750")
    assert result.feedback_released_by == lenient and result.feedback_released_at
    again = services.session_release_feedback(session=session, by=strict)
    assert again.feedback_released_at == result.feedback_released_at
    assert again.feedback_released_by == lenient
    with pytest.raises(services.ScorecardRefused, match="already released"):
        services.grade_claim(session=session, grader=interviewer())
    # Released feedback is frozen in the database too.
    with pytest.raises(IntegrityError), transaction.atomic():
        InterviewSession.objects.filter(pk=session.pk).update(feedback_verdict=rules.HIRE)


def test_released_helper_and_verdict_rules_agree_for_a_single_grader():
    session = submitted_session()
    graded(session, interviewer(), {1: 4, 2: 4, 3: 4, 4: 4, 5: 4, 6: 3})
    result = released(session)
    assert result.feedback_verdict == rules.STRONG_HIRE
    assert result.feedback_weighted_mean == Decimal("3.833")
