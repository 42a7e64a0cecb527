"""Reads for interviewer grading: the queue, the grading page, replay, the candidate's
feedback and skill profile, calibration between interviewers, and the released verdicts the
combined standings use.

Visibility rules live here, not only in templates:

* ``session_get_for_grading``: interviewers and admins, submitted sessions only; Http404
  for anyone else (a candidate never learns whether a session id exists).
* ``grades_visible_to``: a grader sees the other graders' scores only once they have
  submitted their own; an interviewer who does not grade the session sees them once every
  required grade is in (nobody is left to anchor); admins who do not grade it see them.
  When not visible, the selectors return no score at all (not just a hidden one).
* ``feedback_for_candidate``: None until the feedback is released.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import fmean
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

from grading import charts
from grading import metrics as grading_metrics
from grading.models import Leaderboard, Score, Submission
from interviews import agreement as agree
from interviews import verdict as rules
from interviews.grading_services import COMMUNICATION_STEP, may_release
from interviews.models import (
    Answer,
    AnswerRevision,
    CaseStudy,
    EvidenceQuote,
    Grade,
    InterviewSession,
    QuestionAsked,
    RubricStep,
    StepScore,
)
from interviews.selectors import SessionReview, SessionStep, session_review
from mlsd_site import roles

UserLike = AbstractBaseUser | AnonymousUser

QUEUE_PAGE_SIZE = 30
QUEUE_STATES = {
    "unclaimed": "Needs a grader",
    "mine": "Mine",
    "graded": "Graded",
    "all": "All submitted",
}
LEVEL_WORDS = {1: "weak", 2: "mixed", 3: "solid", 4: "strong"}


def grader_letter(index: int) -> str:
    """How candidates see their graders: "Interviewer A", "Interviewer B", ..."""
    return f"Interviewer {chr(ord('A') + index)}"


# --- access -----------------------------------------------------------------------------------


def session_get_for_grading(*, user: UserLike, session_id: int) -> InterviewSession:
    """A submitted session, for an interviewer or admin; Http404 for anyone else and for
    sessions still in progress."""
    if not roles.is_interviewer(user):
        raise Http404("No such interview session.")
    try:
        return (InterviewSession.objects.select_related("case_study", "rubric", "candidate")
                .get(pk=session_id, status=InterviewSession.Status.SUBMITTED))
    except InterviewSession.DoesNotExist as exc:
        raise Http404("No such interview session.") from exc


def grade_get_for_grader(*, user: UserLike, session_id: int) -> Grade:
    """``user``'s own grade on the session; Http404 if they do not grade it."""
    if not roles.is_interviewer(user):
        raise Http404("No such grade.")
    try:
        return (Grade.objects.select_related("session__rubric", "session__case_study")
                .get(session_id=session_id, grader=user))
    except Grade.DoesNotExist as exc:
        raise Http404("No such grade.") from exc


def grades_visible_to(*, user: UserLike, session: InterviewSession, grades: list[Grade]
                      ) -> bool:
    """May ``user`` see the submitted scores of the session's graders (other than theirs)?"""
    mine = next((grade for grade in grades if grade.grader_id == user.pk), None)
    if mine is not None:
        return mine.is_submitted
    if roles.is_admin(user):
        return True
    submitted = sum(1 for grade in grades if grade.is_submitted)
    return submitted >= session.graders_required and submitted == len(grades)


def interviewers_for_assignment() -> list[AbstractBaseUser]:
    """Active users who may grade (the Interviewers and Admins groups, superusers)."""
    user_model = get_user_model()
    perm = Q(codename="grade_sessions", content_type__app_label="interviews")
    return list(
        user_model.objects.filter(is_active=True)
        .filter(Q(is_superuser=True)
                | Q(groups__permissions__in=_permission_ids(perm))
                | Q(user_permissions__in=_permission_ids(perm)))
        .distinct().order_by("username")
    )


def _permission_ids(condition: Q) -> Subquery:
    from django.contrib.auth.models import Permission

    return Subquery(Permission.objects.filter(condition).values("pk"))


# --- the queue --------------------------------------------------------------------------------


def _count(model_filter) -> Coalesce:
    """A correlated COUNT(*) subquery (no join, so several counts never multiply)."""
    return Coalesce(Subquery(model_filter.order_by().values("session_id")
                             .annotate(n=Count("pk")).values("n")[:1],
                             output_field=IntegerField()), 0)


