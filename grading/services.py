"""Writes for the grading app: datasets, baselines, scoring results, worker heartbeats."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import uuid
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone

from grading import datasets, metrics
from grading.artifacts import ArtifactLimits, sniff_bytes
from grading.errors import ArtifactRejected, FailureReason, ScoringError
from grading.models import (
    Dataset,
    Leaderboard,
    LeaderboardEntry,
    LeaderboardRecord,
    QuotaUsage,
    Score,
    Submission,
    WorkerHeartbeat,
)
from grading.scoring import HeldoutSplit, ScoreReport, score_artifact
from grading.selectors import sandbox_limits_for, scoring_task_for, utc_today
from interviews.models import CaseStudy

logger = logging.getLogger(__name__)

FINGERPRINT_FILE = "FINGERPRINT"


class DatasetMismatch(RuntimeError):
    """A rebuilt dataset does not have the rows its fingerprint promises."""


def worker_heartbeat_record(*, hostname: str, starting: bool = False) -> WorkerHeartbeat:
    """Record that ``hostname`` is alive, using the database clock."""
    defaults = {"seen_at": Now()}
    if starting:
        defaults["started_at"] = Now()
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        hostname=hostname, defaults=defaults, create_defaults={**defaults, "started_at": Now()}
    )
    heartbeat.refresh_from_db(fields=["seen_at", "started_at"])
    return heartbeat


# --- datasets -----------------------------------------------------------------------------


def dataset_directory(dataset: Dataset) -> Path:
    """Where this machine keeps the dataset's files: under PRIVATE_DATA_ROOT, never served
    as static or media files."""
    return Path(settings.PRIVATE_DATA_ROOT) / "datasets" / dataset.storage_key


def _write_heldout(built: datasets.BuiltDataset, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    built.heldout_features.to_parquet(directory / "features.parquet", index=False)
    np.save(directory / "labels.npy", np.asarray(built.heldout_labels), allow_pickle=False)
    np.save(directory / "slices.npy", np.asarray(built.heldout_slices).astype(str),
            allow_pickle=False)
    np.save(directory / "public.npy", np.asarray(built.heldout_public, dtype=bool),
            allow_pickle=False)
    if built.heldout_groups is not None:
        np.save(directory / "groups.npy", np.asarray(built.heldout_groups), allow_pickle=False)


def _write_dataset_files(built: datasets.BuiltDataset, target: Path) -> None:
    """Write both splits into a temporary folder, then move it into place, so a reader
    never sees half a dataset; the fingerprint file is written last."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
    try:
        datasets.write_training_files(built, staging / "train")
        _write_heldout(built, staging / "heldout")
        (staging / FINGERPRINT_FILE).write_text(built.fingerprint)
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@transaction.atomic
def dataset_build(*, case_study: CaseStudy, seed: int = datasets.DEFAULT_SEED,
                  size: str = "default", activate: bool = True
                  ) -> tuple[Dataset, datasets.BuiltDataset]:
    """Build (or rebuild) the case study's dataset from the generator, write its files and
    record it; returns the row and the built data. Building the same version, seed and size
    again must give the same fingerprint; if not, ``DatasetMismatch`` is raised."""
    built = datasets.build_dataset(case_study.slug, seed=seed, size=size)
    version = built.spec.generator_version
    dataset = Dataset.objects.filter(case_study=case_study, generator_version=version,
                                     seed=seed, size=size).first()
    if dataset is not None and dataset.fingerprint != built.fingerprint:
        raise DatasetMismatch(f"{dataset}: rebuilt rows differ from the recorded fingerprint")
    if dataset is None:
        dataset = Dataset(case_study=case_study, generator_version=version, seed=seed,
                          size=size, fingerprint=built.fingerprint, is_active=False)
    dataset.train_rows = len(built.train)
    dataset.heldout_rows = len(built.heldout_labels)
    dataset.public_rows = int(np.count_nonzero(built.heldout_public))
    dataset.build_seconds = round(built.build_seconds, 3)
    dataset.save()
    _write_dataset_files(built, dataset_directory(dataset))
    if activate:
        dataset_activate(dataset=dataset)
    return dataset, built


def dataset_activate(*, dataset: Dataset) -> None:
    with transaction.atomic():
        Dataset.objects.filter(case_study=dataset.case_study, is_active=True).exclude(
            pk=dataset.pk).update(is_active=False)
        Dataset.objects.filter(pk=dataset.pk).update(is_active=True)
    dataset.is_active = True


