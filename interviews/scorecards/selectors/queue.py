"""The scorecard queue: submitted sessions for interviewers, by state and case study."""

from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce

from interviews.models import (
    Answer,
    CaseStudy,
    Grade,
    InterviewSession,
)
from interviews.scorecards.selectors.access import interviewers_for_assignment
from interviews.scorecards.services import may_release
from mlsd_site import roles

QUEUE_PAGE_SIZE = 30
QUEUE_STATES = {
    "unclaimed": "Needs a grader",
    "mine": "Mine",
    "graded": "Graded",
    "all": "All submitted",
}

def _count(model_filter) -> Coalesce:
    """A correlated COUNT(*) subquery (no join, so several counts never multiply)."""
    return Coalesce(Subquery(model_filter.order_by().values("session_id")
                             .annotate(n=Count("pk")).values("n")[:1],
                             output_field=IntegerField()), 0)


def with_grade_counts(queryset):
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
class ScorecardQueue:
    rows: list[QueueRow]
    page: Page
    state: str
    case_slug: str
    counts: dict[str, int]
    case_studies: list[CaseStudy]
    interviewers: list[AbstractBaseUser] = field(default_factory=list)
    is_admin: bool = False


def scorecard_queue(*, user: AbstractBaseUser, state: str = "unclaimed", case_slug: str = "",
                  page_number: int | str = 1) -> ScorecardQueue:
    """Submitted sessions for interviewers, filtered by state (``QUEUE_STATES``) and case
    study, a page at a time, in a constant number of queries."""
    if state not in QUEUE_STATES:
        state = "unclaimed"
    mine = Grade.objects.filter(session=OuterRef("pk"), grader_id=user.pk)
    base = with_grade_counts(
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
    return ScorecardQueue(
        rows=rows, page=page, state=state, case_slug=case_slug, counts=counts,
        case_studies=case_studies, is_admin=is_admin,
        interviewers=interviewers_for_assignment() if is_admin else [],
    )