def _with_grade_counts(queryset):
    grades = Grade.objects.filter(session=OuterRef("pk"))
    return queryset.annotate(
        grade_count=_count(grades),
        submitted_count=_count(grades.filter(status=Grade.Status.SUBMITTED)),
    )


@dataclass
class QueueRow:
    session: InterviewSession
    grades: list[Grade]
    my_grade: Grade | None
    can_claim: bool
    can_release: bool
    answered: int

    @property
    def state(self) -> str:
        session = self.session
        if session.is_released:
            return "released"
        submitted = sum(1 for grade in self.grades if grade.is_submitted)
        if submitted >= session.graders_required and submitted == len(self.grades):
            return "ready"
        if len(self.grades) < session.graders_required:
            return "needs_grader"
        return "in_progress"

    @property
    def state_label(self) -> str:
        return {"released": "Released", "ready": "Ready to release",
                "needs_grader": "Needs a grader", "in_progress": "Being graded"}[self.state]

    @property
    def open_slots(self) -> int:
        return max(self.session.graders_required - len(self.grades), 0)


@dataclass
class GradingQueue:
    rows: list[QueueRow]
    page: Page
    state: str
    case_slug: str
    counts: dict[str, int]
    case_studies: list[CaseStudy]
    interviewers: list[AbstractBaseUser] = field(default_factory=list)
    is_admin: bool = False


def grading_queue(*, user: AbstractBaseUser, state: str = "unclaimed", case_slug: str = "",
                  page_number: int | str = 1) -> GradingQueue:
    """Submitted sessions for interviewers, filtered by state (``QUEUE_STATES``) and case
    study, a page at a time, in a constant number of queries."""
    if state not in QUEUE_STATES:
        state = "unclaimed"
    mine = Grade.objects.filter(session=OuterRef("pk"), grader_id=user.pk)
    base = _with_grade_counts(
        InterviewSession.objects.filter(status=InterviewSession.Status.SUBMITTED)
    ).annotate(is_mine=Exists(mine))
    case_studies = list(CaseStudy.objects.order_by("order", "title"))
    if case_slug and any(case.slug == case_slug for case in case_studies):
        base = base.filter(case_study__slug=case_slug)
    else:
        case_slug = ""
    filters = {
        "unclaimed": Q(grade_count__lt=F("graders_required"),
                       feedback_released_at__isnull=True),
        "mine": Q(is_mine=True),
        "graded": Q(submitted_count__gte=F("graders_required"),
                    submitted_count=F("grade_count")),
        "all": Q(),
    }
    counts = {name: base.filter(condition).count() for name, condition in filters.items()}
    answered = Answer.objects.filter(session=OuterRef("pk"), version__gt=0).exclude(
        text="", diagram="")
    sessions = (
        base.filter(filters[state])
        .select_related("case_study", "candidate")
        .annotate(answered=_count(answered))
        .prefetch_related(Prefetch("grades", queryset=Grade.objects.select_related("grader")
                                   .order_by("created_at", "id")))
        .order_by("submitted_at" if state == "unclaimed" else "-submitted_at", "pk")
    )
    page = Paginator(sessions, QUEUE_PAGE_SIZE).get_page(page_number)
    is_admin = roles.is_admin(user)
    rows = []
    for session in page.object_list:
        grades = list(session.grades.all())
        my_grade = next((grade for grade in grades if grade.grader_id == user.pk), None)
        submitted = sum(1 for grade in grades if grade.is_submitted)
        rows.append(QueueRow(
            session=session, grades=grades, my_grade=my_grade, answered=session.answered,
            can_claim=(my_grade is None and not session.is_released
                       and len(grades) < session.graders_required
                       and session.candidate_id != user.pk),
            can_release=(not session.is_released and submitted >= session.graders_required
                         and submitted == len(grades)
                         and may_release(user=user, session=session,
                                         grader_ids={g.grader_id for g in grades})),
        ))
    return GradingQueue(
        rows=rows, page=page, state=state, case_slug=case_slug, counts=counts,
        case_studies=case_studies, is_admin=is_admin,
        interviewers=interviewers_for_assignment() if is_admin else [],
    )


# --- model evidence (from the grading app) ----------------------------------------------------


@dataclass(frozen=True)
class ModelEvidence:
    """One of the candidate's scored model submissions for the session's case study."""

    submission: Submission
    metric_label: str
    better: str
    public_value: float
    public_ci: tuple[float, float]
    private_value: float | None  # only once the round is closed
    private_ci: tuple[float, float] | None
    decimals: int
    latency_p99_ms: float
    latency_budget_ms: int
    before_interview: bool

    @property
    def within_latency_budget(self) -> bool:
        return self.latency_p99_ms <= self.latency_budget_ms