def dataset_materialize(*, dataset: Dataset) -> Path:
    """Make sure this machine has the dataset's files, rebuilding them from generator
    version and seed if missing, and proving by fingerprint that they are the same rows.

    Raises ``DatasetMismatch`` if this machine's generator gives other rows (for example a
    different generator version is installed)."""
    directory = dataset_directory(dataset)
    marker = directory / FINGERPRINT_FILE
    if marker.exists() and marker.read_text().strip() == dataset.fingerprint:
        return directory
    current_version = datasets.GENERATOR_VERSIONS[dataset.case_study.slug]
    if current_version != dataset.generator_version:
        raise DatasetMismatch(
            f"{dataset} needs generator v{dataset.generator_version}; this machine has "
            f"v{current_version}"
        )
    built = datasets.build_dataset(dataset.case_study.slug, seed=dataset.seed, size=dataset.size)
    if built.fingerprint != dataset.fingerprint:
        raise DatasetMismatch(f"{dataset}: rebuilt fingerprint {built.fingerprint[:12]} "
                              f"differs from recorded {dataset.fingerprint[:12]}")
    _write_dataset_files(built, directory)
    logger.info("rebuilt %s from version and seed; fingerprint verified", dataset)
    return directory


def heldout_load(*, dataset: Dataset) -> HeldoutSplit:
    """The held-out split of ``dataset`` (materialized on this machine if needed)."""
    directory = dataset_materialize(dataset=dataset) / "heldout"
    groups_path = directory / "groups.npy"
    return HeldoutSplit(
        features=pd.read_parquet(directory / "features.parquet"),
        labels=np.load(directory / "labels.npy", allow_pickle=False),
        groups=np.load(groups_path, allow_pickle=False) if groups_path.exists() else None,
        slices=np.load(directory / "slices.npy", allow_pickle=False),
        public=np.load(directory / "public.npy", allow_pickle=False),
    )


def training_file_path(*, dataset: Dataset, name: str) -> Path:
    """A downloadable training file of ``dataset``; only the training split's files."""
    allowed = {"train.csv", "train.parquet", "data_dictionary.json", "data_dictionary.md"}
    if name not in allowed:
        raise FileNotFoundError(name)
    return dataset_materialize(dataset=dataset) / "train" / name


# --- submissions and scores ----------------------------------------------------------------


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
            plots=report.plots,
            latency_p50_ms=report.latency_p50_ms,
            latency_p99_ms=report.latency_p99_ms,
            latency_budget_ms=report.latency_budget_ms,
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
        leaderboard_after_score(score=score)
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


# --- the submission pipeline ---------------------------------------------------------------


