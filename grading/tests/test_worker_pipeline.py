"""A real Celery worker process on Redis takes a real ONNX model from upload to leaderboard."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from grading.models import LeaderboardEntry, Submission
from grading.tests.conftest import train_example_model
from interviews.tests.factories import candidate

pytestmark = [pytest.mark.services, pytest.mark.slow]

SLUG = "ad-click-prediction"


def wait_for(predicate, worker, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        assert worker.poll() is None, worker.log_path.read_text()[-4000:]
        time.sleep(0.25)
    pytest.fail("timed out; worker log:\n" + worker.log_path.read_text()[-4000:])


def test_a_real_worker_scores_an_upload_and_it_reaches_the_leaderboard(
        tiny_dataset, tmp_path, client, celery_worker_process):
    _, built = tiny_dataset(SLUG)
    model = train_example_model(built, tmp_path / "work")
    user = candidate(username="ada")
    client.force_login(user)

    response = client.post(f"/case-studies/{SLUG}/submit/",
                           {"artifact": SimpleUploadedFile("model.onnx", model.read_bytes())},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200, response.content.decode()[:500]
    submission = Submission.objects.get()

    def final():
        submission.refresh_from_db()
        return submission.is_final

    wait_for(final, celery_worker_process)
    assert submission.status == "scored", submission.failure_message
    assert submission.attempts == 1
    entry = LeaderboardEntry.objects.get(candidate=user)
    assert entry.submission == submission

    html = client.get(f"/case-studies/{SLUG}/leaderboard/").content.decode()
    assert "ada" in html and "you" in html
    log = celery_worker_process.log_path.read_text()
    # The worker had no held-out files: it rebuilt them from version and seed.
    assert "fingerprint verified" in log