def model_evidence_for_session(*, session: InterviewSession) -> list[ModelEvidence]:
    """The candidate's scored submissions for the session's case study, newest first, with
    the public primary metric and its 95 % interval (rounded as on the leaderboard), and the
    private one once an admin has closed the round. Two queries."""
    leaderboard = Leaderboard.objects.filter(case_study_id=session.case_study_id).first()
    closed = bool(leaderboard and leaderboard.is_closed)
    decimals = leaderboard.public_decimals if leaderboard else 4
    scores = (Score.objects.filter(is_current=True,
                                   submission__candidate_id=session.candidate_id,
                                   submission__case_study_id=session.case_study_id,
                                   submission__status=Submission.Status.SCORED)
              .select_related("submission").order_by("-submission__created_at"))
    evidence = []
    for score in scores:
        try:
            metric = grading_metrics.metric_get(score.primary_metric)
            label, direction = metric.label, str(metric.direction)
        except KeyError:
            label, direction = score.primary_metric, ""
        better = {"higher": "higher is better", "lower": "lower is better"}.get(direction, "")
        evidence.append(ModelEvidence(
            submission=score.submission, metric_label=label, better=better,
            public_value=round(score.public_primary, decimals),
            public_ci=(round(score.public_ci_low, decimals),
                       round(score.public_ci_high, decimals)),
            private_value=score.private_primary if closed else None,
            private_ci=(score.private_ci_low, score.private_ci_high) if closed else None,
            decimals=decimals if not closed else 6,
            latency_p99_ms=score.latency_p99_ms, latency_budget_ms=score.latency_budget_ms,
            before_interview=score.submission.created_at <= (session.submitted_at
                                                             or session.deadline),
        ))
    return evidence


# --- the grading page -------------------------------------------------------------------------


@dataclass
class OtherScore:
    """Another grader's score on one step, shown only when ``grades_visible_to`` allows."""

    label: str
    score: StepScore
    quotes: list[EvidenceQuote]


@dataclass
class GradingStep:
    rubric_step: RubricStep
    session_step: SessionStep | None  # None for communication
    mine: StepScore | None
    my_quotes: list[EvidenceQuote]
    others: list[OtherScore]
    model_evidence: list[ModelEvidence] = field(default_factory=list)

    @property
    def number(self) -> int:
        return self.rubric_step.number

    @property
    def is_communication(self) -> bool:
        return self.rubric_step.is_communication

    @property
    def weight_percent(self) -> int:
        return round(float(self.rubric_step.weight) * 100)

    @property
    def level_choice(self) -> str:
        """The radio value of the grader's choice: "1".."4", "not_reached" or ""."""
        if self.mine is None:
            return ""
        if self.mine.not_reached:
            return rules.NOT_REACHED
        return str(self.mine.level or "")


@dataclass
class GraderStatus:
    grade: Grade
    label: str
    is_me: bool


@dataclass
class GradingWorkspace:
    session: InterviewSession
    review: SessionReview
    steps: list[GradingStep]
    communication: GradingStep
    my_grade: Grade | None
    suggestion: rules.Suggestion | None
    others_visible: bool
    other_grades: list[GraderStatus]
    graders: list[GraderStatus]
    can_claim: bool
    can_release: bool
    model_evidence: list[ModelEvidence]

    @property
    def open_slots(self) -> int:
        return max(self.session.graders_required - len(self.graders), 0)

    @property
    def open_slot_list(self) -> range:
        return range(self.open_slots)

    @property
    def submitted_count(self) -> int:
        return sum(1 for grader in self.graders if grader.grade.is_submitted)

    @property
    def is_complete(self) -> bool:
        return (self.submitted_count >= self.session.graders_required
                and self.submitted_count == len(self.graders))


def _scores_by_grade(grades: Iterable[Grade]) -> tuple[dict[int, dict[int, StepScore]],
                                                      dict[int, dict[int, list]]]:
    ids = [grade.pk for grade in grades]
    scores: dict[int, dict[int, StepScore]] = defaultdict(dict)
    for score in StepScore.objects.filter(grade_id__in=ids):
        scores[score.grade_id][score.step_number] = score
    quotes: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for quote in EvidenceQuote.objects.filter(grade_id__in=ids):
        quotes[quote.grade_id][quote.step_number].append(quote)
    return scores, quotes


