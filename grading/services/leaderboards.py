"""Writes for leaderboards: one row per candidate (pinned, else best public score) or
baseline, the best-score history, and closing or reopening a round."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from grading.engine import metrics
from grading.models import (
    Leaderboard,
    LeaderboardEntry,
    LeaderboardRecord,
    Score,
    Submission,
)
from interviews.models import CaseStudy


def leaderboard_for(case_study: CaseStudy) -> Leaderboard:
    leaderboard, _ = Leaderboard.objects.get_or_create(case_study=case_study)
    return leaderboard


def leaderboard_close(*, leaderboard: Leaderboard) -> None:
    Leaderboard.objects.filter(pk=leaderboard.pk).update(is_closed=True,
                                                          closed_at=timezone.now())


def leaderboard_reopen(*, leaderboard: Leaderboard) -> None:
    Leaderboard.objects.filter(pk=leaderboard.pk).update(is_closed=False, closed_at=None)


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
