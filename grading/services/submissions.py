"""Writes for submissions: the upload (static checks in a bounded child, then quota taken,
artifact stored, scoring enqueued on commit), the idempotent scoring job, failures with
typed reasons, pinning, the stuck-submission sweep and rescoring."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from grading.engine.artifacts import MiB, mib_text
from grading.engine.errors import FailureReason, ScoringError
from grading.engine.sandbox import check_in_sandbox
from grading.engine.scoring import ScoreReport, score_artifact
from grading.models import (
    Dataset,
    QuotaUsage,
    Score,
    Submission,
)
from grading.selectors.datasets import sandbox_limits_for, scoring_task_for
from grading.selectors.submissions import quota_remaining, utc_today
from grading.services.datasets import DatasetMismatch, heldout_load
from grading.services.leaderboards import (
    leaderboard_after_score,
    leaderboard_entry_refresh,
    leaderboard_entry_sent_refresh,
    leaderboard_for,
)
from interviews.models import CaseStudy

logger = logging.getLogger(__name__)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@transaction.atomic
def baseline_submission_create(*, case_study: CaseStudy, name: str, artifact_path: Path,
                               note: str = "") -> Submission:
    """Store a baseline artifact like any upload; any earlier baseline of that name is
    replaced, so the leaderboard keeps one row per baseline."""
    Submission.objects.filter(case_study=case_study, baseline_name=name).delete()
    submission = Submission(uuid=uuid.uuid4(), case_study=case_study, baseline_name=name,
                            original_filename=artifact_path.name, note=note,
                            artifact_bytes=artifact_path.stat().st_size,
                            artifact_sha256=_sha256(artifact_path))
    with artifact_path.open("rb") as handle:
        submission.artifact.save(f"{submission.uuid}.bin", File(handle), save=False)
    submission.save()
    return submission


def score_report_save(*, submission: Submission, dataset: Dataset, report: ScoreReport) -> Score:
    """Store ``report`` as the submission's current score (earlier ones become history)."""
    with transaction.atomic():
        Score.objects.filter(submission=submission, is_current=True).update(is_current=False)
        score = Score.objects.create(
            submission=submission,
            dataset=dataset,
            scorer_version=report.scorer_version,
            primary_metric=report.primary_metric,
            public_primary=report.primary("public"),
            private_primary=report.primary("private"),
            public_ci_low=report.intervals["public"]["low"],
            public_ci_high=report.intervals["public"]["high"],
            private_ci_low=report.intervals["private"]["low"],
            private_ci_high=report.intervals["private"]["high"],
            metrics=report.metrics,
            per_slice=report.per_slice,
            scenarios=report.scenarios,
            plots=report.plots,
            latency_p50_ms=report.latency_p50_ms,
            latency_p99_ms=report.latency_p99_ms,
            latency_budget_ms=report.latency_budget_ms,
            serving=report.serving,
            artifact_bytes=report.artifact_bytes,
            scoring_seconds=report.timings.get("total_seconds", 0.0),
            network_isolated=report.network_isolated,
        )
        Submission.objects.filter(pk=submission.pk).update(
            status=Submission.Status.SCORED, failure_reason="", failure_message="",
            artifact_format=report.artifact_format, finished_at=timezone.now(),
        )
        submission.status = Submission.Status.SCORED
        score.submission = submission
        leaderboard_after_score(score=score, public_predictions=report.public_predictions)
    return score


def submission_score_now(*, submission: Submission) -> Score | None:
    """Score ``submission`` on its case study's active dataset in this process and store
    the result or the typed failure (baselines and the command line; candidates' uploads go
    through ``submission_score`` on a worker)."""
    dataset = Dataset.objects.select_related("case_study").get(
        case_study=submission.case_study, is_active=True)
    try:
        report = _score_submission_artifact(submission, dataset)
    except ScoringError as error:
        submission_fail(submission=submission, error=error)
        return None
    except DatasetMismatch:
        logger.exception("dataset mismatch while scoring %s", submission.pk)
        submission_fail(submission=submission, error=ScoringError(
            FailureReason.INTERNAL_ERROR, "The scoring data on this machine does not match."))
        return None
    return score_report_save(submission=submission, dataset=dataset, report=report)


def report_as_json(report: ScoreReport, *, include_plots: bool = False) -> str:
    body = report.to_dict()
    if not include_plots:
        body.pop("plots")
    return json.dumps(body, indent=2, sort_keys=True, default=str)