def grading_workspace(*, session: InterviewSession, user: AbstractBaseUser
                      ) -> GradingWorkspace:
    """Everything the grading page shows, in a constant number of queries. Other graders'
    scores are fetched only when ``grades_visible_to`` allows."""
    review = session_review(session=session)
    grades = list(Grade.objects.filter(session=session).select_related("grader")
                  .order_by("created_at", "id"))
    my_grade = next((grade for grade in grades if grade.grader_id == user.pk), None)
    visible = grades_visible_to(user=user, session=session, grades=grades)
    readable = [grade for grade in grades
                if grade is my_grade or (visible and grade.is_submitted)]
    scores, quotes = _scores_by_grade(readable)
    others = [grade for grade in readable if grade is not my_grade]
    rubric_steps = {step.number: step for step in session.rubric.steps.all()}
    evidence = model_evidence_for_session(session=session)

    def build(rubric_step: RubricStep, session_step: SessionStep | None) -> GradingStep:
        number = rubric_step.number
        return GradingStep(
            rubric_step=rubric_step, session_step=session_step,
            mine=scores[my_grade.pk].get(number) if my_grade else None,
            my_quotes=list(quotes[my_grade.pk][number]) if my_grade else [],
            others=[OtherScore(label=grade.grader.get_username(),
                               score=scores[grade.pk][number],
                               quotes=list(quotes[grade.pk][number]))
                    for grade in others if number in scores[grade.pk]],
            model_evidence=evidence if number == 4 else [],
        )

    steps = [build(rubric_steps[step.number], step) for step in review.steps]
    communication = build(rubric_steps[COMMUNICATION_STEP], None)
    suggestion = None
    if my_grade is not None:
        weights = {number: step.weight for number, step in rubric_steps.items()}
        levels = {number: score.rule_level for number, score in scores[my_grade.pk].items()}
        suggestion = rules.suggest(levels=levels, weights=weights,
                                   red_flags=bool(my_grade.red_flags))
    statuses = [GraderStatus(grade=grade, label=grade.grader.get_username(),
                             is_me=grade is my_grade) for grade in grades]
    submitted = sum(1 for grade in grades if grade.is_submitted)
    return GradingWorkspace(
        session=session, review=review, steps=steps, communication=communication,
        my_grade=my_grade, suggestion=suggestion, others_visible=visible,
        other_grades=[status for status in statuses
                      if not status.is_me and visible and status.grade.is_submitted],
        graders=statuses,
        can_claim=(my_grade is None and not session.is_released
                   and len(grades) < session.graders_required
                   and session.candidate_id != user.pk),
        can_release=(not session.is_released and submitted >= session.graders_required
                     and submitted == len(grades)
                     and may_release(user=user, session=session,
                                     grader_ids={g.grader_id for g in grades})),
        model_evidence=evidence,
    )


def evidence_for_step(*, grade: Grade, step_number: int) -> list[EvidenceQuote]:
    return list(EvidenceQuote.objects.filter(grade=grade, step_number=step_number))


# --- replay -----------------------------------------------------------------------------------


@dataclass
class ReplayStep:
    number: int
    title: str
    text: str
    diagram: str
    version: int  # 0: nothing saved yet at that time
    saved_ms: int | None
    final_version: int


@dataclass
class ReplayFrame:
    at_ms: int
    steps: list[ReplayStep]
    questions: list[QuestionAsked]


REPLAY_WIDTH = 900
REPLAY_LABEL_WIDTH = 170
REPLAY_RIGHT_PAD = 22  # room for the last time label
REPLAY_ROW = 26


@dataclass
class ReplayTimeline:
    """The saves of each step as ticks on a time axis (milliseconds since the start), and
    the clarifying questions, for the replay slider."""

    end_ms: int
    duration_ms: int
    rows: list[dict]
    questions: list[dict]
    axis: list[dict]
    saves_ms: list[int] = field(default_factory=list)
    width: int = REPLAY_WIDTH
    label_width: int = REPLAY_LABEL_WIDTH

    @property
    def plot_width(self) -> int:
        return self.width - self.label_width - REPLAY_RIGHT_PAD

    @property
    def plot_end(self) -> int:
        return self.width - REPLAY_RIGHT_PAD

    @property
    def height(self) -> int:
        return REPLAY_ROW * (len(self.rows) + 1) + 26


