"""Reads for timed interview sessions: the permission-scoped getter, the session page, the
review and "My sessions"."""

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Now
from django.http import Http404

from interviews.coverage import ConceptHit, concept_coverage
from interviews.models import (
    Answer,
    CaseStudy,
    ClarifyingQuestion,
    InterviewSession,
    QuestionAsked,
    RubricStep,
    StepTime,
)
from interviews.selectors.guide import guide_answer_key_column
from mlsd_site import charts


def session_get_for_candidate(*, user: AbstractBaseUser | AnonymousUser, session_id: int
                              ) -> InterviewSession:
    """The user's own session, annotated with the database clock as ``db_now``; Http404 for
    anyone else's (never a 403 that would confirm it exists)."""
    if not user.is_authenticated:
        raise Http404("No such interview session.")
    try:
        return (
            # live_room: a live interview's pages differ (one join, no extra query).
            InterviewSession.objects.select_related("case_study", "rubric", "live_room")
            .annotate(db_now=Now())
            .get(pk=session_id, candidate=user)
        )
    except InterviewSession.DoesNotExist as exc:
        raise Http404("No such interview session.") from exc


def session_active_for(*, user: AbstractBaseUser | AnonymousUser, case_study: CaseStudy
                       ) -> InterviewSession | None:
    """The user's running session of ``case_study`` (for the case study page), if any; one
    past its deadline does not count (starting again submits it)."""
    if not user.is_authenticated:
        return None
    return (
        InterviewSession.objects.filter(candidate=user, case_study=case_study,
                                        status=InterviewSession.Status.ACTIVE,
                                        deadline__gt=Now())
        .annotate(db_now=Now())
        .first()
    )


@dataclass(frozen=True)
class RunningSession:
    """A session the candidate can go back to, with its time left by the database's clock
    (the clock the deadline is kept by), not the web server's."""

    session: InterviewSession
    remaining_ms: int

    @property
    def minutes_left(self) -> int:
        """Whole minutes left, to the nearest; 0 under a minute."""
        return 0 if self.remaining_ms < 60_000 else round(self.remaining_ms / 60_000)


def sessions_running_for(*, user: AbstractBaseUser | AnonymousUser) -> list[RunningSession]:
    """The user's running sessions (active and before the deadline), the one ending first
    first; empty for anonymous users. One query."""
    if not user.is_authenticated:
        return []
    sessions = (InterviewSession.objects.filter(candidate=user,
                                                status=InterviewSession.Status.ACTIVE,
                                                deadline__gt=Now())
                .select_related("case_study").annotate(db_now=Now()).order_by("deadline"))
    return [RunningSession(session=session, remaining_ms=session.remaining_ms(now=session.db_now))
            for session in sessions]


def session_list_for_candidate(*, user: AbstractBaseUser) -> QuerySet[InterviewSession]:
    """The candidate's sessions, newest first, with how many steps they answered."""
    return (
        InterviewSession.objects.filter(candidate=user)
        .select_related("case_study")
        .annotate(
            db_now=Now(),
            answered=Count(
                "answers",
                filter=Q(answers__version__gt=0) & ~Q(answers__text="", answers__diagram=""),
            ),
        )
        .order_by("-started_at")
    )


@dataclass
class SessionStep:
    """Everything the session and review pages show for one step."""

    rubric_step: RubricStep
    answer: Answer
    budget_seconds: int
    spent_seconds: float
    coverage: list[ConceptHit] = field(default_factory=list)
    revision_count: int = 0
    # The guide's strong-answer outline (Markdown); filled in by the review only, after
    # submission, so the running session page never has it.
    answer_key: str = ""

    @property
    def number(self) -> int:
        return self.rubric_step.number

    @property
    def over_budget(self) -> bool:
        return self.budget_seconds > 0 and self.spent_seconds > self.budget_seconds

    @property
    def covered_count(self) -> int:
        return sum(1 for hit in self.coverage if hit.covered)


