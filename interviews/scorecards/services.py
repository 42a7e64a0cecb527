"""Writes for scorecards: claiming and assigning sessions, drafts that autosave,
submission (which freezes a grade), evidence quotes, and releasing feedback.

Lock order, everywhere: the session row first, then the grade row. Claims, assignments and
releases lock the session, so two interviewers racing for the last grader slot cannot both
get it; draft saves and submission lock the grade. "Now" is the database's clock.

Every function takes the acting user and checks their role itself (views check too, so
that another user's object is a 404 before a service is ever called). The rules they check,
roles and states alike, are ``interviews.scorecards.policy``'s: the same functions the
selectors use to show or hide each button.
"""

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models.functions import Now

from interviews.live.selectors import live_quote_sources
from interviews.markdown import plain_text
from interviews.models import Answer, EvidenceQuote, Grade, InterviewSession, StepScore
from interviews.scorecards import policy
from interviews.scorecards import verdict as rules
from interviews.scorecards.selectors.access import actor_of

logger = logging.getLogger(__name__)

MAX_GRADERS = 3
COMMENT_MAX_CHARS = 4_000
SUMMARY_MAX_CHARS = 6_000
REASON_MAX_CHARS = 2_000
QUOTE_MIN_CHARS = 3
QUOTES_PER_STEP = 12


class ScorecardRefused(Exception):
    """The action is not possible in the session's or grade's current state; the message
    says why in words an interviewer understands (HTTP 409)."""


class GradeLocked(ScorecardRefused):
    """The grade is submitted: it can no longer change."""

    def __init__(self) -> None:
        super().__init__("This grade is submitted and can no longer change.")


class GradeConflict(Exception):
    """A save named a revision that is no longer current: another tab saved in between."""

    def __init__(self, grade: Grade) -> None:
        self.grade = grade
        super().__init__("This grade was saved from another tab or window.")


@dataclass(frozen=True)
class StepInput:
    """What the grader set for one step: ``level`` 1-4, ``rules.NOT_REACHED`` or None."""

    level: int | str | None
    comment: str = ""


@dataclass(frozen=True)
class GradeInput:
    steps: dict[int, StepInput]
    red_flags: list[str]
    verdict: str  # "" = follow the suggestion
    override_reason: str
    summary: str


# --- helpers ----------------------------------------------------------------------------------


def _lock_session(session_id: int) -> InterviewSession:
    return InterviewSession.objects.select_for_update().get(pk=session_id)


def _lock_grade(grade_id: int) -> Grade:
    return (Grade.objects.select_for_update(of=("self",))
            .select_related("session__rubric").get(pk=grade_id))


def _require_admin(user: AbstractBaseUser) -> None:
    if not policy.may_manage(actor_of(user)):
        raise PermissionDenied("Only admins assign graders.")


def _refuse_if(refusal: str | None) -> None:
    if refusal is not None:
        raise ScorecardRefused(refusal)


def _add_grader(session: InterviewSession, grader: AbstractBaseUser,
                assigned_by: AbstractBaseUser | None) -> tuple[Grade, bool]:
    """The caller holds the session lock and has checked ``grader``'s role."""
    grades = list(Grade.objects.filter(session=session))
    existing = policy.grade_of(user_id=grader.pk, grades=grades)
    if existing is not None:
        return existing, False
    _refuse_if(policy.slot_refusal(grader_id=grader.pk, session=session, grades=grades))
    grade = Grade.objects.create(session=session, grader=grader, assigned_by=assigned_by)
    StepScore.objects.bulk_create(StepScore(grade=grade, step_number=n) for n in rules.GRADED_STEPS)
    return grade, True


# --- claiming and assigning -------------------------------------------------------------------


def grade_claim(*, session: InterviewSession, grader: AbstractBaseUser) -> tuple[Grade, bool]:
    """``grader`` takes one of the session's grader slots: a draft grade is created.
    Idempotent (claiming twice returns the same draft). Raises ``ScorecardRefused`` when the
    session is not submitted, already released, or has as many graders as it needs."""
    if not policy.may_grade(actor_of(grader)):
        raise PermissionDenied("Only interviewers grade sessions.")
    with transaction.atomic():
        locked = _lock_session(session.pk)
        grade, created = _add_grader(locked, grader, assigned_by=None)
    if created:
        logger.info("session %s claimed by %s", session.pk, grader.pk)
    return grade, created