def session_replay_timeline(*, session: InterviewSession) -> ReplayTimeline:
    titles = {step.number: step.title for step in session.rubric.steps.all()}
    saves: dict[int, list[int]] = defaultdict(list)
    for step_number, elapsed in (AnswerRevision.objects.filter(answer__session=session)
                                 .values_list("answer__step_number", "elapsed_ms")):
        saves[step_number].append(elapsed)
    asked = list(QuestionAsked.objects.filter(session=session))
    end_ms = max(session.used_seconds * 1000,
                 max((ms for values in saves.values() for ms in values), default=0),
                 max((q.elapsed_ms for q in asked), default=0), 1000)
    plot = REPLAY_WIDTH - REPLAY_LABEL_WIDTH - REPLAY_RIGHT_PAD

    def x(ms: int) -> float:
        return round(REPLAY_LABEL_WIDTH + plot * min(ms, end_ms) / end_ms, 1)

    rows = [{"number": n, "title": titles.get(n, f"Step {n}"), "y": REPLAY_ROW * (i + 1),
             "ticks": [x(ms) for ms in sorted(saves.get(n, []))],
             "count": len(saves.get(n, []))}
            for i, n in enumerate(range(1, 7))]
    questions = [{"x": x(q.elapsed_ms), "ms": q.elapsed_ms, "text": q.text} for q in asked]
    minutes = max(end_ms // 60000, 1)
    stride = next(s for s in (1, 2, 5, 10, 15, 30, 60) if minutes / s <= 9)
    axis = [{"x": x(m * 60000), "label": f"{m}:00"}
            for m in range(0, minutes + 1, stride) if m * 60000 <= end_ms]
    return ReplayTimeline(end_ms=end_ms, duration_ms=session.duration_seconds * 1000,
                          rows=rows, questions=questions, axis=axis,
                          saves_ms=sorted({ms for values in saves.values() for ms in values}))


def session_replay_frame(*, session: InterviewSession, at_ms: int) -> ReplayFrame:
    """Each answer as it stood ``at_ms`` milliseconds after the start (the last save at or
    before that time), and the questions asked so far. Two queries."""
    at_ms = max(int(at_ms), 0)
    revisions = AnswerRevision.objects.filter(answer=OuterRef("pk"),
                                              elapsed_ms__lte=at_ms).order_by("-version")
    answers = (Answer.objects.filter(session=session)
               .annotate(at_text=Subquery(revisions.values("text")[:1]),
                         at_diagram=Subquery(revisions.values("diagram")[:1]),
                         at_version=Subquery(revisions.values("version")[:1]),
                         at_ms=Subquery(revisions.values("elapsed_ms")[:1]))
               .order_by("step_number"))
    titles = {step.number: step.title for step in session.rubric.steps.all()}
    steps = [ReplayStep(number=answer.step_number, title=titles.get(answer.step_number, ""),
                        text=answer.at_text or "", diagram=answer.at_diagram or "",
                        version=answer.at_version or 0, saved_ms=answer.at_ms,
                        final_version=answer.version)
             for answer in answers]
    questions = list(QuestionAsked.objects.filter(session=session, elapsed_ms__lte=at_ms))
    return ReplayFrame(at_ms=at_ms, steps=steps, questions=questions)


# --- the candidate's feedback -----------------------------------------------------------------


@dataclass
class FeedbackEntry:
    label: str
    score: StepScore
    quotes: list[EvidenceQuote]
    descriptor: str

    @property
    def level_word(self) -> str:
        return "not reached" if self.score.not_reached else LEVEL_WORDS.get(
            self.score.level or 0, "")


@dataclass
class FeedbackStep:
    rubric_step: RubricStep
    entries: list[FeedbackEntry]

    @property
    def quote_texts(self) -> list[str]:
        return [quote.text for entry in self.entries for quote in entry.quotes]

    @property
    def mean_level(self) -> float | None:
        levels = [rules.effective_level(entry.score.rule_level) for entry in self.entries]
        values = [level for level in levels if level is not None]
        return fmean(values) if values else None


@dataclass
class FeedbackGrader:
    label: str
    grade: Grade


@dataclass
class CandidateFeedback:
    session: InterviewSession
    graders: list[FeedbackGrader]
    steps: dict[int, FeedbackStep]
    communication: FeedbackStep
    radar_svg: str
    red_flags: list[str]

    @property
    def verdict_label(self) -> str:
        return self.session.feedback_verdict_label

    @property
    def is_panel(self) -> bool:
        return len(self.graders) > 1

    def step(self, number: int) -> FeedbackStep | None:
        return self.steps.get(number)


def _radar(axes: list[str], series: list[charts.Series], title: str) -> str:
    return charts.radar_chart(axes=axes, series=series, max_value=4, title=title, size=420)


def feedback_for_candidate(*, session: InterviewSession) -> CandidateFeedback | None:
    """The released feedback of the candidate's own session (the caller fetched it through
    ``session_get_for_candidate``); None until released. Graders appear as "Interviewer A",
    "Interviewer B" in the order they submitted."""
    if not session.is_released:
        return None
    grades = list(Grade.objects.filter(session=session, status=Grade.Status.SUBMITTED)
                  .order_by("submitted_at", "id"))
    scores, quotes = _scores_by_grade(grades)
    rubric_steps = {step.number: step for step in session.rubric.steps.all()}
    graders = [FeedbackGrader(label=grader_letter(i), grade=grade)
               for i, grade in enumerate(grades)]

    def build(number: int) -> FeedbackStep:
        rubric_step = rubric_steps[number]
        descriptors = dict(rubric_step.descriptors)
        entries = []
        for grader in graders:
            score = scores[grader.grade.pk].get(number)
            if score is None:
                continue
            entries.append(FeedbackEntry(
                label=grader.label, score=score, quotes=list(quotes[grader.grade.pk][number]),
                descriptor=("Not reached in the time." if score.not_reached
                            else descriptors.get(score.level or 0, ""))))
        return FeedbackStep(rubric_step=rubric_step, entries=entries)

    steps = {number: build(number) for number in rules.SCORED_STEPS}
    axes = [rubric_steps[number].title for number in rules.SCORED_STEPS]
    series = []
    if len(graders) > 1:
        series.append(charts.Series(
            "Consensus (mean)",
            [(i, steps[n].mean_level or 0) for i, n in enumerate(rules.SCORED_STEPS)]))
    for k, grader in enumerate(graders):
        points = [(i, rules.effective_level(scores[grader.grade.pk][n].rule_level) or 0)
                  for i, n in enumerate(rules.SCORED_STEPS) if n in scores[grader.grade.pk]]
        series.append(charts.Series(grader.label, points, dashed=len(graders) > 1,
                                    color=charts.PALETTE[(k + 1) % len(charts.PALETTE)]
                                    if len(graders) > 1 else None))
    flags = list(dict.fromkeys(label for grader in graders
                               for label in grader.grade.red_flag_labels))
    return CandidateFeedback(
        session=session, graders=graders, steps=steps, communication=build(COMMUNICATION_STEP),
        radar_svg=_radar(axes, series, "Your level per step (1 to 4)"), red_flags=flags,
    )


@dataclass
class SkillRow:
    number: int
    title: str
    average: float | None
    sessions: int


@dataclass
class SkillProfile:
    sessions: int
    case_studies: int
    rows: list[SkillRow]
    communication: SkillRow
    radar_svg: str
    mean: Decimal | None


def skill_profile_for_candidate(*, user: AbstractBaseUser) -> SkillProfile | None:
    """The candidate's average level per step over all their sessions with released
    feedback (each session counts once: the mean of its graders), or None before the first.
    Three queries."""
    released = InterviewSession.objects.filter(candidate=user,
                                               feedback_released_at__isnull=False)
    sessions = list(released.values_list("pk", "case_study_id", "feedback_weighted_mean"))
    if not sessions:
        return None
    per_session: dict[tuple[int, int], list[int]] = defaultdict(list)
    for session_id, step, level, not_reached in (
        StepScore.objects.filter(grade__session__in=[pk for pk, _, _ in sessions],
                                 grade__status=Grade.Status.SUBMITTED)
        .values_list("grade__session_id", "step_number", "level", "not_reached")
    ):
        value = rules.effective_level(rules.NOT_REACHED if not_reached else level)
        if value is not None:
            per_session[(session_id, step)].append(value)
    titles = dict(RubricStep.objects.filter(rubric__is_current=True)
                  .values_list("number", "title"))

    def row(number: int) -> SkillRow:
        means = [fmean(values) for (session_id, step), values in per_session.items()
                 if step == number]
        return SkillRow(number=number, title=titles.get(number, f"Step {number}"),
                        average=fmean(means) if means else None, sessions=len(means))

    rows = [row(number) for number in rules.SCORED_STEPS]
    radar = _radar([r.title for r in rows],
                   [charts.Series("Average over your graded interviews",
                                  [(i, r.average) for i, r in enumerate(rows)
                                   if r.average is not None])],
                   "Your average level per step (1 to 4)")
    return SkillProfile(
        sessions=len(sessions), case_studies=len({case for _, case, _ in sessions}),
        rows=rows, communication=row(COMMUNICATION_STEP), radar_svg=radar,
        mean=rules.mean_of([mean for _, _, mean in sessions]),
    )


# --- combined standings (used by the grading app) ---------------------------------------------


class ReleasedVerdict(NamedTuple):
    verdict: str  # a Grade.Verdict value, e.g. "hire"
    weighted_mean: Decimal  # the panel's weighted rubric mean, 1.000 to 4.000
    session_id: int


def released_verdicts_for_case(*, case_study: CaseStudy) -> dict[int, ReleasedVerdict]:
    """For each candidate with released feedback on ``case_study``: the consensus verdict
    and weighted rubric mean of their most recent such interview (by start time), and its
    session id. One query, whatever the number of candidates and sessions.

    Example: ``{17: ReleasedVerdict(verdict="hire", weighted_mean=Decimal("3.050"),
    session_id=42)}``; ``Grade.Verdict(v.verdict).label`` gives "Hire"."""
    rows = (InterviewSession.objects
            .filter(case_study=case_study, feedback_released_at__isnull=False)
            .order_by("candidate_id", "-started_at", "-pk")
            .values_list("candidate_id", "feedback_verdict", "feedback_weighted_mean", "pk"))
    verdicts: dict[int, ReleasedVerdict] = {}
    for candidate_id, verdict, mean, session_id in rows:
        verdicts.setdefault(candidate_id, ReleasedVerdict(verdict, mean, session_id))
    return verdicts


# --- calibration ------------------------------------------------------------------------------


@dataclass
class StepAgreementRow:
    number: int
    title: str
    agreement: agree.Agreement


# Mean difference from co-graders (in levels) beyond which an interviewer is called more
# lenient or stricter than the panel.
LENIENCY_THRESHOLD = 0.2


@dataclass
class RaterRow:
    user_id: int
    username: str
    grades: int
    mean: float | None  # mean level over steps 1-6 of all their submitted grades
    offset: float | None  # mean (their level - co-grader's level), double-graded sessions
    offset_pairs: int
    distribution: agree.Distribution

    @property
    def leniency(self) -> str:
        if self.offset is None:
            return "no double-graded sessions yet"
        if self.offset >= LENIENCY_THRESHOLD:
            return "more lenient than the panel"
        if self.offset <= -LENIENCY_THRESHOLD:
            return "stricter than the panel"
        return "in line with the panel"


@dataclass
class Disagreement:
    session_id: int
    case_title: str
    step_number: int
    step_title: str
    levels: list[tuple[str, int]]

    @property
    def spread(self) -> int:
        values = [level for _, level in self.levels]
        return max(values) - min(values)


@dataclass
class CalibrationReport:
    case_studies: list[CaseStudy]
    case_slug: str
    sessions: int
    overall: agree.Agreement
    steps: list[StepAgreementRow]
    raters: list[RaterRow]
    panel_mean: float | None
    panel_distribution: agree.Distribution
    kappa_chart: str
    leniency_chart: str
    disagreements: list[Disagreement]


def _calibration_sessions(case_study: CaseStudy | None):
    """Sessions with two or more grades, all submitted, and none still to come."""
    sessions = _with_grade_counts(
        InterviewSession.objects.filter(status=InterviewSession.Status.SUBMITTED))
    if case_study is not None:
        sessions = sessions.filter(case_study=case_study)
    return sessions.filter(Q(submitted_count__gte=2), Q(submitted_count=F("grade_count")),
                           Q(submitted_count__gte=F("graders_required")))


def calibration_report(*, case_study: CaseStudy | None = None) -> CalibrationReport:
    """Agreement between interviewers, per step, over every session graded by two or more
    interviewers (all of its grades submitted): quadratic weighted Cohen's kappa, exact and
    adjacent agreement; and each interviewer's mean and distribution of levels against the
    panel, over all their submitted grades. "Not reached" counts as level 1. For every pair
    of grades on a session, the first-submitted grade is rater A. Four queries."""
    case_studies = list(CaseStudy.objects.order_by("order", "title"))
    eligible = dict(_calibration_sessions(case_study).values_list("pk", "case_study__title"))
    scores = StepScore.objects.filter(grade__status=Grade.Status.SUBMITTED)
    if case_study is not None:
        scores = scores.filter(grade__session__case_study=case_study)
    rows = list(scores.order_by("grade__session_id", "grade__submitted_at", "grade_id")
                .values_list("grade__session_id", "grade_id", "grade__grader_id",
                             "grade__grader__username", "step_number", "level", "not_reached"))
    titles = dict(RubricStep.objects.filter(rubric__is_current=True)
                  .values_list("number", "title"))

    # session -> step -> [(grader_id, username, level)] in submission order
    by_session: dict[int, dict[int, list[tuple[int, str, int]]]] = defaultdict(
        lambda: defaultdict(list))
    rater_levels: dict[int, list[int | str]] = defaultdict(list)
    rater_names: dict[int, str] = {}
    rater_grades: dict[int, set[int]] = defaultdict(set)
    for session_id, grade_id, grader_id, username, step, level, not_reached in rows:
        rater_names[grader_id] = username
        rater_grades[grader_id].add(grade_id)
        value = rules.effective_level(rules.NOT_REACHED if not_reached else level)
        if value is None:
            continue
        if step != COMMUNICATION_STEP:
            rater_levels[grader_id].append(rules.NOT_REACHED if not_reached else value)
        if session_id in eligible:
            by_session[session_id][step].append((grader_id, username, value))

    pairs: dict[int, list[tuple[int, int]]] = defaultdict(list)
    offsets: dict[int, list[int]] = defaultdict(list)
    disagreements = []
    for session_id, steps in by_session.items():
        for step, entries in steps.items():
            for i, (rater_a, _, level_a) in enumerate(entries):
                for rater_b, _, level_b in entries[i + 1:]:
                    pairs[step].append((level_a, level_b))
                    if step != COMMUNICATION_STEP:
                        offsets[rater_a].append(level_a - level_b)
                        offsets[rater_b].append(level_b - level_a)
            values = [level for _, _, level in entries]
            if len(values) > 1 and max(values) - min(values) >= 2:
                disagreements.append(Disagreement(
                    session_id=session_id, case_title=eligible[session_id], step_number=step,
                    step_title=titles.get(step, f"Step {step}"),
                    levels=[(name, level) for _, name, level in entries]))

    step_rows = [StepAgreementRow(number=n, title=titles.get(n, f"Step {n}"),
                                  agreement=agree.agreement(pairs.get(n, [])))
                 for n in (*rules.SCORED_STEPS, COMMUNICATION_STEP)]
    overall = agree.agreement([pair for n in rules.SCORED_STEPS for pair in pairs.get(n, [])])

    def numeric(levels: list[int | str]) -> list[int]:
        return [rules.effective_level(level) or 0 for level in levels]

    raters = sorted(
        (RaterRow(user_id=rater, username=rater_names[rater], grades=len(rater_grades[rater]),
                  mean=fmean(numeric(levels)) if levels else None,
                  offset=fmean(offsets[rater]) if offsets.get(rater) else None,
                  offset_pairs=len(offsets.get(rater, [])),
                  distribution=agree.distribution(levels))
         for rater, levels in rater_levels.items()),
        key=lambda row: row.username)
    everything = [level for levels in rater_levels.values() for level in levels]
    kappa_chart = charts.bar_chart(
        bars=[("Comm." if row.number == COMMUNICATION_STEP else f"Step {row.number}",
               row.agreement.kappa if row.agreement.kappa is not None else float("nan"))
              for row in step_rows],
        title="Quadratic weighted kappa per step", y_label="kappa",
        value_format="{:.2f}", width=560, height=300)
    leniency_chart = charts.bar_chart(
        bars=[(row.username, row.offset if row.offset is not None else float("nan"))
              for row in raters],
        title="Leniency: mean difference from co-graders",
        y_label="levels vs co-graders", value_format="{:+.2f}",
        width=560, height=300)
    disagreements.sort(key=lambda d: (-d.spread, -d.session_id, d.step_number))
    return CalibrationReport(
        case_studies=case_studies, case_slug=case_study.slug if case_study else "",
        sessions=len(by_session), overall=overall, steps=step_rows, raters=raters,
        panel_mean=fmean(numeric(everything)) if everything else None,
        panel_distribution=agree.distribution(everything),
        kappa_chart=kappa_chart, leniency_chart=leniency_chart,
        disagreements=disagreements[:20],
    )
