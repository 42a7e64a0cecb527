"""Writes for leaderboards: one row per candidate (pinned, else best public score) or
baseline, the public score the board shows (the Ladder), the best-score history, and
closing or reopening a round.

The public board runs the parameter-free Ladder (Blum & Hardt, ICML 2015): a candidate's
shown public score changes only when a new submission is clearly better than the one shown,
so that submitting many variants cannot climb the board on the luck of the public rows
(``ladder_clearly_better``). Shown values are rounded to the board's ``public_decimals``
when stored, so the order of the board says no more than the numbers on it."""

from __future__ import annotations

import io
import logging
import math
import zlib
from datetime import datetime

import numpy as np
from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery
from django.utils import timezone

from grading.engine import metrics
from grading.models import (
    Dataset,
    Leaderboard,
    LeaderboardEntry,
    LeaderboardRecord,
    Score,
    Submission,
)
from grading.services.datasets import heldout_public_labels
from interviews.models import CaseStudy

logger = logging.getLogger(__name__)


def leaderboard_for(case_study: CaseStudy) -> Leaderboard:
    leaderboard, _ = Leaderboard.objects.get_or_create(case_study=case_study)
    return leaderboard


def _leaderboard_touch(**lookup) -> None:
    """Write the leaderboard's row in the caller's transaction, changing nothing in it: its
    change marker moves on (``selectors.leaderboards.leaderboard_change``), so its cached
    pages are drawn again from the first request after the commit. Every write to what a
    board shows calls it (closing and reopening write the row anyway). Takes the row's lock
    until the commit: call it before writing entries, as ``_entry_refresh`` locks."""
    Leaderboard.objects.filter(**lookup).update(public_decimals=F("public_decimals"))


def leaderboard_changed(*, leaderboard_id: int) -> None:
    """Say that a board changed outside the scoring services (an admin's edit of an entry),
    so its cached pages are drawn again."""
    _leaderboard_touch(pk=leaderboard_id)


class RoundReopenRefused(Exception):
    """A closed round cannot reopen on the data it was closed on; the message says why, in
    words for the admin."""


def leaderboard_close(*, leaderboard: Leaderboard) -> None:
    """Close the round: uploads stop and the private ranking shows. Records the active
    dataset, whose private split is revealed from now on (see ``leaderboard_reopen``)."""
    active = Dataset.objects.filter(case_study_id=leaderboard.case_study_id,
                                    is_active=True).first()
    Leaderboard.objects.filter(pk=leaderboard.pk).update(
        is_closed=True, closed_at=timezone.now(), closed_dataset=active)


def reopen_refusal(*, leaderboard: Leaderboard, active: Dataset | None) -> str | None:
    """Why the closed round cannot reopen with ``active`` as the case study's active
    dataset, or None. A closed round has shown every private score: reopening on the same
    held-out rows would let candidates fit the revealed private split. So the active dataset
    must be a newer data version than the one the round closed on (with another
    fingerprint), built after the close: every dataset an earlier close revealed was built
    before it, which also covers a round closed before ``closed_dataset`` was recorded."""
    if not leaderboard.is_closed:
        return None
    if active is None:
        return "No dataset is active: build a new data version first."
    revealed = leaderboard.closed_dataset
    if revealed is not None and (active.pk == revealed.pk
                                 or active.data_version <= revealed.data_version
                                 or active.fingerprint == revealed.fingerprint):
        return (f"The round closed on {revealed}, whose private split is now revealed: "
                f"build a new data version (build_datasets --new-version) and activate it "
                f"to reopen the round.")
    if leaderboard.closed_at is not None and active.created_at <= leaderboard.closed_at:
        return (f"{active} was built before the round closed: build a new data version "
                f"(build_datasets --new-version) and activate it to reopen the round.")
    return None


def leaderboard_reopen(*, leaderboard: Leaderboard) -> None:
    """Reopen a closed round, only on a new dataset version (``reopen_refusal``); raises
    ``RoundReopenRefused`` otherwise. Reopening an open round changes nothing."""
    with transaction.atomic():
        locked = (Leaderboard.objects.select_for_update(of=("self",))
                  .select_related("closed_dataset").get(pk=leaderboard.pk))
        active = Dataset.objects.filter(case_study_id=locked.case_study_id,
                                        is_active=True).first()
        refusal = reopen_refusal(leaderboard=locked, active=active)
        if refusal is not None:
            raise RoundReopenRefused(refusal)
        Leaderboard.objects.filter(pk=locked.pk).update(is_closed=False, closed_at=None)


