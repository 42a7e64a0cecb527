from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from interviews.models import (
    Answer,
    AnswerRevision,
    InterviewSession,
    QuestionAsked,
    Rubric,
    StepTime,
)
from interviews.services.autosave import AnswerConflict, answer_save
from interviews.services.catalogue import rubric_copy_as_new_version
from interviews.services.sessions import (
    ANSWER_TEXT_MAX_CHARS,
    FOCUS_GAP_MAX_SECONDS,
    SessionClosed,
    question_ask,
    session_focus,
    session_start,
    session_submit,
    session_submit_if_due,
    session_submit_overdue,
)
from interviews.tasks import submit_overdue_sessions_task
from interviews.tests.factories import (
    CaseStudyFactory,
    admin_user,
    candidate,
    interviewer,
    rubric_with_steps,
    start_session,
)

pytestmark = pytest.mark.django_db


def shift_back(session: InterviewSession, seconds: float) -> InterviewSession:
    """Pretend ``seconds`` have passed: move the session's times into the past."""
    delta = timedelta(seconds=seconds)
    InterviewSession.objects.filter(pk=session.pk).update(
        started_at=F("started_at") - delta,
        deadline=F("deadline") - delta,
        active_step_since=F("active_step_since") - delta,
    )
    session.refresh_from_db()
    return session


def save(session, step=1, text="text", base_version=None, **kwargs):
    if base_version is None:
        base_version = Answer.objects.get(session=session, step_number=step).version
    return answer_save(session=session, step_number=step, text=text,
                                base_version=base_version, **kwargs)


# --- start ----------------------------------------------------------------------------------


def test_start_creates_a_session_with_six_empty_answers_on_the_database_clock():
    rubric_with_steps()
    case = CaseStudyFactory(duration_seconds=1800)
    user = candidate()
    before = timezone.now()
    session, created = session_start(candidate=user, case_study=case)
    assert created
    assert session.status == InterviewSession.Status.ACTIVE
    assert before - timedelta(seconds=5) <= session.started_at <= timezone.now()
    assert session.deadline - session.started_at == timedelta(seconds=1800)
    assert session.duration_seconds == 1800
    assert session.rubric == Rubric.objects.get(is_current=True)
    assert list(session.answers.values_list("step_number", "version", "text")) == [
        (n, 0, "") for n in range(1, 7)
    ]
    assert list(session.step_times.values_list("step_number", "seconds")) == [
        (n, 0.0) for n in range(1, 7)
    ]


def test_start_twice_returns_the_running_session():
    session = start_session()
    again, created = session_start(candidate=session.candidate,
                                            case_study=session.case_study)
    assert not created
    assert again.pk == session.pk
    assert InterviewSession.objects.count() == 1


def test_database_refuses_two_active_sessions_of_one_case_study():
    session = start_session()
    with pytest.raises(IntegrityError), transaction.atomic():
        InterviewSession.objects.create(
            candidate=session.candidate, case_study=session.case_study, rubric=session.rubric,
            duration_seconds=60, started_at=session.started_at, deadline=session.deadline,
        )


def test_start_after_the_deadline_submits_the_old_session_and_starts_afresh():
    session = shift_back(start_session(duration_seconds=60), 120)
    fresh, created = session_start(candidate=session.candidate,
                                             case_study=session.case_study)
    assert created and fresh.pk != session.pk
    session.refresh_from_db()
    assert session.status == InterviewSession.Status.SUBMITTED
    assert session.submit_reason == InterviewSession.SubmitReason.DEADLINE


def test_interviewers_and_admins_do_not_start_sessions():
    rubric_with_steps()
    case = CaseStudyFactory()
    for user in (interviewer(), admin_user()):
        with pytest.raises(PermissionDenied):
            session_start(candidate=user, case_study=case)
    assert not InterviewSession.objects.exists()


def test_start_without_a_rubric_is_refused():
    with pytest.raises(ValidationError):
        session_start(candidate=candidate(), case_study=CaseStudyFactory())


def test_session_keeps_the_rubric_version_it_was_taken_under():
    session = start_session()
    newer = rubric_copy_as_new_version(rubric=session.rubric)
    session.refresh_from_db()
    assert session.rubric != newer
    assert session.rubric.version == newer.version - 1


# --- save -----------------------------------------------------------------------------------


def test_save_appends_a_revision_with_server_time_and_time_since_start():
    session = shift_back(start_session(), 30)
    result = save(session, step=2, text="Log loss and NE.", base_version=0)
    assert result.answer.version == 1
    assert result.answer.text == "Log loss and NE."
    revision = result.revision
    assert revision.version == 1 and revision.text == "Log loss and NE."
    assert 30_000 <= revision.elapsed_ms < 40_000
    assert revision.saved_at == result.answer.updated_at
    assert 0 < result.remaining_ms <= session.duration_seconds * 1000 - 30_000

    save(session, step=2, text="Log loss, NE and AUC.", base_version=1)
    assert list(AnswerRevision.objects.filter(answer__session=session, answer__step_number=2)
                .values_list("version", "text")) == [(1, "Log loss and NE."),
                                                     (2, "Log loss, NE and AUC.")]


