"""Who may open which scorecard: the permission-scoped getters (404 for anyone else)
and who may be assigned."""


from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, Subquery
from django.http import Http404

from interviews.models import (
    Grade,
    InterviewSession,
)
from mlsd_site import roles

UserLike = AbstractBaseUser | AnonymousUser

def session_get_for_scorecard(*, user: UserLike, session_id: int) -> InterviewSession:
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