def grade_unclaim(*, session: InterviewSession, grader: AbstractBaseUser) -> None:
    """``grader`` gives the slot back; their draft (scores, comments, quotes) is deleted.
    A submitted grade cannot be given back (``GradeLocked``)."""
    with transaction.atomic():
        _lock_session(session.pk)
        grade = Grade.objects.select_for_update().filter(session=session, grader=grader).first()
        if grade is None:
            return
        if not policy.can_take_back(grade):
            raise GradeLocked()
        grade.delete()


def grade_assign(*, session: InterviewSession, grader: AbstractBaseUser,
                 assigned_by: AbstractBaseUser) -> tuple[Grade, bool]:
    """An admin gives ``grader`` a grader slot on the session (same rules as a claim)."""
    _require_admin(assigned_by)
    if not policy.may_grade(actor_of(grader)):
        raise ValidationError("Only interviewers can be assigned.")
    with transaction.atomic():
        locked = _lock_session(session.pk)
        grade, created = _add_grader(locked, grader, assigned_by=assigned_by)
    if created:
        logger.info("session %s assigned to %s by %s", session.pk, grader.pk, assigned_by.pk)
    return grade, created


def grade_unassign(*, session: InterviewSession, grader: AbstractBaseUser,
                   by: AbstractBaseUser) -> None:
    """An admin takes a slot back from ``grader``; only a draft can be taken back."""
    _require_admin(by)
    grade_unclaim(session=session, grader=grader)


def session_set_graders_required(*, session: InterviewSession, count: int,
                                 by: AbstractBaseUser) -> InterviewSession:
    """An admin sets how many interviewers grade the session (1 to 3; 2 to double-grade).
    It cannot go below the graders who already hold a slot, nor change after release."""
    _require_admin(by)
    if not 1 <= count <= MAX_GRADERS:
        raise ValidationError(f"A session needs 1 to {MAX_GRADERS} graders.")
    with transaction.atomic():
        locked = _lock_session(session.pk)
        grades = list(Grade.objects.filter(session=locked))
        _refuse_if(policy.graders_required_refusal(session=locked, grades=grades, count=count))
        locked.graders_required = count
        locked.save(update_fields=["graders_required"])
    return locked


# --- drafts and submission --------------------------------------------------------------------


def _clean_input(data: GradeInput) -> GradeInput:
    valid_flags = {code for code, _ in Grade.RedFlag.choices}
    flags = [flag for flag in dict.fromkeys(data.red_flags) if flag]
    unknown = [flag for flag in flags if flag not in valid_flags]
    if unknown:
        raise ValidationError(f"Unknown red flag: {', '.join(unknown)}.")
    if data.verdict and data.verdict not in rules.VERDICT_RANK:
        raise ValidationError("Unknown verdict.")
    steps = {}
    for number, step in data.steps.items():
        if number not in rules.GRADED_STEPS:
            raise ValidationError("No such step.")
        level = step.level
        if level not in (None, rules.NOT_REACHED, *rules.LEVELS):
            raise ValidationError("A level is 1 to 4, or not reached.")
        if level == rules.NOT_REACHED and number == rules.COMMUNICATION_STEP:
            raise ValidationError("Communication is always scored.")
        comment = step.comment.replace("\r\n", "\n").strip()
        if len(comment) > COMMENT_MAX_CHARS:
            raise ValidationError(f"A comment holds at most {COMMENT_MAX_CHARS:,} characters.")
        steps[number] = StepInput(level=level, comment=comment)
    summary = data.summary.replace("\r\n", "\n").strip()
    reason = data.override_reason.replace("\r\n", "\n").strip()
    if len(summary) > SUMMARY_MAX_CHARS or len(reason) > REASON_MAX_CHARS:
        raise ValidationError("The summary or the reason is too long.")
    return GradeInput(steps=steps, red_flags=[f for f in flags if f in valid_flags],
                      verdict=data.verdict, override_reason=reason, summary=summary)