def test_save_of_unchanged_text_adds_no_revision():
    session = start_session()
    save(session, text="same", base_version=0)
    result = save(session, text="same", base_version=1)
    assert result.revision is None and result.answer.version == 1
    assert AnswerRevision.objects.count() == 1


def test_stale_save_is_refused_with_the_current_answer():
    session = start_session()
    save(session, text="from tab A", base_version=0)
    with pytest.raises(AnswerConflict) as refused:
        save(session, text="from tab B", base_version=0)
    assert refused.value.answer.text == "from tab A"
    assert refused.value.answer.version == 1
    assert refused.value.yours_text == "from tab B"
    assert Answer.objects.get(session=session, step_number=1).text == "from tab A"
    assert AnswerRevision.objects.count() == 1


def test_stale_save_of_the_text_already_stored_succeeds():
    # A retry after a lost response: the first attempt landed, the second must not conflict.
    session = start_session()
    save(session, text="typed once", base_version=0)
    result = save(session, text="typed once", base_version=0)
    assert result.answer.version == 1 and result.revision is None


def test_save_stores_a_diagram_only_in_the_design_step():
    session = start_session()
    result = save(session, step=5, text="Design.", diagram="flowchart LR\n  a --> b",
                  base_version=0)
    assert result.answer.diagram == "flowchart LR\n  a --> b"
    assert result.revision.diagram == "flowchart LR\n  a --> b"
    with pytest.raises(ValidationError):
        save(session, step=2, text="Metrics.", diagram="flowchart LR", base_version=0)


def test_save_refuses_oversized_text_and_unknown_steps():
    session = start_session()
    with pytest.raises(ValidationError):
        save(session, text="x" * (ANSWER_TEXT_MAX_CHARS + 1), base_version=0)
    with pytest.raises(ValidationError):
        save(session, step=7, text="Communication is not a step.", base_version=0)


def test_save_normalises_line_endings_and_keeps_white_space():
    session = start_session()
    result = save(session, text="  line one\r\nline two\r\n", base_version=0)
    assert result.answer.text == "  line one\nline two\n"


# --- deadline -------------------------------------------------------------------------------


def test_save_within_the_grace_after_the_deadline_is_accepted(settings):
    settings.INTERVIEW_SAVE_GRACE_SECONDS = 5
    session = shift_back(start_session(duration_seconds=60), 62)
    result = save(session, text="the last words", base_version=0)
    assert result.answer.text == "the last words"
    assert result.remaining_ms == 0
    session.refresh_from_db()
    assert session.status == InterviewSession.Status.ACTIVE


def test_save_after_the_deadline_and_grace_is_refused_and_submits_the_session(settings):
    settings.INTERVIEW_SAVE_GRACE_SECONDS = 5
    session = start_session(duration_seconds=60)
    save(session, text="on time", base_version=0)
    session = shift_back(session, 66)
    with pytest.raises(SessionClosed) as refused:
        save(session, text="too late", base_version=1)
    assert "ended at the deadline" in str(refused.value)
    session.refresh_from_db()
    assert session.status == InterviewSession.Status.SUBMITTED
    assert session.submit_reason == InterviewSession.SubmitReason.DEADLINE
    assert session.submitted_at == session.deadline
    assert Answer.objects.get(session=session, step_number=1).text == "on time"


def test_lazy_submission_on_the_next_request(settings):
    settings.INTERVIEW_SAVE_GRACE_SECONDS = 2
    session = start_session(duration_seconds=60)
    assert session_submit_if_due(session=session).is_active
    shift_back(session, 63)
    assert session_submit_if_due(session=session).is_submitted
    session.refresh_from_db()
    assert session.submitted_at == session.deadline


def test_questions_and_focus_after_the_deadline_do_not_change_anything():
    session = shift_back(start_session(duration_seconds=60), 600)
    with pytest.raises(SessionClosed):
        question_ask(session=session, text="Too late?")
    clock = session_focus(session=session, step=2)
    assert clock.session.is_submitted and clock.remaining_ms == 0
    assert not QuestionAsked.objects.exists()


# --- early submission -----------------------------------------------------------------------


