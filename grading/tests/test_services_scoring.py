"""Scoring through the Django layer: stored scores, typed failures, constraints."""

import math

import pytest
from django.db import IntegrityError, transaction

from grading.models import Score, Submission
from grading.services.submissions import baseline_submission_create, submission_score_now
from grading.tests.conftest import train_example_model
from grading.tests.factories import ScoreFactory, SubmissionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("slug", ["ad-click-prediction", "rental-search-ranking",
                                  "food-delivery-time"])
def test_the_page_example_model_scores_and_is_stored(tiny_dataset, tmp_path, slug):
    dataset, built = tiny_dataset(slug)
    model_path = train_example_model(built, tmp_path / "work")
    submission = baseline_submission_create(
        case_study=dataset.case_study, name="example", artifact_path=model_path)
    score = submission_score_now(submission=submission)
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SCORED, submission.failure_message
    assert score.dataset == dataset and score.is_current
    assert score.primary_metric == dataset.case_study.primary_metric
    assert score.private_ci_low <= score.private_primary <= score.private_ci_high
    assert set(score.metrics) == {"public", "private", "all"}
    assert all(math.isfinite(v) for split in score.metrics.values() for v in split.values())
    assert set(score.per_slice) == {"public", "all"}
    assert set(score.per_slice["all"]) == {"week 1", "week 2", "week 3", "week 4"}
    assert set(score.plots) == {"public", "all"} and score.plots["all"]
    assert score.latency_p99_ms >= score.latency_p50_ms > 0
    assert score.artifact_bytes == model_path.stat().st_size


def test_scoring_again_keeps_one_current_score(tiny_dataset, tmp_path):
    dataset, built = tiny_dataset("food-delivery-time")
    model_path = train_example_model(built, tmp_path / "work")
    submission = baseline_submission_create(
        case_study=dataset.case_study, name="example", artifact_path=model_path)
    first = submission_score_now(submission=submission)
    second = submission_score_now(submission=submission)
    assert Score.objects.filter(submission=submission).count() == 2
    assert list(Score.objects.filter(submission=submission, is_current=True)) == [second]
    assert second.private_primary == first.private_primary  # deterministic


def test_a_pickle_upload_fails_with_its_reason_and_is_never_loaded(tiny_dataset, tmp_path):
    from grading.tests.hostile import malicious_pickle

    dataset, _ = tiny_dataset("ad-click-prediction")
    marker = tmp_path / "pwned"
    path = tmp_path / "model.onnx"
    path.write_bytes(malicious_pickle(marker))
    submission = baseline_submission_create(
        case_study=dataset.case_study, name="hostile", artifact_path=path)
    assert submission_score_now(submission=submission) is None
    submission.refresh_from_db()
    assert submission.status == Submission.Status.FAILED
    assert submission.failure_reason == "invalid_artifact"
    assert "pickle" in submission.failure_message.lower()
    assert not marker.exists()
    assert not Score.objects.filter(submission=submission).exists()


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_the_database_refuses_a_non_finite_score(tiny_dataset, bad):
    dataset, _ = tiny_dataset("food-delivery-time")
    submission = SubmissionFactory(case_study=dataset.case_study, baseline=True)
    # Everything else valid, so that only the private value is refused; it is kept out of
    # the JSON fields, which PostgreSQL would refuse with a DataError before any check.
    with pytest.raises(IntegrityError), transaction.atomic():
        ScoreFactory(submission=submission, dataset=dataset, public_primary=1.0,
                     private_primary=bad, private_ci_low=0.5, private_ci_high=1.5,
                     metrics={}, per_slice={})


def test_a_failed_submission_must_say_why(tiny_dataset):
    dataset, _ = tiny_dataset("food-delivery-time")
    submission = SubmissionFactory(case_study=dataset.case_study, baseline=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Submission.objects.filter(pk=submission.pk).update(status="failed")