class SubmissionRefused(Exception):
    """An upload was refused before it became a submission; ``message`` is for the
    candidate. Nothing was stored and no quota was used."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def leaderboard_for(case_study: CaseStudy) -> Leaderboard:
    leaderboard, _ = Leaderboard.objects.get_or_create(case_study=case_study)
    return leaderboard


def quota_take(*, candidate: AbstractBaseUser, case_study: CaseStudy, limit: int) -> date:
    """Count one submission against today's quota, or raise ``SubmissionRefused``. A single
    conditional UPDATE, so concurrent uploads can never exceed ``limit``. Call inside the
    transaction that creates the submission, so a failure gives the slot back."""
    day = utc_today()
    usage, _ = QuotaUsage.objects.get_or_create(candidate=candidate, case_study=case_study,
                                                day=day)
    taken = QuotaUsage.objects.filter(pk=usage.pk, used__lt=limit).update(used=F("used") + 1)
    if not taken:
        raise SubmissionRefused(
            f"You have used all {limit} submissions for {case_study.title} today (UTC). "
            "The quota resets at midnight UTC.", code="quota")
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


def _sniff_upload(upload: UploadedFile, limits: ArtifactLimits) -> str:
    if upload.size is not None and upload.size > limits.max_file_bytes:
        raise SubmissionRefused(
            f"The file is {upload.size / 1e6:.1f} MB; the limit is "
            f"{limits.max_file_bytes / 1e6:.0f} MB.", code="too_large")
    upload.seek(0)
    data = upload.read(limits.max_file_bytes + 1)
    upload.seek(0)
    try:
        return str(sniff_bytes(data, limits))
    except ArtifactRejected as error:
        raise SubmissionRefused(error.message, code=error.code or "invalid_artifact") from error


def submission_create(*, candidate: AbstractBaseUser, case_study: CaseStudy,
                      upload: UploadedFile, note: str = "") -> Submission:
    """Accept an upload: check size and format at once (refusals use no quota), count it
    against today's quota, store the artifact through the storage API, and enqueue scoring
    after the transaction commits. Raises ``SubmissionRefused``."""
    leaderboard = leaderboard_for(case_study)
    if leaderboard.is_closed:
        raise SubmissionRefused("This round is closed; submissions are no longer accepted.",
                                code="closed")
    if not Dataset.objects.filter(case_study=case_study, is_active=True).exists():
        raise SubmissionRefused("Scoring for this case study is not open yet.", code="no_data")
    limits = ArtifactLimits(max_file_bytes=settings.MODEL_UPLOAD_MAX_BYTES)
    fmt = _sniff_upload(upload, limits)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    with transaction.atomic():
        day = quota_take(candidate=candidate, case_study=case_study,
                         limit=leaderboard.daily_quota)
        submission = Submission(
            uuid=uuid.uuid4(), case_study=case_study, candidate=candidate,
            original_filename=(upload.name or "")[-255:], note=note[:500],
            artifact_format=fmt, artifact_bytes=upload.size or 0,
            artifact_sha256=digest.hexdigest(), quota_day=day, enqueued_at=timezone.now(),
        )
        submission.artifact.save(f"{submission.uuid}.bin", upload, save=False)
        submission.save()
        transaction.on_commit(lambda: submission_enqueue(submission_id=submission.pk))
    return submission


def submission_enqueue(*, submission_id: int) -> None:
    from grading.tasks import score_submission_task

    score_submission_task.delay(submission_id)


def submission_fail(*, submission: Submission, error: ScoringError) -> None:
    """Mark ``submission`` failed with ``error``'s reason and message. A failure on our side
    (``internal_error``) gives the candidate's quota slot back. Call with the row locked,
    or where nothing else writes it (baselines, the command line)."""
    submission.status = Submission.Status.FAILED
    submission.failure_reason = str(error.reason)
    submission.failure_message = error.message
    submission.finished_at = timezone.now()
    submission.save(update_fields=["status", "failure_reason", "failure_message",
                                   "finished_at"])
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
    heldout = heldout_load(dataset=dataset)
    with submission.artifact.open("rb") as source, tempfile.NamedTemporaryFile(
            suffix=".bin") as local:
        shutil.copyfileobj(source, local)
        local.flush()
        task = scoring_task_for(submission.case_study)
        return score_artifact(artifact_path=local.name, task=task, heldout=heldout,
                              limits=sandbox_limits_for(task))


def submissions_requeue_stuck() -> list[int]:
    """Re-enqueue submissions whose message was lost (queued too long) or whose worker died
    (running too long). Safe to run any time: ``submission_score`` is idempotent."""
    now = timezone.now()
    stuck = Submission.objects.filter(
        Q(status=Submission.Status.QUEUED,
          enqueued_at__lt=now - timedelta(seconds=settings.SCORING_QUEUED_TIMEOUT))
        | Q(status=Submission.Status.RUNNING,
            started_at__lt=now - timedelta(seconds=settings.SCORING_RUNNING_TIMEOUT))
    ).values_list("pk", flat=True)
    ids = list(stuck)
    for submission_id in ids:
        Submission.objects.filter(pk=submission_id).update(enqueued_at=now)
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


def leaderboard_close(*, leaderboard: Leaderboard) -> None:
    Leaderboard.objects.filter(pk=leaderboard.pk).update(is_closed=True,
                                                          closed_at=timezone.now())


def leaderboard_reopen(*, leaderboard: Leaderboard) -> None:
    Leaderboard.objects.filter(pk=leaderboard.pk).update(is_closed=False, closed_at=None)


# --- leaderboards ----------------------------------------------------------------------------


def sort_value(metric_key: str, value: float) -> float:
    """A number where larger is better, whatever the metric's direction."""
    direction = metrics.metric_get(metric_key).direction
    if direction == metrics.Direction.HIGHER:
        return value
    if direction == metrics.Direction.LOWER:
        return -value
    return -abs(value - 1.0)


