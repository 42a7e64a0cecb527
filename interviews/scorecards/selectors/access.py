"""Who may open which scorecard: the permission-scoped getters (404 for anyone the object
is none of their business, 403 for an interviewer who may see it but not change it), the
check for the pages about no one session, and who may be assigned. The role rules are
``interviews.scorecards.policy``'s."""


from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Q, Subquery
from django.http import Http404

from interviews.models import (
    Grade,
    InterviewSession,
)
from interviews.scorecards import policy
from interviews.scorecards.policy import Actor
from mlsd_site import roles

UserLike = AbstractBaseUser | AnonymousUser


def actor_of(user: UserLike) -> Actor:
    """``user`` as the policy's rules see them: their pk and roles, read through
    ``mlsd_site.roles``. The first call for a user object loads their permissions (Django
    then keeps them on that object), so call it once per request or per page of rows."""
    return Actor(pk=user.pk, is_interviewer=roles.is_interviewer(user),
                 is_admin=roles.is_admin(user))


def require_interviewer(*, user: UserLike) -> None:
    """For the pages about no one session (the queue, calibration): ``PermissionDenied``
    (403) unless ``user`` may grade. There is no object whose existence a 404 would hide,
    and a candidate who follows a link learns only that the page is not theirs."""
    if not policy.may_grade(actor_of(user)):
        raise PermissionDenied("Only interviewers and admins grade.")


def session_get_for_scorecard(*, user: UserLike, session_id: int) -> InterviewSession:
    """A submitted session, for an interviewer or admin; Http404 for anyone else and for
    sessions still in progress."""
    if not policy.may_grade(actor_of(user)):
        raise Http404("No such interview session.")
    try:
        return (InterviewSession.objects.select_related("case_study", "rubric", "candidate")
                .get(pk=session_id, status=InterviewSession.Status.SUBMITTED))
    except InterviewSession.DoesNotExist as exc:
        raise Http404("No such interview session.") from exc


def session_get_for_admin(*, user: UserLike, session_id: int) -> InterviewSession:
    """A submitted session whose graders an admin manages (assign, take back, how many).

    Http404 exactly as ``session_get_for_scorecard`` (candidates, unknown ids, sessions in
    progress); then ``PermissionDenied`` (403) for an interviewer who is not an admin: they
    may open this session anyway, so a 404 would hide nothing."""
    session = session_get_for_scorecard(user=user, session_id=session_id)
    if not policy.may_manage(actor_of(user)):
        raise PermissionDenied("Only admins manage a session's graders.")
    return session


def grade_get_for_grader(*, user: UserLike, session_id: int) -> Grade:
    """``user``'s own grade on the session; Http404 if they do not grade it."""
    if not policy.may_grade(actor_of(user)):
        raise Http404("No such grade.")
    try:
        return (Grade.objects.select_related("session__rubric", "session__case_study")
                .get(session_id=session_id, grader=user))
    except Grade.DoesNotExist as exc:
        raise Http404("No such grade.") from exc


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