def sort_value(metric_key: str, value: float) -> float:
    """A number where larger is better, whatever the metric's direction."""
    direction = metrics.metric_get(metric_key).direction
    if direction == metrics.Direction.HIGHER:
        return value
    if direction == metrics.Direction.LOWER:
        return -value
    return -abs(value - 1.0)


def public_round(value: float, decimals: int) -> float:
    """``value`` as the public board shows it: rounded to the leaderboard's decimals."""
    return round(float(value), decimals)


def _public_metrics(values: dict[str, float], decimals: int) -> dict[str, float]:
    return {key: public_round(value, decimals) for key, value in values.items()}


def board_serving(serving: dict) -> dict:
    """The serving figures a leaderboard row shows, from a score's ``serving``: p99 at the
    target rate, the highest rate within budget and the cost per million predictions
    (measured on the server, not from labels: shown at full precision during a round).
    Empty for a score from before the load test."""
    at_target = serving.get("at_target")
    if not at_target:
        return {}
    return {
        "target_rps": serving["target_rps"],
        "budget_ms": serving["budget_ms"],
        "p99_ms": at_target["p99_ms"],
        "within_budget": at_target["within_budget"],
        "max_rate_within_budget_rps": serving["max_rate_within_budget_rps"],
        "cost_per_million_usd": serving["cost_per_million_usd"],
    }


# The parameter-free Ladder releases a score that beats the shown one by more than one
# standard error of the paired difference (|z| > 1); as the two-sided p-value that
# ``metrics.paired_difference`` returns, that is p < erfc(1 / sqrt(2)), about 0.317.
LADDER_P_VALUE = math.erfc(1 / math.sqrt(2))
Z_95 = 1.959963984540054  # half-width of a 95 % normal interval, in standard errors


