"""Writes for design claims: add, edit and delete a candidate's claims on steps 2-4 of their
own interview session, and link the session to one of their scored submissions (or unlink
it). Claims may be written while the session runs and after it is submitted: a claim
written after the linked model was scored is marked as such where it is shown
(``grading.selectors.claims``), not refused.

Callers pass a session fetched through the candidate-scoped getter
(``interviews.selectors.sessions.session_get_for_candidate``); each function also checks
that the session is still that candidate's. Bad input raises ``ValidationError`` whose
``message_dict`` names the field (``kind``, ``metric``, ``scenario``, ``comparator``,
``value``, ``submission``, or ``__all__``), in words a candidate can act on.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from grading.datasets.scenarios import SCENARIOS
from grading.engine import claims as rules
from grading.models import DesignClaim, Score, SessionModelLink, Submission
from grading.selectors.claims import CLAIM_STEPS, ClaimChoices, claim_choices
from interviews.models import InterviewSession

Kind = DesignClaim.Kind

#: At most this many claims on one step: a list of claims, not a dump of numbers.
MAX_CLAIMS_PER_STEP = 10


@dataclass(frozen=True)
class ClaimInput:
    """A claim as posted: strings as typed, ``value`` parsed (None when empty)."""

    kind: str
    metric: str = ""
    scenario: str = ""
    comparator: str = ""
    value: float | None = None


def _cleaned(data: ClaimInput, choices: ClaimChoices) -> dict:
    """The fields to store for ``data``, or ValidationError naming each bad field. Fields a
    kind does not use are cleared, so a claim never carries a stale metric or value."""
    errors: dict[str, str] = {}
    kind = data.kind
    if kind not in Kind.values:
        raise ValidationError({"kind": "Choose what the claim is about."})
    fields = {"kind": kind, "metric": "", "scenario": "", "comparator": "", "value": None}

    def need_comparator() -> None:
        if data.comparator not in rules.COMPARATOR_SYMBOLS:
            errors["comparator"] = "Choose “at most” or “at least”."
        fields["comparator"] = data.comparator

    def need_value(problem) -> None:
        if data.value is None:
            errors["value"] = "Enter the claimed value as a number, e.g. 0.35."
            return
        message = problem(data.value)
        if message:
            errors["value"] = message
        fields["value"] = data.value

    if kind == Kind.HELDOUT_METRIC:
        if data.metric not in choices.metric_keys:
            errors["metric"] = ("Choose one of this case study's metrics: "
                                + ", ".join(c.label for c in choices.metrics) + ".")
        fields["metric"] = data.metric
        need_comparator()
        need_value(lambda value: rules.metric_value_problem(data.metric, value))
    elif kind == Kind.SCENARIO_METRIC:
        if data.scenario not in SCENARIOS:
            errors["scenario"] = ("Choose a scenario slice: "
                                  + ", ".join(s.label for s in SCENARIOS.values()) + ".")
        if data.metric and data.metric != choices.primary.key:
            errors["metric"] = (f"Scenario slices are scored on the primary metric only "
                                f"({choices.primary.label}).")
        fields["scenario"] = data.scenario
        fields["metric"] = choices.primary.key
        need_comparator()
        need_value(lambda value: rules.metric_value_problem(choices.primary.key, value))
    elif kind in (Kind.LATENCY_P99, Kind.MODEL_SIZE):
        # Upper bounds by nature: the editor hides the comparator (a hidden field is still
        # posted, so a posted comparator is ignored rather than refused).
        fields["comparator"] = rules.AT_MOST
        need_value(rules.latency_value_problem if kind == Kind.LATENCY_P99
                   else rules.model_size_value_problem)
    else:  # beats the reasonable baseline, on the primary metric
        fields["metric"] = choices.primary.key
    if errors:
        raise ValidationError(errors)
    return fields


def _check_owner(session: InterviewSession, candidate) -> None:
    if session.candidate_id != candidate.pk:
        raise ValidationError("This is not your interview session.")


def _check_step(step_number: int) -> None:
    if step_number not in CLAIM_STEPS:
        raise ValidationError("Claims belong to steps 2, 3 and 4.")


@transaction.atomic
def claim_add(*, candidate, session: InterviewSession, step_number: int,
              data: ClaimInput) -> DesignClaim:
    """Add a claim to ``step_number`` of ``candidate``'s own ``session``. Locks the
    session's row so that two tabs cannot both add the step's last allowed claim."""
    _check_owner(session, candidate)
    _check_step(step_number)
    fields = _cleaned(data, claim_choices(case_study=session.case_study))
    InterviewSession.objects.select_for_update().only("pk").get(pk=session.pk)
    if DesignClaim.objects.filter(session=session,
                                  step_number=step_number).count() >= MAX_CLAIMS_PER_STEP:
        raise ValidationError(f"A step holds at most {MAX_CLAIMS_PER_STEP} claims: edit or "
                              "delete one first.")
    return DesignClaim.objects.create(session=session, step_number=step_number, **fields)


def claim_update(*, candidate, claim: DesignClaim, data: ClaimInput) -> DesignClaim:
    """Change ``claim`` (of ``candidate``'s own session); its ``updated_at`` moves, so a
    claim changed after the linked model was scored is marked as made after scoring."""
    _check_owner(claim.session, candidate)
    fields = _cleaned(data, claim_choices(case_study=claim.session.case_study))
    for name, value in fields.items():
        setattr(claim, name, value)
    claim.save(update_fields=[*fields, "updated_at"])
    return claim


def claim_delete(*, candidate, claim: DesignClaim) -> None:
    _check_owner(claim.session, candidate)
    claim.delete()


def session_model_link(*, candidate, session: InterviewSession,
                       submission_uuid: str) -> SessionModelLink:
    """Link ``candidate``'s own ``session`` to one of their own scored submissions for the
    session's case study (replacing any earlier link). Anything else (another candidate's
    submission, another case study's, one not scored, a malformed id) gets the same
    message, so it confirms nothing about other people's submissions."""
    _check_owner(session, candidate)
    refused = ValidationError({"submission": "Choose one of your scored submissions for "
                                             "this case study."})
    submission = None
    if submission_uuid:
        try:
            submission = (Submission.objects.filter(
                uuid=submission_uuid, candidate=candidate,
                case_study_id=session.case_study_id, status=Submission.Status.SCORED).first())
        except ValidationError:  # not a UUID
            submission = None
    if submission is None or not Score.objects.filter(submission=submission,
                                                      is_current=True).exists():
        raise refused
    link, _ = SessionModelLink.objects.update_or_create(session=session,
                                                        defaults={"submission": submission})
    return link


def session_model_unlink(*, candidate, session: InterviewSession) -> None:
    _check_owner(session, candidate)
    SessionModelLink.objects.filter(session=session).delete()
