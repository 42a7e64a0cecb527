"""The Ladder on the public board, through the scoring service with real predictions on the
tiny ad-click data (log loss: lower is better): a submission better by less than the
standard error of the paired difference leaves the shown score alone, a clearly better one
moves it, the shown value is rounded, and closing the round ranks by the private part as
before."""

import numpy as np
import pytest

from grading.engine import metrics
from grading.engine.scoring import ScoreReport, evaluate_predictions
from grading.models import LeaderboardEntry
from grading.selectors.datasets import scoring_task_for
from grading.selectors.leaderboards import leaderboard_get_for_viewer, leaderboard_page
from grading.services.datasets import heldout_load
from grading.services.leaderboards import (
    LADDER_P_VALUE,
    ladder_paired_verdict,
    leaderboard_close,
    leaderboard_for,
    predictions_unpack,
)
from grading.services.submissions import score_report_save
from grading.tests.factories import SubmissionFactory
from interviews.tests.factories import candidate

pytestmark = pytest.mark.django_db

SLUG = "ad-click-prediction"
BASE_RATE = 0.05


@pytest.fixture
def board(tiny_dataset):
    dataset, _ = tiny_dataset(SLUG)
    return dataset, heldout_load(dataset=dataset)


def store(dataset, heldout, user, predictions: np.ndarray):
    """Score ``predictions`` as the scoring job would and store them for ``user``."""
    task = scoring_task_for(dataset.case_study)
    by_split, intervals, per_slice, plots = evaluate_predictions(
        task=task, heldout=heldout, predictions=predictions)
    report = ScoreReport(
        primary_metric=task.primary_metric, direction="lower", metrics=by_split,
        intervals=intervals, per_slice=per_slice, latency_p50_ms=1.0, latency_p99_ms=2.0,
        latency_budget_ms=task.latency_budget_ms, within_latency_budget=True,
        artifact_format="onnx", artifact_bytes=10, rows_scored=len(predictions),
        network_isolated=True, plots=plots,
        public_predictions=predictions[heldout.public])
    submission = SubmissionFactory(case_study=dataset.case_study, candidate=user,
                                   artifact_file=True)
    return score_report_save(submission=submission, dataset=dataset, report=report)


def nudged(heldout, *, positives: int, negatives: int) -> np.ndarray:
    """The base rate everywhere, raised to 0.06 on the first ``positives`` public positives
    (each better by log(1.2) = 0.18) and the first ``negatives`` public negatives (each
    worse by log(0.95 / 0.94) = 0.011): a known mix of gains and losses."""
    predictions = np.full(len(heldout.labels), BASE_RATE)
    public_rows = np.flatnonzero(heldout.public)
    labels = heldout.labels[public_rows]
    predictions[public_rows[labels == 1][:positives]] = 0.06
    predictions[public_rows[labels == 0][:negatives]] = 0.06
    return predictions


def paired(heldout, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    public = heldout.public
    return metrics.paired_difference("log_loss", heldout.labels[public], a[public], b[public])


def test_a_submission_better_by_less_than_its_standard_error_is_not_shown(board):
    dataset, heldout = board
    ada = candidate(username="ada")
    base = np.full(len(heldout.labels), BASE_RATE)
    # 4 gains of 0.18 against 60 losses of 0.011: better on average, within the noise.
    lucky = nudged(heldout, positives=4, negatives=60)
    difference, p_value = paired(heldout, lucky, base)
    assert difference < 0 and p_value > LADDER_P_VALUE  # better, by less than one SE

    first = store(dataset, heldout, ada, base)
    second = store(dataset, heldout, ada, lucky)
    assert round(second.public_primary, 4) < round(first.public_primary, 4)
    entry = LeaderboardEntry.objects.get(candidate=ada)
    assert entry.ladder_submission_id == first.submission_id
    assert entry.public_primary == round(first.public_primary, 4)
    assert np.array_equal(predictions_unpack(entry.ladder_predictions), base[heldout.public])


def test_a_clearly_better_submission_is_shown_rounded(board):
    dataset, heldout = board
    ada = candidate(username="ada")
    base = np.full(len(heldout.labels), BASE_RATE)
    store(dataset, heldout, ada, base)
    store(dataset, heldout, ada, nudged(heldout, positives=4, negatives=60))
    # Every public positive raised: each of the ten rows better, nothing worse.
    clear = nudged(heldout, positives=heldout.labels.size, negatives=0)
    difference, p_value = paired(heldout, clear, base)
    assert difference < 0 and p_value < LADDER_P_VALUE

    third = store(dataset, heldout, ada, clear)
    entry = LeaderboardEntry.objects.get(candidate=ada)
    assert entry.ladder_submission_id == third.submission_id
    assert entry.public_primary == round(third.public_primary, 4) != third.public_primary
    assert np.array_equal(predictions_unpack(entry.ladder_predictions), clear[heldout.public])
    board_page = leaderboard_page(
        leaderboard=leaderboard_get_for_viewer(user=ada, slug=SLUG), user=ada)
    assert [row.value for row in board_page.rows] == [round(third.public_primary, 4)]


def test_closing_the_round_ranks_by_the_private_part_as_before(board):
    dataset, heldout = board
    ada, bob = candidate(username="ada"), candidate(username="bob")
    base = np.full(len(heldout.labels), BASE_RATE)
    first = store(dataset, heldout, ada, base)
    lucky_predictions = nudged(heldout, positives=4, negatives=60)
    lucky_predictions[~heldout.public] = 0.03  # the private part tells them apart
    lucky = store(dataset, heldout, ada, lucky_predictions)
    bobs = store(dataset, heldout, bob, nudged(heldout, positives=10, negatives=0))
    assert LeaderboardEntry.objects.get(candidate=ada).ladder_submission_id == first.submission_id
    leaderboard_close(leaderboard=leaderboard_for(dataset.case_study))
    viewer = candidate()
    private = leaderboard_page(leaderboard=leaderboard_get_for_viewer(user=viewer, slug=SLUG),
                               user=viewer, split="private")
    # Each candidate's best public submission (the Ladder only holds the public score back),
    # ranked at full precision; shown to the board's decimals, as on the public tab.
    by_name = {row.entry.display_name: row.value for row in private.rows}
    assert by_name == {"ada": lucky.private_primary, "bob": bobs.private_primary}
    assert lucky.private_primary != first.private_primary
    assert private.decimals == private.leaderboard.public_decimals == 4


@pytest.mark.parametrize("slug", ["food-delivery-time", "rental-search-ranking"])
def test_the_paired_test_runs_for_regression_and_ranking(tiny_dataset, slug):
    dataset, _ = tiny_dataset(slug)
    heldout = heldout_load(dataset=dataset)
    ada = candidate(username="ada")
    constant = np.full(len(heldout.labels), float(np.mean(heldout.labels)))
    first = store(dataset, heldout, ada, constant)
    again = store(dataset, heldout, ada, constant.copy())  # the same model: no difference
    perfect = heldout.labels.astype(float)
    assert ladder_paired_verdict(again, constant[heldout.public],
                                 constant[heldout.public]) is False
    assert ladder_paired_verdict(again, perfect[heldout.public],
                                 constant[heldout.public]) is True
    assert LeaderboardEntry.objects.get(candidate=ada).ladder_submission_id == first.submission_id
    best = store(dataset, heldout, ada, perfect)
    assert LeaderboardEntry.objects.get(candidate=ada).ladder_submission_id == best.submission_id