def predictions_pack(values: np.ndarray) -> bytes:
    """The public-row predictions as stored on the entry: a compressed ``.npy`` (no pickle)."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(values, dtype=np.float64).reshape(-1), allow_pickle=False)
    return zlib.compress(buffer.getvalue(), 1)


def predictions_unpack(blob: bytes | memoryview | None) -> np.ndarray | None:
    if not blob:
        return None
    return np.load(io.BytesIO(zlib.decompress(bytes(blob))), allow_pickle=False)


def ladder_paired_verdict(new: Score, new_predictions: np.ndarray,
                          leader_predictions: np.ndarray) -> bool | None:
    """Whether ``new`` beats the leader by more than one standard error of the paired
    difference on the public rows; None when the paired test cannot be made here."""
    key = new.primary_metric
    try:
        labels, groups = heldout_public_labels(dataset=new.dataset)
    except Exception:  # noqa: BLE001 - the score is stored either way; fall back, loudly
        logger.exception("ladder: held-out data of %s unavailable; unpaired comparison",
                         new.dataset_id)
        return None
    if not len(labels) == len(new_predictions) == len(leader_predictions):
        return None
    try:
        difference, p_value = metrics.paired_difference(key, labels, new_predictions,
                                                        leader_predictions, groups)
    except ValueError:  # MetricUndefined included: no paired test on these rows
        return None
    if metrics.metric_get(key).direction == metrics.Direction.HIGHER:
        better = difference > 0
    else:  # lower, or closer to 1 (the difference is then in distances to 1)
        better = difference < 0
    return better and p_value < LADDER_P_VALUE


def ladder_clearly_better(*, new: Score, leader: Score, new_predictions: np.ndarray | None,
                          leader_predictions: np.ndarray | None) -> bool:
    """The parameter-free Ladder's test (Blum & Hardt, "The Ladder: A Reliable Leaderboard
    for Machine Learning Competitions", ICML 2015; the authors' code, github.com/mrtzh/
    Ladder.jl, releases a loss below the shown one minus s / sqrt(n), s the standard
    deviation of the per-row loss differences): release ``new``'s public score only if it
    beats the shown one (``leader``'s) by more than one standard error of their paired
    difference on the same public rows (``metrics.paired_difference``: per-row losses,
    per-group values for ranking, paired DeLong for ROC AUC, a paired bootstrap for the
    others). The value released is rounded by the caller. Without both submissions' public
    predictions on the same dataset (scores stored before the Ladder, or the held-out data
    unavailable here), the unpaired variant: by more than one standard error of ``new``'s
    own public interval. Loads the held-out split for the paired test."""
    key = new.primary_metric
    if (new_predictions is not None and leader_predictions is not None
            and leader.dataset_id == new.dataset_id and leader.primary_metric == key):
        verdict = ladder_paired_verdict(new, new_predictions, leader_predictions)
        if verdict is not None:
            return verdict
    standard_error = (new.public_ci_high - new.public_ci_low) / (2 * Z_95)
    gain = sort_value(key, new.public_primary) - sort_value(key, leader.public_primary)
    return gain > standard_error


def _ladder_leader(existing, by_submission: dict[int, Score], arrival: Score | None,
                   arrival_predictions: np.ndarray | None) -> tuple[Score, bytes | None]:
    """(the leader's score, the predictions to store: None keeps the entry's). The leader
    moves only to a newly scored ``arrival`` that is clearly better; a leader no longer
    scored on the active dataset (rescoring, a new version) restarts the Ladder from the
    arrival, or without one from the earliest scored submission."""
    state = existing.values_list("ladder_submission_id", flat=True).first()
    leader = by_submission.get(state)
    if arrival is None or arrival.submission_id not in by_submission:
        if leader is not None:
            return leader, None
        earliest = min(by_submission.values(),
                       key=lambda s: (s.submission.created_at, s.submission_id))
        return earliest, b""
    packed = predictions_pack(arrival_predictions) if arrival_predictions is not None else b""
    if leader is None or leader.submission_id == arrival.submission_id:
        return arrival, packed
    stored = predictions_unpack(existing.values_list("ladder_predictions", flat=True).first())
    if ladder_clearly_better(new=arrival, leader=leader, new_predictions=arrival_predictions,
                             leader_predictions=stored):
        return arrival, packed
    return leader, None


def leaderboard_entry_refresh(*, case_study: CaseStudy, candidate_id: int | None = None,
                              submission: Submission | None = None) -> LeaderboardEntry | None:
    """Recompute one leaderboard row: a candidate's (pinned, else best public score on the
    active dataset) or a baseline submission's. Deletes the row when nothing is scored.
    A candidate's public columns stay their Ladder leader's: only a new score moves it
    (``leaderboard_after_score``). Takes the leaderboard's row lock."""
    with transaction.atomic():
        return _entry_refresh(leaderboard_for(case_study), candidate_id=candidate_id,
                              submission=submission)


def _entry_refresh(leaderboard: Leaderboard, *, candidate_id: int | None = None,
                   submission: Submission | None = None, arrival: Score | None = None,
                   arrival_predictions: np.ndarray | None = None) -> LeaderboardEntry | None:
    # One writer per board at a time: the Ladder's leader is read, compared and written
    # under this lock, so two scores of one candidate landing together compare in turn.
    Leaderboard.objects.select_for_update().filter(pk=leaderboard.pk).first()
    _leaderboard_touch(pk=leaderboard.pk)
    case_study = leaderboard.case_study
    scores = Score.objects.filter(
        is_current=True, dataset__case_study=case_study, dataset__is_active=True,
        submission__status=Submission.Status.SCORED,
    ).select_related("submission", "submission__candidate", "dataset")
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
        leader, packed = _ladder_leader(existing, {s.submission_id: s for s in candidates},
                                        arrival, arrival_predictions)
        counts = Submission.objects.filter(candidate_id=candidate_id, case_study=case_study)
        submission_count = counts.count()
        last_submitted_at = counts.order_by("-created_at").values_list(
            "created_at", flat=True).first()
        display_name = chosen_submission.candidate.get_username()
    else:
        leader, packed = chosen, b""
        submission_count, last_submitted_at = 1, chosen_submission.created_at
        display_name = chosen_submission.baseline_name
    decimals = leaderboard.public_decimals
    shown = public_round(leader.public_primary, decimals)
    fields = {
        "submission": chosen_submission,
        "display_name": display_name,
        "is_baseline": chosen_submission.is_baseline,
        "is_pinned": chosen_submission.is_pinned,
        "ladder_submission": leader.submission,
        "public_primary": shown,
        "public_ci_low": public_round(leader.public_ci_low, decimals),
        "public_ci_high": public_round(leader.public_ci_high, decimals),
        "private_primary": chosen.private_primary,
        "private_ci_low": chosen.private_ci_low,
        "private_ci_high": chosen.private_ci_high,
        "public_sort": sort_value(leader.primary_metric, shown),
        "private_sort": sort_value(chosen.primary_metric, chosen.private_primary),
        "metrics": {"public": _public_metrics(leader.metrics.get("public", {}), decimals),
                    "private": chosen.metrics.get("private", {})},
        "latency_p99_ms": chosen.latency_p99_ms,
        "latency_budget_ms": chosen.latency_budget_ms,
        "serving": board_serving(chosen.serving),
        "artifact_bytes": chosen.artifact_bytes,
        "submission_count": submission_count,
        "last_submitted_at": last_submitted_at,
        "scored_at": chosen.created_at,
    }
    if packed is not None:
        fields["ladder_predictions"] = packed
    existing = existing.defer("ladder_predictions")
    if candidate_id is not None:
        entry, _ = existing.update_or_create(leaderboard=leaderboard, candidate_id=candidate_id,
                                             defaults=fields)
    else:
        entry, _ = existing.update_or_create(leaderboard=leaderboard,
                                             submission=chosen_submission, defaults=fields)
    return entry