def _session_steps(session: InterviewSession, *, with_coverage: bool,
                   with_answer_keys: bool = False) -> list[SessionStep]:
    rubric_step_rows = session.rubric.steps.order_by("number")
    if with_answer_keys:
        rubric_step_rows = rubric_step_rows.annotate(
            answer_key=guide_answer_key_column(session=session))
    rubric_steps = [step for step in rubric_step_rows if not step.is_communication]
    answers = {
        answer.step_number: answer
        for answer in Answer.objects.filter(session=session).annotate(
            revision_count=Count("revisions")
        )
    }
    budgets = dict(session.case_study.budgets.values_list("step_number", "seconds"))
    seconds = dict(StepTime.objects.filter(session=session)
                   .values_list("step_number", "seconds"))
    concepts: dict[int, list[tuple[str, list[str]]]] = {}
    if with_coverage:
        for concept in session.case_study.concepts.all():
            concepts.setdefault(concept.step_number, []).append(
                (concept.name, concept.synonyms)
            )
    steps = []
    for rubric_step in rubric_steps:
        answer = answers.get(rubric_step.number) or Answer(session=session,
                                                           step_number=rubric_step.number)
        step = SessionStep(
            rubric_step=rubric_step,
            answer=answer,
            budget_seconds=budgets.get(rubric_step.number, 0),
            spent_seconds=seconds.get(rubric_step.number, 0.0),
            revision_count=getattr(answer, "revision_count", 0),
            answer_key=getattr(rubric_step, "answer_key", ""),
        )
        if with_coverage:
            step.coverage = concept_coverage(
                f"{answer.text}\n{answer.diagram}", concepts.get(rubric_step.number, [])
            )
        steps.append(step)
    return steps


def session_steps(*, session: InterviewSession) -> list[SessionStep]:
    """The six steps with answer, budget and time spent (session page, heartbeat)."""
    return _session_steps(session, with_coverage=False)


@dataclass
class QuestionPanel:
    """The clarifying-questions panel: each case-study question with its record if asked,
    and the candidate's own questions."""

    items: list[tuple[ClarifyingQuestion, QuestionAsked | None]]
    own: list[QuestionAsked]

    @property
    def asked_count(self) -> int:
        return sum(1 for _, asked in self.items if asked) + len(self.own)


def session_question_panel(*, session: InterviewSession) -> QuestionPanel:
    asked = list(QuestionAsked.objects.filter(session=session))
    by_question = {item.question_id: item for item in asked if item.question_id}
    return QuestionPanel(
        items=[(question, by_question.get(question.pk))
               for question in session.case_study.questions.all()],
        own=[item for item in asked if item.kind == QuestionAsked.Kind.FREE_TEXT],
    )


def clarifying_question_for_session(*, session: InterviewSession, question_id: int
                                    ) -> ClarifyingQuestion:
    """One of the session's case-study questions; Http404 for any other."""
    try:
        return ClarifyingQuestion.objects.get(pk=question_id, case_study_id=session.case_study_id)
    except ClarifyingQuestion.DoesNotExist as exc:
        raise Http404("No such question.") from exc


@dataclass
class SessionWorkspace:
    session: InterviewSession
    steps: list[SessionStep]
    panel: QuestionPanel
    remaining_ms: int


def session_workspace(*, session: InterviewSession) -> SessionWorkspace:
    """What the session page needs, in a constant number of queries. ``session`` comes from
    ``session_get_for_candidate`` (it carries ``db_now``)."""
    return SessionWorkspace(
        session=session,
        steps=session_steps(session=session),
        panel=session_question_panel(session=session),
        remaining_ms=session.remaining_ms(now=session.db_now),
    )


@dataclass
class SessionReview:
    session: InterviewSession
    steps: list[SessionStep]
    # SVGs of the time per step against its budget, for wide pages and for phones (the
    # template marks them safe and shows one by the width of the page)
    time_chart: str
    time_chart_narrow: str
    spent_seconds: int  # on all steps, each rounded to a second as the chart shows it
    budget_seconds: int
    questions_asked: list[QuestionAsked]
    answered_count: int


def session_review(*, session: InterviewSession) -> SessionReview:
    """The review page after submission: answers, time per step against budget as an SVG
    chart, the concept-coverage hint, the strong-answer outlines, and the questions asked."""
    steps = _session_steps(session, with_coverage=True, with_answer_keys=True)
    rows = [(f"{step.number}. {step.rubric_step.title}", step.spent_seconds, step.budget_seconds)
            for step in steps]
    title = "Time spent per step against its budget"
    return SessionReview(
        session=session,
        steps=steps,
        time_chart=charts.budget_bars(rows=rows, title=title, width=900),
        time_chart_narrow=charts.budget_bars(rows=rows, title=title, width=360),
        spent_seconds=sum(round(step.spent_seconds) for step in steps),
        budget_seconds=sum(step.budget_seconds for step in steps),
        questions_asked=list(QuestionAsked.objects.filter(session=session)),
        answered_count=sum(1 for step in steps if not step.answer.is_blank),
    )