class SubmissionRefused(Exception):
    """An upload was refused before it became a submission; ``message`` is for the
    candidate. Nothing was stored and no quota was used."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _quota_refusal(*, case_study: CaseStudy, limit: int) -> SubmissionRefused:
    return SubmissionRefused(
        f"You have used all {limit} submissions for {case_study.title} today (UTC). "
        "The quota resets at midnight UTC.", code="quota")


def quota_take(*, candidate: AbstractBaseUser, case_study: CaseStudy, limit: int) -> date:
    """Count one submission against today's quota, or raise ``SubmissionRefused``. A single
    conditional UPDATE, so concurrent uploads can never exceed ``limit``. Call inside the
    transaction that creates the submission, so a failure gives the slot back."""
    day = utc_today()
    usage, _ = QuotaUsage.objects.get_or_create(candidate=candidate, case_study=case_study,
                                                day=day)
    taken = QuotaUsage.objects.filter(pk=usage.pk, used__lt=limit).update(used=F("used") + 1)
    if not taken:
        raise _quota_refusal(case_study=case_study, limit=limit)
    return day


def quota_refund(*, submission: Submission) -> None:
    """Give back the quota slot of a submission that failed through our fault."""
    if submission.candidate_id is None or submission.quota_day is None:
        return
    refunded = Submission.objects.filter(pk=submission.pk, quota_refunded=False).update(
        quota_refunded=True)
    if refunded:
        QuotaUsage.objects.filter(candidate_id=submission.candidate_id,
                                  case_study_id=submission.case_study_id,
                                  day=submission.quota_day, used__gt=0).update(
            used=F("used") - 1)


def _upload_bytes(upload: UploadedFile, limit: int) -> bytes:
    if upload.size is not None and upload.size > limit:
        raise SubmissionRefused(upload_too_large_message(upload.size, limit), code="too_large")
    upload.seek(0)
    data = upload.read(limit + 1)
    upload.seek(0)
    return data


def upload_too_large_message(size: int, limit: int) -> str:
    """The one wording of an over-the-limit file, in MiB (the form, this service and the
    upload page's script say the same)."""
    return f"The file is {size / MiB:.1f} MiB; the limit is {mib_text(limit)}."


def _static_check(data: bytes, case_study: CaseStudy) -> str:
    """The upload's static checks in a bounded child (``check_in_sandbox``); the format.
    Raises ``SubmissionRefused`` with the file's problem: nothing stored, no quota used."""
    task = scoring_task_for(case_study)
    try:
        checked = check_in_sandbox(data, task.contract, sandbox_limits_for(task))
    except ScoringError as error:
        raise SubmissionRefused(error.message, code=error.code or str(error.reason)) from error
    return str(checked.format)


def submission_create(*, candidate: AbstractBaseUser, case_study: CaseStudy,
                      upload: UploadedFile, note: str = "") -> Submission:
    """Accept an upload: check its size, then its format and everything statically visible
    (external data, custom operators, inputs and outputs off the contract, refused skops
    types) in a bounded child, all before a quota slot is taken, so only the model's
    behaviour on held-out data can cost one. Then count it against today's quota, store the
    artifact through the storage API, and enqueue scoring after the transaction commits.
    Raises ``SubmissionRefused``. Takes about half a second for an ONNX model, a second
    and a half for skops (the child imports scikit-learn)."""
    leaderboard = leaderboard_for(case_study)
    if leaderboard.is_closed:
        raise SubmissionRefused("This round is closed; submissions are no longer accepted.",
                                code="closed")
    if not Dataset.objects.filter(case_study=case_study, is_active=True).exists():
        raise SubmissionRefused("Scoring for this case study is not open yet.", code="no_data")
    remaining, quota = quota_remaining(user=candidate, case_study=case_study,
                                       leaderboard=leaderboard)
    if remaining <= 0:  # before the checks' child; quota_take below decides for certain
        raise _quota_refusal(case_study=case_study, limit=quota)
    data = _upload_bytes(upload, settings.MODEL_UPLOAD_MAX_BYTES)
    fmt = _static_check(data, case_study)
    digest = hashlib.sha256(data).hexdigest()
    del data
    with transaction.atomic():
        day = quota_take(candidate=candidate, case_study=case_study,
                         limit=leaderboard.daily_quota)
        submission = Submission(
            uuid=uuid.uuid4(), case_study=case_study, candidate=candidate,
            original_filename=(upload.name or "")[-255:], note=note[:500],
            artifact_format=fmt, artifact_bytes=upload.size or 0,
            artifact_sha256=digest, quota_day=day, enqueued_at=timezone.now(),
        )
        submission.artifact.save(f"{submission.uuid}.bin", upload, save=False)
        submission.save()
        transaction.on_commit(lambda: submission_enqueue(submission_id=submission.pk))
    return submission


SCORE_TASK = "grading.score_submission"


def submission_enqueue(*, submission_id: int) -> None:
    """Queue the scoring task. It is looked up by name in Celery's registry: tasks call
    services, so services never import the tasks module (an import contract)."""
    current_app.tasks[SCORE_TASK].delay(submission_id)


def submission_fail(*, submission: Submission, error: ScoringError) -> None:
    """Mark ``submission`` failed with ``error``'s reason and message. A failure on our side
    (``internal_error``) gives the candidate's quota slot back. Call with the row locked,
    or where nothing else writes it (baselines, the command line)."""
    submission.status = Submission.Status.FAILED
    submission.failure_reason = str(error.reason)
    submission.failure_message = error.message
    submission.failure_code = (error.code or "")[:40]
    submission.finished_at = timezone.now()
    submission.save(update_fields=["status", "failure_reason", "failure_message",
                                   "failure_code", "finished_at"])
    # The board counts what a candidate sent, failures too; a failure moves no score.
    leaderboard_entry_sent_refresh(submission=submission)
    if error.reason == FailureReason.INTERNAL_ERROR:
        quota_refund(submission=submission)


def submission_score(*, submission_id: int) -> str:
    """Score a queued submission once, however often the task is delivered.

    Locks the row, refuses final states, counts the attempt and gives up with
    ``internal_error`` (quota refunded) past ``SCORING_MAX_ATTEMPTS``. The scoring itself
    runs outside the lock; its result is written only if this attempt is still the
    latest, so a duplicate delivery can never store two scores. Returns what happened."""
    with transaction.atomic():
        submission = (Submission.objects.select_for_update().select_related("case_study")
                      .filter(pk=submission_id).first())
        if submission is None:
            return "missing"
        if submission.is_final:
            return "already_final"
        if submission.attempts >= settings.SCORING_MAX_ATTEMPTS:
            submission_fail(submission=submission, error=ScoringError(
                FailureReason.INTERNAL_ERROR,
                f"We could not score this model after {submission.attempts} attempts "
                "because a scoring worker stopped. It did not count against your quota; "
                "please submit it again.", code="attempts_exhausted"))
            return "gave_up"
        submission.attempts += 1
        submission.status = Submission.Status.RUNNING
        submission.started_at = timezone.now()
        submission.save(update_fields=["attempts", "status", "started_at"])
        attempt = submission.attempts

    report = error = None
    try:
        dataset = Dataset.objects.get(case_study=submission.case_study, is_active=True)
        report = _score_submission_artifact(submission, dataset)
    except ScoringError as exc:
        error = exc
    except Exception:  # noqa: BLE001 - anything of ours is an internal error, never a crash
        logger.exception("scoring submission %s failed", submission_id)
        error = ScoringError(FailureReason.INTERNAL_ERROR,
                             "Scoring failed on our side. It did not count against your "
                             "quota; please try again later.", code="unexpected")

    with transaction.atomic():
        current = Submission.objects.select_for_update().get(pk=submission_id)
        if current.is_final or current.attempts != attempt:
            return "superseded"
        if error is not None:
            submission_fail(submission=current, error=error)
            return "failed"
        score_report_save(submission=current, dataset=dataset, report=report)
        return "scored"


def _score_submission_artifact(submission: Submission, dataset: Dataset) -> ScoreReport:
    task = scoring_task_for(submission.case_study)
    # The features as the sandbox reads them, written once per dataset and contract.
    heldout = heldout_load(dataset=dataset, contract=task.contract)
    with submission.artifact.open("rb") as source, tempfile.NamedTemporaryFile(
            suffix=".bin") as local:
        shutil.copyfileobj(source, local)
        local.flush()
        return score_artifact(artifact_path=local.name, task=task, heldout=heldout,
                              limits=sandbox_limits_for(task))


# A second look, this long after the first, before a message is called lost: a worker that
# has just taken a message from the queue marks its submission running a moment later.
LOST_CONFIRM_SECONDS = 1.0


def _scoring_queue_length() -> int:
    """Messages waiting in the scoring queue (``LLEN`` on Redis); 0 when tasks run eagerly
    (no broker holds anything) or the broker has no such queue yet."""
    if current_app.conf.task_always_eager:
        return 0
    with current_app.connection_for_read() as connection:
        try:
            declared = connection.default_channel.queue_declare(
                queue=settings.SCORING_QUEUE, passive=True)
        except connection.channel_errors:
            return 0
        return declared.message_count


def _waiting_without_message(*, overdue_before) -> set[int]:
    """The overdue submissions among those waiting for a scoring message that the queue
    cannot be holding a message for (see ``submissions_requeue_stuck``)."""
    messages = _scoring_queue_length()  # first: a message taken since then is still counted
    waiting = list(
        Submission.objects.filter(enqueued_at__isnull=False)
        .filter(Q(status=Submission.Status.QUEUED)
                | Q(status=Submission.Status.RUNNING, enqueued_at__gt=F("started_at")))
        .order_by(F("enqueued_at").desc(), "-pk").values_list("pk", "enqueued_at"))
    return {pk for pk, enqueued_at in waiting[messages:] if enqueued_at < overdue_before}


def submissions_requeue_stuck() -> list[int]:
    """Re-enqueue the submissions whose scoring message is lost; returns their ids. Safe to
    run any time (``submission_score`` is idempotent), and it never piles up messages.

    Which messages are lost: the scoring queue is first in, first out, and ``enqueued_at``
    records when each waiting submission's message joined it. So if the queue holds M
    messages, they can only be those of the M most recently enqueued waiting submissions;
    any older one waiting past ``SCORING_QUEUED_TIMEOUT`` has no message left (a flushed
    broker, a publish that never arrived) and is sent again, its ``enqueued_at`` moved to
    now, which is where its new message stands. Under a backlog every waiting submission
    is covered by a message, however long it waits, so the sweep sends nothing. The two
    looks ``LOST_CONFIRM_SECONDS`` apart keep a message that a worker has just taken (its
    submission not yet running) from counting as lost. Duplicates already in the queue
    only make the sweep wait until they are consumed.

    A submission running longer than ``SCORING_RUNNING_TIMEOUT`` (past the task's hard
    limit: its worker died) is re-enqueued once; from then on it waits like a queued one
    (``enqueued_at`` after ``started_at``) until a worker starts it again."""
    now = timezone.now()
    dead = set(Submission.objects.filter(
        status=Submission.Status.RUNNING,
        started_at__lt=now - timedelta(seconds=settings.SCORING_RUNNING_TIMEOUT),
    ).exclude(enqueued_at__gt=F("started_at")).values_list("pk", flat=True))
    overdue_before = now - timedelta(seconds=settings.SCORING_QUEUED_TIMEOUT)
    lost = _waiting_without_message(overdue_before=overdue_before)
    if lost and not current_app.conf.task_always_eager:
        time.sleep(LOST_CONFIRM_SECONDS)
        lost &= _waiting_without_message(overdue_before=overdue_before)
    ids = sorted(dead | lost)
    for submission_id in ids:
        Submission.objects.filter(pk=submission_id).update(enqueued_at=timezone.now())
        submission_enqueue(submission_id=submission_id)
    if ids:
        logger.warning("re-enqueued %d stuck submissions: %s", len(ids), ids)
    return ids


def submission_pin(*, submission: Submission) -> None:
    """Make ``submission`` the candidate's leaderboard entry for its case study."""
    if submission.status != Submission.Status.SCORED or submission.candidate_id is None:
        raise SubmissionRefused("Only a scored submission can be pinned.", code="not_scored")
    with transaction.atomic():
        Submission.objects.filter(candidate_id=submission.candidate_id,
                                  case_study_id=submission.case_study_id,
                                  is_pinned=True).update(is_pinned=False)
        Submission.objects.filter(pk=submission.pk).update(is_pinned=True)
        submission.is_pinned = True
        leaderboard_entry_refresh(case_study=submission.case_study,
                                  candidate_id=submission.candidate_id)


def submission_unpin(*, candidate: AbstractBaseUser, case_study: CaseStudy) -> None:
    with transaction.atomic():
        Submission.objects.filter(candidate=candidate, case_study=case_study,
                                  is_pinned=True).update(is_pinned=False)
        leaderboard_entry_refresh(case_study=case_study, candidate_id=candidate.pk)


def case_study_rescore(*, case_study: CaseStudy) -> int:
    """Queue every scored or failed-by-us submission of ``case_study`` again, after a
    dataset or scorer version change. Scores already stored stay as history."""
    ids = list(Submission.objects.filter(case_study=case_study).exclude(
        status=Submission.Status.FAILED, failure_reason__in=[
            "invalid_artifact", "invalid_output", "resource_limit", "timeout"],
    ).values_list("pk", flat=True))
    Submission.objects.filter(pk__in=ids).update(
        status=Submission.Status.QUEUED, failure_reason="", failure_message="", attempts=0,
        enqueued_at=timezone.now(), started_at=None, finished_at=None)
    for submission_id in ids:
        transaction.on_commit(lambda pk=submission_id: submission_enqueue(submission_id=pk))
    return len(ids)
