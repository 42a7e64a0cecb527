"""Upload page, submission page and its live-status fragment, pinning."""

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from grading.models import QuotaUsage, Submission
from grading.tests.conftest import train_example_model
from grading.tests.hostile import malicious_pickle
from interviews.tests.factories import candidate, interviewer

SLUG = "food-delivery-time"
URL = f"/case-studies/{SLUG}/submit/"


@pytest.fixture
def scoring(django_capture_on_commit_callbacks):
    """Run what commits enqueue (tasks are eager in tests), as a worker would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def model_bytes(tiny_dataset, tmp_path):
    _, built = tiny_dataset(SLUG)
    return train_example_model(built, tmp_path / "work").read_bytes()


def post_upload(client, data: bytes, *, htmx: bool = True, name: str = "model.onnx"):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(URL, {"artifact": SimpleUploadedFile(name, data), "note": "first try"},
                       headers=headers)


@pytest.mark.django_db
def test_the_upload_page_shows_the_form_and_the_quota(model_bytes, client):
    client.force_login(candidate())
    html = client.get(URL).content.decode()
    assert 'data-testid="upload-form"' in html
    assert "5</span> of 5" in html


@pytest.mark.django_db
def test_an_htmx_upload_redirects_to_the_submission_page(model_bytes, client, scoring):
    client.force_login(candidate())
    with scoring():
        response = post_upload(client, model_bytes)
    submission = Submission.objects.get()
    assert response.status_code == 200
    assert response["HX-Redirect"] == submission.get_absolute_url()
    assert submission.status == "scored"  # eager in tests: scored once committed


@pytest.mark.django_db
def test_a_refused_upload_answers_422_with_the_reason_in_the_form(model_bytes, client,
                                                                  tmp_path):
    client.force_login(candidate())
    response = post_upload(client, malicious_pickle(tmp_path / "x"), name="model.onnx")
    assert response.status_code == 422
    html = response.content.decode()
    assert "Python pickle" in html and 'id="upload-form"' in html
    assert "<html" not in html  # a fragment, not a page


@pytest.mark.django_db
def test_an_empty_file_is_refused_clearly(model_bytes, client):
    client.force_login(candidate())
    response = post_upload(client, b"")
    assert response.status_code == 422
    assert "empty" in response.content.decode().lower()


@pytest.mark.django_db
def test_an_oversized_file_is_refused_by_the_server(model_bytes, client, settings):
    settings.MODEL_UPLOAD_MAX_BYTES = 1000
    client.force_login(candidate())
    response = post_upload(client, model_bytes)
    assert response.status_code == 422
    assert "the limit is" in response.content.decode()
    assert not Submission.objects.exists()


@pytest.mark.django_db
def test_interviewers_do_not_submit_models(model_bytes, client):
    client.force_login(interviewer())
    assert client.get(URL).status_code == 404


@pytest.mark.django_db
def test_the_submission_page_is_the_owners_and_a_404_for_other_candidates(model_bytes,
                                                                          client, scoring):
    owner = candidate()
    client.force_login(owner)
    with scoring():
        post_upload(client, model_bytes)
    submission = Submission.objects.get()
    page = client.get(submission.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    assert "Scored" in html and "RMSE" in html
    assert "<svg" in html
    other = Client()
    other.force_login(candidate())
    assert other.get(submission.get_absolute_url()).status_code == 404
    staff = Client()
    staff.force_login(interviewer())
    assert staff.get(submission.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_the_status_fragment_polls_until_final_then_stops_with_286(model_bytes, client):
    client.force_login(candidate())
    post_upload(client, model_bytes)
    submission = Submission.objects.get()
    status_url = f"/submissions/{submission.uuid}/status/"
    Submission.objects.filter(pk=submission.pk).update(status="queued")
    queued = client.get(status_url, headers={"HX-Request": "true"})
    assert queued.status_code == 200
    assert 'hx-trigger="every 1s"' in queued.content.decode()
    assert "position <strong>1</strong>" in queued.content.decode()
    Submission.objects.filter(pk=submission.pk).update(status="scored")
    final = client.get(status_url, headers={"HX-Request": "true"})
    assert final.status_code == 286
    assert "hx-trigger" not in final.content.decode()


@pytest.mark.django_db
def test_a_failed_submission_shows_its_reason(model_bytes, client):
    client.force_login(candidate())
    post_upload(client, model_bytes)
    submission = Submission.objects.get()
    Submission.objects.filter(pk=submission.pk).update(
        status="failed", failure_reason="invalid_output",
        failure_message="The model returned NaN for 3 rows.")
    html = client.get(submission.get_absolute_url()).content.decode()
    assert "Invalid predictions" in html and "NaN for 3 rows" in html


@pytest.mark.django_db
def test_pinning_is_for_the_owner_only(model_bytes, client, scoring):
    owner = candidate()
    client.force_login(owner)
    with scoring():
        post_upload(client, model_bytes)
    submission = Submission.objects.get()
    other = Client()
    other.force_login(candidate())
    assert other.post(f"/submissions/{submission.uuid}/pin/").status_code == 404
    assert client.post(f"/submissions/{submission.uuid}/pin/").status_code == 302
    assert Submission.objects.get().is_pinned


@pytest.mark.django_db(transaction=True)
def test_twelve_simultaneous_uploads_with_a_quota_of_five_accept_exactly_five(
        model_bytes, require_postgres, settings):
    from grading.services.leaderboards import leaderboard_for
    from interviews.models import CaseStudy

    leaderboard_for(CaseStudy.objects.get(slug=SLUG))  # the quota is 5 by default
    user = candidate()
    barrier = threading.Barrier(12)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def one_upload() -> None:
        client = Client()
        client.force_login(user)
        barrier.wait()
        try:
            response = post_upload(client, model_bytes)
            with lock:
                results.append((response.status_code, response.content.decode()))
        finally:
            connection.close()

    threads = [threading.Thread(target=one_upload) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    accepted = [r for r in results if r[0] == 200]
    refused = [r for r in results if r[0] == 422]
    assert len(results) == 12
    assert len(accepted) == 5 and len(refused) == 7
    assert all("used all 5 submissions" in body for _, body in refused)
    assert Submission.objects.filter(candidate=user).count() == 5
    assert QuotaUsage.objects.get(candidate=user).used == 5


@pytest.mark.django_db
def test_a_body_over_the_limit_is_refused_before_it_is_read(model_bytes, client, settings):
    settings.MODEL_UPLOAD_MAX_BYTES = 10_000
    client.force_login(candidate())
    big = b"\0" * (settings.MODEL_UPLOAD_MAX_BYTES + 2 * 1024 * 1024)
    response = post_upload(client, big)
    assert response.status_code == 413
    assert "upload limit" in response.content.decode()
    assert not Submission.objects.exists()


def _charts(html: str) -> str:
    return html.split('data-testid="charts"', 1)[1].split("</section>", 1)[0]


@pytest.mark.django_db
def test_during_the_round_the_page_keeps_the_label_charts_back_and_rounds_every_number(
        model_bytes, client, scoring):
    from grading.selectors.leaderboards import leaderboard_settings
    from grading.selectors.submissions import submission_current_score, submission_view
    from grading.services.leaderboards import leaderboard_close

    client.force_login(candidate())
    with scoring():
        post_upload(client, model_bytes)
    submission = Submission.objects.get()
    html = client.get(submission.get_absolute_url()).content.decode()
    charts = _charts(html)
    # The per-week values only: the residual histogram and the predicted-against-actual
    # cells count public labels row by row.
    assert charts.count("<svg") == 1 and "per week" in charts
    assert ("residual histogram and predicted-against-actual chart appear when the round "
            "closes") in html
    assert 'data-testid="ladder-note"' in html and "from this submission" in html
    score = submission_current_score(submission=submission)
    leaderboard = leaderboard_settings(case_study=submission.case_study)
    view = submission_view(submission=submission, score=score, leaderboard=leaderboard)
    assert view.per_slice and all(v == round(v, 4) for v in view.per_slice.values())
    assert view.per_slice != score.per_slice["public"]  # the stored values keep their digits
    assert all(line.value == round(line.value, 4) for line in view.lines)

    leaderboard_close(leaderboard=leaderboard)
    html = client.get(submission.get_absolute_url()).content.decode()
    assert _charts(html).count("<svg") == 3
    assert "appear when the round closes" not in html and 'data-testid="ladder-note"' not in html
