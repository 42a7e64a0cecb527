"""The submission pipeline's services: refusals, quota, idempotent scoring, the sweep."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from grading.models import QuotaUsage, Score, Submission
from grading.services.leaderboards import leaderboard_close, leaderboard_for
from grading.services.submissions import (
    SubmissionRefused,
    case_study_rescore,
    quota_refund,
    submission_create,
    submission_score,
    submissions_requeue_stuck,
)
from grading.tests.conftest import train_example_model
from grading.tests.hostile import malicious_pickle
from interviews.tests.factories import candidate

pytestmark = pytest.mark.django_db


@pytest.fixture
def food(tiny_dataset, tmp_path):
    dataset, built = tiny_dataset("food-delivery-time")
    model = train_example_model(built, tmp_path / "work")
    return dataset, model.read_bytes()


def upload(data: bytes, name: str = "model.onnx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_a_good_upload_is_queued_then_scored_once_committed(food,
                                                             django_capture_on_commit_callbacks):
    dataset, data = food
    user = candidate()
    with django_capture_on_commit_callbacks(execute=True):
        submission = submission_create(candidate=user, case_study=dataset.case_study,
                                                upload=upload(data), note="ridge")
    submission.refresh_from_db()
    assert submission.status == Submission.Status.SCORED
    assert submission.attempts == 1
    assert submission.artifact_format == "onnx" and submission.quota_day is not None
    assert Score.objects.filter(submission=submission, is_current=True).count() == 1


def test_a_pickle_is_refused_at_once_and_uses_no_quota(food, tmp_path):
    dataset, _ = food
    user = candidate()
    with pytest.raises(SubmissionRefused, match="pickle"):
        submission_create(candidate=user, case_study=dataset.case_study,
                                   upload=upload(malicious_pickle(tmp_path / "pwned")))
    assert not Submission.objects.exists()
    assert not QuotaUsage.objects.filter(used__gt=0).exists()
    assert not (tmp_path / "pwned").exists()


def test_the_quota_refuses_the_sixth_upload_of_the_day(food):
    dataset, data = food
    user = candidate()
    for _ in range(5):
        submission_create(candidate=user, case_study=dataset.case_study,
                                   upload=upload(data))
    with pytest.raises(SubmissionRefused, match="all 5 submissions"):
        submission_create(candidate=user, case_study=dataset.case_study,
                                   upload=upload(data))
    assert Submission.objects.count() == 5
    # Another candidate has a quota of their own.
    submission_create(candidate=candidate(), case_study=dataset.case_study,
                               upload=upload(data))


def test_scoring_a_final_submission_again_changes_nothing(food):
    dataset, data = food
    submission = submission_create(candidate=candidate(),
                                            case_study=dataset.case_study, upload=upload(data))
    assert submission_score(submission_id=submission.pk) == "scored"
    assert submission_score(submission_id=submission.pk) == "already_final"
    submission.refresh_from_db()
    assert submission.attempts == 1
    assert Score.objects.filter(submission=submission).count() == 1


def test_a_redelivered_running_submission_is_scored_with_the_attempt_counted(food):
    dataset, data = food
    submission = submission_create(candidate=candidate(),
                                            case_study=dataset.case_study, upload=upload(data))
    # The worker running attempt 5 died; the message comes back.
    Submission.objects.filter(pk=submission.pk).update(status="running", attempts=5)
    from django.test import override_settings

    with override_settings(SCORING_MAX_ATTEMPTS=10):
        assert submission_score(submission_id=submission.pk) == "scored"
    submission.refresh_from_db()
    assert submission.attempts == 6


def test_after_the_attempt_cap_it_fails_as_ours_and_gives_the_quota_back(food, settings):
    dataset, data = food
    user = candidate()
    submission = submission_create(candidate=user, case_study=dataset.case_study,
                                            upload=upload(data))
    assert QuotaUsage.objects.get(candidate=user).used == 1
    Submission.objects.filter(pk=submission.pk).update(status="running",
                                                       attempts=settings.SCORING_MAX_ATTEMPTS)
    assert submission_score(submission_id=submission.pk) == "gave_up"
    submission.refresh_from_db()
    assert submission.status == "failed" and submission.failure_reason == "internal_error"
    assert "did not count against your quota" in submission.failure_message
    assert QuotaUsage.objects.get(candidate=user).used == 0
    quota_refund(submission=submission)  # refunding twice gives back nothing more
    assert QuotaUsage.objects.get(candidate=user).used == 0


def test_a_file_the_candidate_got_wrong_keeps_its_quota_slot(food, tmp_path):
    """Wrong in what only the held-out data shows (infinite predictions). What the upload's
    static checks see is refused before a slot is taken (test_views_submissions.py)."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    dataset, data = food
    model = onnx.load_from_string(data)
    score = model.graph.output[0].name
    for node in model.graph.node:
        node.output[:] = ["raw" if name == score else name for name in node.output]
    model.graph.initializer.append(numpy_helper.from_array(np.zeros(1, np.float32), "zero"))
    model.graph.node.append(helper.make_node("Div", ["raw", "zero"], [score]))
    user = candidate()
    submission = submission_create(candidate=user, case_study=dataset.case_study,
                                            upload=upload(model.SerializeToString()))
    assert submission_score(submission_id=submission.pk) == "failed"
    submission.refresh_from_db()
    assert submission.failure_reason == "invalid_output"
    assert QuotaUsage.objects.get(candidate=user).used == 1


def test_the_sweep_requeues_only_stuck_submissions(food, settings):
    dataset, data = food
    user = candidate()
    stuck_queued = submission_create(candidate=user, case_study=dataset.case_study,
                                              upload=upload(data))
    fresh = submission_create(candidate=user, case_study=dataset.case_study,
                                       upload=upload(data))
    stuck_running = submission_create(candidate=user, case_study=dataset.case_study,
                                               upload=upload(data))
    long_ago = timezone.now() - timedelta(hours=2)
    Submission.objects.filter(pk=stuck_queued.pk).update(enqueued_at=long_ago)
    Submission.objects.filter(pk=stuck_running.pk).update(
        status="running", attempts=1, enqueued_at=long_ago - timedelta(minutes=1),
        started_at=long_ago)
    requeued = submissions_requeue_stuck()  # eager: runs the scoring inline
    assert sorted(requeued) == sorted([stuck_queued.pk, stuck_running.pk])
    assert Submission.objects.get(pk=stuck_queued.pk).status == "scored"
    assert Submission.objects.get(pk=stuck_running.pk).status == "scored"
    assert Submission.objects.get(pk=stuck_running.pk).attempts == 2
    assert Submission.objects.get(pk=fresh.pk).status == "queued"


def test_a_closed_round_refuses_uploads(food):
    dataset, data = food
    leaderboard_close(leaderboard=leaderboard_for(dataset.case_study))
    with pytest.raises(SubmissionRefused, match="closed"):
        submission_create(candidate=candidate(), case_study=dataset.case_study,
                                   upload=upload(data))


def test_rescoring_queues_scored_submissions_and_keeps_history(food,
                                                               django_capture_on_commit_callbacks):
    dataset, data = food
    submission = submission_create(candidate=candidate(),
                                            case_study=dataset.case_study, upload=upload(data))
    submission_score(submission_id=submission.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assert case_study_rescore(case_study=dataset.case_study) == 1
    assert Score.objects.filter(submission=submission).count() == 2
    assert Score.objects.filter(submission=submission, is_current=True).count() == 1
