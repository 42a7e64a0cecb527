"""Roles: candidates are plain users; interviewers and admins are groups with permissions.

Permission checks go through these functions so that templates, views and tests agree.
"""

import functools

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group, Permission
from django.http import HttpRequest

INTERVIEWERS = "Interviewers"
ADMINS = "Admins"

# (app_label, codename) pairs each group holds. Admins also get is_staff for the Django admin.
GROUP_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    INTERVIEWERS: [
        ("interviews", "view_casestudy"),
        ("interviews", "grade_sessions"),
        ("interviews", "view_interviewsession"),
        ("interviews", "view_grade"),
    ],
    ADMINS: [
        ("interviews", "grade_sessions"),
        ("interviews", "manage_rounds"),
        ("interviews", "add_casestudy"),
        ("interviews", "change_casestudy"),
        ("interviews", "view_casestudy"),
        ("interviews", "add_clarifyingquestion"),
        ("interviews", "change_clarifyingquestion"),
        ("interviews", "delete_clarifyingquestion"),
        ("interviews", "view_clarifyingquestion"),
        ("interviews", "add_concept"),
        ("interviews", "change_concept"),
        ("interviews", "delete_concept"),
        ("interviews", "view_concept"),
        ("interviews", "change_stepbudget"),
        ("interviews", "view_stepbudget"),
        ("interviews", "add_rubric"),
        ("interviews", "change_rubric"),
        ("interviews", "view_rubric"),
        ("interviews", "change_rubricstep"),
        ("interviews", "view_rubricstep"),
        ("interviews", "view_interviewsession"),
        ("interviews", "view_answer"),
        ("interviews", "view_answerrevision"),
        ("interviews", "view_grade"),
        ("interviews", "view_stepscore"),
        ("interviews", "view_evidencequote"),
        ("auth", "view_user"),
        ("auth", "change_user"),
    ],
}

UserLike = AbstractBaseUser | AnonymousUser


def is_interviewer(user: UserLike) -> bool:
    """Interviewers and admins may grade."""
    return bool(user.is_authenticated and user.has_perm("interviews.grade_sessions"))


def is_admin(user: UserLike) -> bool:
    """Admins run interview rounds (superusers count as admins)."""
    return bool(user.is_authenticated and user.has_perm("interviews.manage_rounds"))


def is_candidate(user: UserLike) -> bool:
    return bool(user.is_authenticated and not is_interviewer(user))


def role_name(user: UserLike) -> str:
    if not user.is_authenticated:
        return "anonymous"
    if is_admin(user):
        return "admin"
    if is_interviewer(user):
        return "interviewer"
    return "candidate"


def roles_ensure() -> dict[str, Group]:
    """Create the role groups and give them their permissions; safe to run again."""
    groups = {}
    for name, perms in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in perms
        ]
        group.permissions.set(wanted)
        groups[name] = group
    return groups


def role_context(request: HttpRequest) -> dict[str, object]:
    """Callables, which templates call when they use them: an htmx fragment that shows no
    navigation (an autosave's "saved" state) loads no permissions."""
    user = request.user
    return {
        "user_role": functools.cache(lambda: role_name(user)),
        "user_is_interviewer": functools.cache(lambda: is_interviewer(user)),
        "user_is_admin": functools.cache(lambda: is_admin(user)),
    }