def test_early_submit_keeps_the_answers_and_is_idempotent():
    session = start_session()
    save(session, text="my answer", base_version=0)
    submitted = session_submit(session=session)
    assert submitted.status == InterviewSession.Status.SUBMITTED
    assert submitted.submit_reason == InterviewSession.SubmitReason.EARLY
    assert submitted.submitted_at < submitted.deadline
    first_time = submitted.submitted_at
    again = session_submit(session=session)
    assert again.submitted_at == first_time
    with pytest.raises(SessionClosed):
        save(session, text="after submitting", base_version=1)
    assert Answer.objects.get(session=session, step_number=1).text == "my answer"


def test_submit_after_the_deadline_counts_as_time_running_out():
    session = shift_back(start_session(duration_seconds=60), 61)
    submitted = session_submit(session=session)
    assert submitted.submit_reason == InterviewSession.SubmitReason.DEADLINE
    assert submitted.submitted_at == submitted.deadline


# --- the sweep ------------------------------------------------------------------------------


def test_sweep_submits_only_sessions_past_deadline_and_grace(settings):
    settings.INTERVIEW_SAVE_GRACE_SECONDS = 5
    overdue = shift_back(start_session(duration_seconds=60), 70)
    in_grace = shift_back(start_session(duration_seconds=60), 62)
    running = start_session()
    assert session_submit_overdue() == 1
    for session in (overdue, in_grace, running):
        session.refresh_from_db()
    assert overdue.is_submitted and overdue.submitted_at == overdue.deadline
    assert in_grace.is_active and running.is_active


def test_sweep_task_is_idempotent():
    session = shift_back(start_session(duration_seconds=60), 600)
    assert submit_overdue_sessions_task() == 1
    session.refresh_from_db()
    submitted_at = session.submitted_at
    assert submit_overdue_sessions_task() == 0
    session.refresh_from_db()
    assert session.submitted_at == submitted_at


def test_beat_runs_the_sweep(settings):
    from mlsd_site.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["interview-deadline-sweep"]
    assert entry["task"] == "interviews.submit_overdue_sessions"
    assert entry["schedule"] <= 60
    assert "interviews.submit_overdue_sessions" in app.tasks


# --- time per step and clarifying questions -------------------------------------------------


def seconds_per_step(session) -> dict[int, float]:
    return dict(StepTime.objects.filter(session=session).values_list("step_number", "seconds"))


def test_focus_credits_the_time_to_the_step_that_was_active():
    session = start_session()
    session_focus(session=session, step=3)
    shift_back(session, 20)
    clock = session_focus(session=session, step=4)
    assert 20 <= clock.step_seconds[3] < 22
    assert clock.step_seconds[4] == 0
    shift_back(session, 10)
    session_focus(session=session, step=None)  # the tab was hidden
    shift_back(session, 300)
    session_focus(session=session, step=4)
    spent = seconds_per_step(session)
    assert 10 <= spent[4] < 12  # the five hidden minutes count for nothing
    assert 20 <= spent[3] < 22


def test_a_long_silence_is_credited_only_up_to_the_cap():
    session = start_session()
    session_focus(session=session, step=1)
    shift_back(session, 3600)
    session_focus(session=session, step=2)
    assert seconds_per_step(session)[1] == FOCUS_GAP_MAX_SECONDS


def test_saves_report_the_active_step_too():
    session = start_session()
    save(session, step=2, text="a", base_version=0, active_step=2)
    shift_back(session, 15)
    save(session, step=2, text="ab", base_version=1, active_step=2)
    assert 15 <= seconds_per_step(session)[2] < 17
    session.refresh_from_db()
    assert session.active_step == 2


def test_submitting_credits_the_last_active_step():
    session = start_session()
    session_focus(session=session, step=6)
    shift_back(session, 12)
    submitted = session_submit(session=session)
    assert 12 <= seconds_per_step(session)[6] < 14
    assert submitted.active_step is None


def test_asking_a_catalogue_question_reveals_its_answer_once():
    session = shift_back(start_session(), 42)
    question = session.case_study.questions.first()
    asked = question_ask(session=session, question=question)
    assert asked.kind == QuestionAsked.Kind.CATALOGUE
    assert asked.answer == question.answer
    assert 42_000 <= asked.elapsed_ms < 45_000
    again = question_ask(session=session, question=question)
    assert again.pk == asked.pk
    assert QuestionAsked.objects.count() == 1


def test_an_own_question_is_recorded_for_the_interviewer_with_its_time():
    session = start_session()
    asked = question_ask(session=session, text="  Is   there a\nmobile app? ")
    assert asked.kind == QuestionAsked.Kind.FREE_TEXT
    assert asked.text == "Is there a mobile app?"
    assert asked.answer == ""
    with pytest.raises(ValidationError):
        question_ask(session=session, text="   ")


def test_a_question_of_another_case_study_is_refused():
    session = start_session()
    other = CaseStudyFactory().questions.first()
    with pytest.raises(ValidationError):
        question_ask(session=session, question=other)