def leaderboard_entry_sent_refresh(*, submission: Submission) -> None:
    """Bring the sent count and last-sent time of ``submission``'s candidate's row up to
    date: every submission counts, failed ones too (``submission_count``), and the row is
    otherwise refreshed only when a score lands. Call when a submission fails. One UPDATE
    from the submissions themselves, so it needs no entry lock (the board's row is written
    for its change marker); a candidate with nothing scored has no row, and a baseline's
    row always counts one."""
    if submission.candidate_id is None:
        return
    sent = Submission.objects.filter(candidate_id=OuterRef("candidate_id"),
                                     case_study_id=submission.case_study_id).order_by()
    with transaction.atomic():
        _leaderboard_touch(case_study_id=submission.case_study_id)
        LeaderboardEntry.objects.filter(
            leaderboard__case_study_id=submission.case_study_id,
            candidate_id=submission.candidate_id,
        ).update(
            submission_count=Subquery(sent.values("candidate_id").annotate(n=Count("pk"))
                                      .values("n")),
            last_submitted_at=Subquery(sent.order_by("-created_at").values("created_at")[:1]),
        )


def _record_if_best(leaderboard: Leaderboard, entry: LeaderboardEntry | None,
                    achieved_at: datetime) -> bool:
    """Append to the best-score-over-time history if ``entry``'s shown public score beats
    every earlier record (baselines are reference lines, not records). Call with the
    leaderboard's row lock held."""
    if entry is None or entry.is_baseline:
        return False
    best = leaderboard.records.order_by("-achieved_at").first()
    key = leaderboard.case_study.primary_metric
    if best is not None and sort_value(key, best.public_primary) >= entry.public_sort:
        return False
    LeaderboardRecord.objects.create(leaderboard=leaderboard,
                                     submission_id=entry.ladder_submission_id,
                                     public_primary=entry.public_primary,
                                     achieved_at=achieved_at)
    return True


def leaderboard_after_score(*, score: Score,
                            public_predictions: np.ndarray | None = None) -> None:
    """Refresh the row of ``score``'s candidate (or baseline) after it was stored: one step
    of the candidate's Ladder (``public_predictions`` are the submission's predictions on
    the public rows, for the paired comparison; None compares unpaired), then the
    best-score history. Runs in one transaction holding the leaderboard's row lock."""
    submission = score.submission
    leaderboard = leaderboard_for(submission.case_study)
    with transaction.atomic():
        if submission.candidate_id is None:
            entry = _entry_refresh(leaderboard, submission=submission)
        else:
            entry = _entry_refresh(leaderboard, candidate_id=submission.candidate_id,
                                   arrival=score, arrival_predictions=public_predictions)
        _record_if_best(leaderboard, entry, score.created_at)
