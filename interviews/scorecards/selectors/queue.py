"""The scorecard queue: submitted sessions for interviewers, by state and case study.

Each row carries the flags its buttons need, from ``interviews.scorecards.policy``; the tabs
filter in SQL (to paginate), restating two of the policy's rules as queryset filters."""

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
from interviews.scorecards import policy
from interviews.scorecards.selectors.access import actor_of, interviewers_for_assignment

QUEUE_PAGE_SIZE = 30
QUEUE_STATES = {
    "unclaimed": "Needs a grader",
    "mine": "Mine",
    "graded": "Graded",
    "all": "All submitted",
}

# The SQL form of two policy rules, for sessions annotated by ``with_grade_counts``; the
# policy's tests check that both forms agree.
HAS_OPEN_SLOT = Q(grade_count__lt=F("graders_required"))  # policy.open_slots(...) > 0
IS_COMPLETE = Q(submitted_count__gte=F("graders_required"),
                submitted_count=F("grade_count"))  # policy.is_complete


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
    """One session in the queue. ``can_*`` say which buttons the viewer gets; for an
    admin, ``assignable`` and ``drafts`` fill the Manage menu (empty unless ``can_manage``)."""

    session: InterviewSession
    grades: list[Grade]
    my_grade: Grade | None
    can_claim: bool
    can_release: bool
    answered: int
    can_manage: bool = False
    assignable: list[AbstractBaseUser] = field(default_factory=list)
    drafts: list[Grade] = field(default_factory=list)

    @property
    def state(self) -> str:
        session = self.session
        if session.is_released:
            return "released"
        if policy.is_complete(session=session, grades=self.grades):
            return "ready"
        if self.open_slots:
            return "needs_grader"
        return "in_progress"

    @property
    def state_label(self) -> str:
        return {"released": "Released", "ready": "Ready to release",
                "needs_grader": "Needs a grader", "in_progress": "Being graded"}[self.state]

    @property
    def open_slots(self) -> int:
        return policy.open_slots(session=self.session, grades=self.grades)


@dataclass
class ScorecardQueue:
    rows: list[QueueRow]
    page: Page
    state: str
    case_slug: str
    counts: dict[str, int]
    case_studies: list[CaseStudy]


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
        "unclaimed": HAS_OPEN_SLOT & Q(feedback_released_at__isnull=True),
        "mine": Q(is_mine=True),
        "graded": IS_COMPLETE,
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
    actor = actor_of(user)
    interviewers = interviewers_for_assignment() if policy.may_manage(actor) else []
    rows = []
    for session in page.object_list:
        grades = list(session.grades.all())
        row = QueueRow(
            session=session, grades=grades, answered=session.answered,
            my_grade=policy.grade_of(user_id=user.pk, grades=grades),
            can_claim=policy.can_claim(actor=actor, session=session, grades=grades),
            can_release=policy.can_release(actor=actor, session=session, grades=grades),
            can_manage=policy.can_manage(actor=actor, session=session),
        )
        if row.can_manage:
            row.assignable = [person for person in interviewers if not policy.is_own_interview(
                user_id=person.pk, session=session)]
            row.drafts = [grade for grade in grades if policy.can_take_back(grade)]
        rows.append(row)
    return ScorecardQueue(
        rows=rows, page=page, state=state, case_slug=case_slug, counts=counts,
        case_studies=case_studies,
    )