def _write_draft(grade: Grade, data: GradeInput) -> None:
    """Store ``data`` in a locked draft ``grade`` and bump its revision."""
    scores = {score.step_number: score for score in grade.step_scores.all()}
    changed = []
    for number, step in data.steps.items():
        score = scores.get(number)
        if score is None:
            score = StepScore.objects.create(grade=grade, step_number=number)
        level = None if step.level == rules.NOT_REACHED else step.level
        not_reached = step.level == rules.NOT_REACHED
        if (score.level, score.not_reached, score.comment) != (level, not_reached,
                                                               step.comment):
            score.level, score.not_reached, score.comment = level, not_reached, step.comment
            changed.append(score)
    if changed:
        StepScore.objects.bulk_update(changed, ["level", "not_reached", "comment"])
    grade.red_flags = data.red_flags
    grade.verdict = data.verdict
    grade.override_reason = data.override_reason
    grade.summary = data.summary
    grade.revision += 1
    grade.updated_at = Now()
    grade.save(update_fields=["red_flags", "verdict", "override_reason", "summary",
                              "revision", "updated_at"])
    grade.refresh_from_db(fields=["updated_at"])


def grade_suggestion(*, grade: Grade) -> rules.Suggestion:
    """The rules applied to the grade as stored (uses the session's rubric weights)."""
    weights = {step.number: step.weight for step in grade.session.rubric.steps.all()}
    levels = {score.step_number: score.rule_level for score in grade.step_scores.all()}
    return rules.suggest(levels=levels, weights=weights, red_flags=bool(grade.red_flags))


def _lock_draft(grade: Grade, base_revision: int) -> Grade:
    """Lock ``grade`` for a write of the draft the grader edited at ``base_revision``:
    ``GradeLocked`` once submitted, ``GradeConflict`` when another tab saved since."""
    locked = _lock_grade(grade.pk)
    if locked.is_submitted:
        raise GradeLocked()
    if base_revision != locked.revision:
        raise GradeConflict(locked)
    return locked


def grade_save_draft(*, grade: Grade, base_revision: int, data: GradeInput) -> Grade:
    """Autosave of a draft. ``base_revision`` is the revision the grader edited: a stale one
    (another tab saved since) raises ``GradeConflict`` rather than overwriting it. Raises
    ``GradeLocked`` once submitted and ``ValidationError`` for bad input."""
    data = _clean_input(data)
    with transaction.atomic():
        locked = _lock_draft(grade, base_revision)
        _write_draft(locked, data)
    return locked


def grade_submit(*, grade: Grade, base_revision: int, data: GradeInput) -> Grade:
    """Save ``data`` and submit the grade, in one transaction.

    Every step 1-6 needs a level or "not reached" and communication a level; the weighted
    mean and the rules' suggestion are computed and stored with the grade. A verdict other
    than the suggestion needs a reason. After this the grade cannot change (the service
    refuses with ``GradeLocked`` and the database triggers refuse any write)."""
    data = _clean_input(data)
    with transaction.atomic():
        locked = _lock_draft(grade, base_revision)
        _write_draft(locked, data)
        missing = [score.step_number for score in locked.step_scores.all()
                   if not score.is_scored]
        if missing:
            names = ", ".join("communication" if n == rules.COMMUNICATION_STEP else f"step {n}"
                              for n in missing)
            raise ValidationError(f"Score every step before submitting (missing: {names}).")
        suggestion = grade_suggestion(grade=locked)
        assert suggestion.verdict is not None and suggestion.mean is not None
        final = data.verdict or suggestion.verdict
        if final != suggestion.verdict and not data.override_reason:
            raise ValidationError(
                f"Your recommendation differs from the rubric's suggestion "
                f"({suggestion.verdict_label}): say why.")
        locked.verdict = final
        locked.suggested_verdict = suggestion.verdict
        locked.weighted_mean = suggestion.mean_decimal
        locked.status = Grade.Status.SUBMITTED
        locked.submitted_at = Now()
        locked.save(update_fields=["verdict", "suggested_verdict", "weighted_mean", "status",
                                   "submitted_at"])
        locked.refresh_from_db(fields=["submitted_at"])
    logger.info("grade %s submitted: %s (%s)", locked.pk, locked.verdict, locked.weighted_mean)
    return locked


# --- evidence -------------------------------------------------------------------------------