def leaderboard_entry_refresh(*, case_study: CaseStudy, candidate_id: int | None = None,
                              submission: Submission | None = None) -> LeaderboardEntry | None:
    """Recompute one leaderboard row: a candidate's (pinned, else best public score on the
    active dataset) or a baseline submission's. Deletes the row when nothing is scored."""
    leaderboard = leaderboard_for(case_study)
    scores = Score.objects.filter(
        is_current=True, dataset__case_study=case_study, dataset__is_active=True,
        submission__status=Submission.Status.SCORED,
    ).select_related("submission")
    if candidate_id is not None:
        scores = scores.filter(submission__candidate_id=candidate_id)
        existing = LeaderboardEntry.objects.filter(leaderboard=leaderboard,
                                                   candidate_id=candidate_id)
    else:
        scores = scores.filter(submission=submission)
        existing = LeaderboardEntry.objects.filter(leaderboard=leaderboard,
                                                   submission=submission)
    candidates = list(scores)
    if not candidates:
        existing.delete()
        return None
    pinned = [s for s in candidates if s.submission.is_pinned]
    chosen = pinned[0] if pinned else max(
        candidates, key=lambda s: (sort_value(s.primary_metric, s.public_primary),
                                   -s.submission.created_at.timestamp()))
    chosen_submission = chosen.submission
    if candidate_id is not None:
        counts = Submission.objects.filter(candidate_id=candidate_id, case_study=case_study)
        submission_count = counts.count()
        last_submitted_at = counts.order_by("-created_at").values_list(
            "created_at", flat=True).first()
        display_name = chosen_submission.candidate.get_username()
    else:
        submission_count, last_submitted_at = 1, chosen_submission.created_at
        display_name = chosen_submission.baseline_name
    fields = {
        "submission": chosen_submission,
        "display_name": display_name,
        "is_baseline": chosen_submission.is_baseline,
        "is_pinned": chosen_submission.is_pinned,
        "public_primary": chosen.public_primary,
        "public_ci_low": chosen.public_ci_low,
        "public_ci_high": chosen.public_ci_high,
        "private_primary": chosen.private_primary,
        "private_ci_low": chosen.private_ci_low,
        "private_ci_high": chosen.private_ci_high,
        "public_sort": sort_value(chosen.primary_metric, chosen.public_primary),
        "private_sort": sort_value(chosen.primary_metric, chosen.private_primary),
        "metrics": {"public": chosen.metrics.get("public", {}),
                    "private": chosen.metrics.get("private", {})},
        "latency_p99_ms": chosen.latency_p99_ms,
        "latency_budget_ms": chosen.latency_budget_ms,
        "artifact_bytes": chosen.artifact_bytes,
        "submission_count": submission_count,
        "last_submitted_at": last_submitted_at,
        "scored_at": chosen.created_at,
    }
    with transaction.atomic():
        if candidate_id is not None:
            entry, _ = LeaderboardEntry.objects.update_or_create(
                leaderboard=leaderboard, candidate_id=candidate_id, defaults=fields)
        else:
            entry, _ = LeaderboardEntry.objects.update_or_create(
                leaderboard=leaderboard, submission=chosen_submission, defaults=fields)
    return entry


def leaderboard_record_if_best(*, score: Score) -> bool:
    """Append to the best-score-over-time history if ``score`` beats every earlier
    candidate score (baselines are reference lines, not records)."""
    if score.submission.is_baseline:
        return False
    leaderboard = leaderboard_for(score.submission.case_study)
    new_value = sort_value(score.primary_metric, score.public_primary)
    with transaction.atomic():
        Leaderboard.objects.select_for_update().filter(pk=leaderboard.pk).first()
        best = leaderboard.records.order_by("-achieved_at").first()
        if best is not None and sort_value(score.primary_metric,
                                           best.public_primary) >= new_value:
            return False
        LeaderboardRecord.objects.create(leaderboard=leaderboard, submission=score.submission,
                                         public_primary=score.public_primary,
                                         achieved_at=score.created_at)
    return True


def leaderboard_after_score(*, score: Score) -> None:
    submission = score.submission
    leaderboard_entry_refresh(case_study=submission.case_study,
                              candidate_id=submission.candidate_id,
                              submission=None if submission.candidate_id else submission)
    leaderboard_record_if_best(score=score)
