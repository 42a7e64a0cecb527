"""Who may do what with a scorecard: each rule, stated once.

Every rule is a function of plain facts: the session, the list of its grades, and the acting
user as an ``Actor``. None of them runs a query, and the module imports no Django (it reads
sessions and grades only through the attributes ``SessionFacts`` and ``GradeFacts`` name),
so the selectors can call the rules per row on rows they have already loaded, the services
on the rows they have locked, and their tests need no database. A rule answers either a
bool or, where a service must say why not, the refusal in words an interviewer understands
(None when allowed).

Why an ``Actor`` rather than the user: the role facts come from ``mlsd_site.roles``, which
asks ``user.has_perm``; the first ask loads the user's permissions (a query, then cached on
that user object by Django). ``selectors.access.actor_of(user)`` does that lookup at a point
the caller chooses (once per request, once per queue page), so the rules themselves stay
pure.

Who uses them:

* the selectors turn them into the flags templates show (``QueueRow.can_claim``,
  ``can_release``, ``can_manage``, ``ScorecardWorkspace.others_visible``...), so no template
  restates a rule;
* the services check the same rules under the session lock and raise: ``PermissionDenied``
  for a role, ``ScorecardRefused`` with the refusal's words for a state;
* the permission-scoped getters (``selectors/access.py``) answer 404 or 403 by the role rules.

The queue's tabs ("Needs a grader", "Graded") must filter in SQL to paginate: they restate
``open_slots`` and ``is_complete`` as queryset filters in ``selectors/queue.py``, and a test
checks that both forms agree.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Actor:
    """The acting user as the rules see them: who (``pk``, None when anonymous) and their two
    role facts (``selectors.access.actor_of`` reads them). The Admins group may grade too,
    but no rule assumes that an admin is an interviewer."""

    pk: int | None
    is_interviewer: bool
    is_admin: bool


class SessionFacts(Protocol):
    """What the rules read of an ``InterviewSession``."""

    candidate_id: int
    graders_required: int

    @property
    def is_submitted(self) -> bool: ...

    @property
    def is_released(self) -> bool: ...


class GradeFacts(Protocol):
    """What the rules read of a ``Grade``."""

    grader_id: int

    @property
    def is_submitted(self) -> bool: ...


# --- roles ------------------------------------------------------------------------------------


def may_grade(actor: Actor) -> bool:
    """Interviewers and admins open scorecards, the queue and calibration, and may hold a
    grader slot (claimed, or assigned by an admin)."""
    return actor.is_interviewer


def may_manage(actor: Actor) -> bool:
    """Admins manage a session's graders: assign slots, take them back, and set how many
    graders the session needs."""
    return actor.is_admin


# --- the session's grades ---------------------------------------------------------------------


def grade_of[G: GradeFacts](*, user_id: int | None, grades: Sequence[G]) -> G | None:
    """The grade ``user_id`` holds among ``grades`` (one per grader at most), or None."""
    return next((grade for grade in grades if grade.grader_id == user_id), None)


def submitted_count(grades: Sequence[GradeFacts]) -> int:
    return sum(1 for grade in grades if grade.is_submitted)


def open_slots(*, session: SessionFacts, grades: Sequence[GradeFacts]) -> int:
    """Grader slots nobody holds yet (0 once the session has as many graders as it needs)."""
    return max(session.graders_required - len(grades), 0)


def is_complete(*, session: SessionFacts, grades: Sequence[GradeFacts]) -> bool:
    """Every grade is in: at least ``graders_required`` grades, all submitted (a draft still
    to come keeps the session incomplete). Release waits for it, the queue calls such a
    session "Ready to release", and interviewers who do not grade it may read its scores."""
    submitted = submitted_count(grades)
    return submitted >= session.graders_required and submitted == len(grades)


# --- grader slots -----------------------------------------------------------------------------


def is_own_interview(*, user_id: int | None, session: SessionFacts) -> bool:
    """Nobody grades their own interview (an interviewer may have been a candidate once)."""
    return user_id == session.candidate_id


def slot_refusal(*, grader_id: int | None, session: SessionFacts,
                 grades: Sequence[GradeFacts]) -> str | None:
    """Why ``grader_id`` cannot take a new grader slot on ``session`` (a claim or an admin's
    assignment), or None if they can. ``grades`` are the session's grades, none of them
    ``grader_id``'s: holding a slot already is no refusal (claiming is idempotent). The role
    is checked apart (``may_grade``): it is a permission, not a state of the session."""
    if not session.is_submitted:
        return "The interview is still in progress."
    if session.is_released:
        return "The feedback is already released."
    if is_own_interview(user_id=grader_id, session=session):
        return "Nobody grades their own interview."
    if open_slots(session=session, grades=grades) == 0:
        taken = len(grades)
        return (f"This session already has {taken} grader{'s' if taken != 1 else ''}, "
                f"as many as it needs.")
    return None


def can_claim(*, actor: Actor, session: SessionFacts, grades: Sequence[GradeFacts]) -> bool:
    """May ``actor`` claim a slot now: an interviewer who holds none, on a session that has
    an open slot and is not their own (the queue's and the scorecard page's Claim button)."""
    return (may_grade(actor) and grade_of(user_id=actor.pk, grades=grades) is None
            and slot_refusal(grader_id=actor.pk, session=session, grades=grades) is None)


def can_take_back(grade: GradeFacts) -> bool:
    """A grader gives back, or an admin takes back, only a draft: a submitted grade stays."""
    return not grade.is_submitted


def can_manage(*, actor: Actor, session: SessionFacts) -> bool:
    """May ``actor`` change the session's graders now: an admin, until the feedback is
    released (the queue's Manage menu)."""
    return may_manage(actor) and session.is_submitted and not session.is_released


def graders_required_refusal(*, session: SessionFacts, grades: Sequence[GradeFacts],
                             count: int) -> str | None:
    """Why the session cannot be set to need ``count`` graders, or None: never after the
    release, nor below the graders who already hold a slot. (``count`` itself, 1 to
    ``services.MAX_GRADERS``, is checked as input by the service.)"""
    if session.is_released:
        return "The feedback is already released."
    taken = len(grades)
    if count < taken:
        return f"{taken} interviewers already grade this session: take a slot back first."
    return None


# --- release ----------------------------------------------------------------------------------


def may_release(*, actor: Actor, grades: Sequence[GradeFacts]) -> bool:
    """Admins, and interviewers who hold a slot on the session (draft or submitted), release
    its feedback."""
    return actor.is_admin or (actor.is_interviewer
                              and grade_of(user_id=actor.pk, grades=grades) is not None)


def release_refusal(*, session: SessionFacts, grades: Sequence[GradeFacts]) -> str | None:
    """Why the feedback cannot be released, or None. An already released session is no
    refusal here: releasing again changes nothing (the service returns it as it is)."""
    if not session.is_submitted:
        return "The interview is still in progress."
    if not is_complete(session=session, grades=grades):
        required = session.graders_required
        return (f"{submitted_count(grades)} of {required} grade{'s' if required != 1 else ''} "
                f"submitted: release once every grader has submitted.")
    return None


def can_release(*, actor: Actor, session: SessionFacts, grades: Sequence[GradeFacts]) -> bool:
    """May ``actor`` release the feedback now (the Release button): not yet released, every
    grade in, and ``may_release``."""
    return (not session.is_released and may_release(actor=actor, grades=grades)
            and release_refusal(session=session, grades=grades) is None)


# --- visibility -------------------------------------------------------------------------------


def others_visible(*, actor: Actor, session: SessionFacts, grades: Sequence[GradeFacts]
                   ) -> bool:
    """May ``actor`` see the submitted scores of the session's other graders?

    A grader, once they have submitted their own (never before, so that nobody anchors on
    anyone else); an admin who does not grade the session, always; anyone else who may open
    the scorecard, once the session ``is_complete`` (nobody is left to anchor). When this is
    False the selectors fetch no other score at all, not just hide it."""
    mine = grade_of(user_id=actor.pk, grades=grades)
    if mine is not None:
        return mine.is_submitted
    if actor.is_admin:
        return True
    return is_complete(session=session, grades=grades)