def _normalise_quote(text: str) -> str:
    return " ".join(text.split())


def evidence_add(*, grade: Grade, step_number: int, text: str) -> EvidenceQuote:
    """Attach a quote from the candidate's answer to ``step_number`` to that step's score.

    The quote must be verbatim (white space aside) from the answer as rendered or from its
    diagram source; otherwise ``ValidationError``. Adding the same quote twice returns the
    first. Raises ``GradeLocked`` once submitted."""
    quote = _normalise_quote(text)
    if step_number not in rules.SCORED_STEPS:
        raise ValidationError("Quotes come from the answers to steps 1 to 6.")
    if len(quote) < QUOTE_MIN_CHARS:
        raise ValidationError("Select a few words of the answer to quote.")
    if len(quote) > EvidenceQuote.MAX_CHARS:
        raise ValidationError(
            f"A quote holds at most {EvidenceQuote.MAX_CHARS} characters: select less.")
    with transaction.atomic():
        locked = _lock_grade(grade.pk)
        if locked.is_submitted:
            raise GradeLocked()
        answer = Answer.objects.filter(session_id=locked.session_id,
                                       step_number=step_number).first()
        sources = [] if answer is None else [plain_text(answer.text),
                                             _normalise_quote(answer.text),
                                             _normalise_quote(answer.diagram)]
        # A live interview's follow-up answers and the interviewer's notes on the step.
        sources += [_normalise_quote(text) for text in live_quote_sources(
            session_id=locked.session_id, step_number=step_number)]
        if not any(quote in source for source in sources if source):
            raise ValidationError("A quote must be text from the candidate's answer "
                                  "(or, in a live interview, a follow-up's answer or a note).")
        existing = EvidenceQuote.objects.filter(grade=locked, step_number=step_number,
                                                text=quote).first()
        if existing is not None:
            return existing
        if EvidenceQuote.objects.filter(grade=locked,
                                        step_number=step_number).count() >= QUOTES_PER_STEP:
            raise ValidationError(f"At most {QUOTES_PER_STEP} quotes per step.")
        return EvidenceQuote.objects.create(grade=locked, step_number=step_number, text=quote)


def evidence_remove(*, grade: Grade, quote_id: int) -> int:
    """Remove one of the draft's quotes; returns the step it belonged to (0 if it was not
    there). Raises ``GradeLocked`` once submitted."""
    with transaction.atomic():
        locked = _lock_grade(grade.pk)
        if locked.is_submitted:
            raise GradeLocked()
        quote = EvidenceQuote.objects.filter(grade=locked, pk=quote_id).first()
        if quote is None:
            return 0
        quote.delete()
        return quote.step_number


# --- release --------------------------------------------------------------------------------


def session_release_feedback(*, session: InterviewSession, by: AbstractBaseUser
                             ) -> InterviewSession:
    """Show the graders' feedback to the candidate. Needs the required number of submitted
    grades (and no draft). The consensus verdict (lower median of the graders' verdicts)
    and mean (mean of their weighted means) are stored on the session. Idempotent. Raises
    ``PermissionDenied`` unless ``policy.may_release``, ``ScorecardRefused`` with
    ``policy.release_refusal``'s reason."""
    with transaction.atomic():
        locked = _lock_session(session.pk)
        grades = list(Grade.objects.filter(session=locked))
        if not policy.may_release(actor=actor_of(by), grades=grades):
            raise PermissionDenied("Only admins and the session's graders release feedback.")
        if locked.is_released:
            return locked
        _refuse_if(policy.release_refusal(session=locked, grades=grades))
        submitted = [grade for grade in grades if grade.is_submitted]
        locked.feedback_verdict = rules.consensus([grade.verdict for grade in submitted])
        locked.feedback_weighted_mean = rules.mean_of(
            [Decimal(grade.weighted_mean) for grade in submitted])
        locked.feedback_released_at = Now()
        locked.feedback_released_by = by
        locked.save(update_fields=["feedback_verdict", "feedback_weighted_mean",
                                   "feedback_released_at", "feedback_released_by"])
        locked.refresh_from_db(fields=["feedback_released_at"])
    logger.info("session %s feedback released by %s: %s", session.pk, by.pk,
                locked.feedback_verdict)
    return locked
