"""Upload page, submission page and its live-status fragment, pinning."""

import threading
from html import unescape

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
def test_a_refused_upload_answers_422_with_only_the_message_so_the_chosen_file_stays(
        model_bytes, client, tmp_path):
    """htmx swaps the message element alone: the form, and the file chosen in its input,
    stay as they are (a browser cannot put a file back into a re-rendered input)."""
    client.force_login(candidate())
    page = client.get(URL).content.decode()
    assert 'hx-target="#upload-error"' in page
    response = post_upload(client, malicious_pickle(tmp_path / "x"), name="model.onnx")
    assert response.status_code == 422
    html = response.content.decode()
    assert html.startswith('<p class="field-error" id="upload-error"')
    assert "Python pickle" in html
    assert "<form" not in html and 'type="file"' not in html and "<html" not in html


@pytest.mark.django_db
def test_without_htmx_a_refused_upload_says_to_choose_the_file_again(model_bytes, client,
                                                                     tmp_path):
    client.force_login(candidate())
    response = post_upload(client, malicious_pickle(tmp_path / "x"), htmx=False)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Python pickle" in html and "Choose your file again" in html


@pytest.mark.django_db
def test_the_hidden_error_box_is_empty_not_none(model_bytes, client):
    client.force_login(candidate())
    html = client.get(URL).content.decode()
    box = html.split('data-testid="upload-error"', 1)[1].split("</p>", 1)[0]
    assert box == " hidden>"


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


# --- static checks at upload, before a quota slot is taken --------------------------------


def _onnx_edit(model_bytes: bytes, change) -> bytes:
    import onnx

    model = onnx.load_from_string(model_bytes)
    change(model)
    return model.SerializeToString()


def _weights_in_an_external_file(model) -> None:
    from onnx import TensorProto

    tensor = model.graph.initializer.add(name="leak", data_type=TensorProto.FLOAT, dims=[1])
    tensor.data_location = TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value="/etc/passwd")


def _a_custom_operator_domain(model) -> None:
    model.graph.node[0].domain = "com.evil.ops"
    model.opset_import.add(domain="com.evil.ops", version=1)


def _an_input_off_the_contract(model) -> None:
    model.graph.input[0].name = "shop_id"
    for node in model.graph.node:
        node.input[:] = ["shop_id" if name == "store_id" else name for name in node.input]


def _two_outputs_where_one_is_expected(model) -> None:
    from onnx import helper

    score = model.graph.output[0]
    model.graph.node.append(helper.make_node("Identity", [score.name], ["second"]))
    copy = model.graph.output.add()
    copy.CopyFrom(score)
    copy.name = "second"


STATIC_REFUSALS = {
    "external data": (_weights_in_an_external_file, "stores weights in external files"),
    "custom operator domain": (_a_custom_operator_domain, "custom operator domains"),
    "input names off the contract": (_an_input_off_the_contract,
                                     "missing inputs 'store_id'; unexpected inputs 'shop_id'"),
    "two outputs where one is expected": (_two_outputs_where_one_is_expected,
                                          "must have exactly one float output"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("problem", STATIC_REFUSALS)
def test_a_file_failing_a_static_check_is_refused_at_upload_and_uses_no_quota(
        model_bytes, client, problem):
    change, says = STATIC_REFUSALS[problem]
    client.force_login(user := candidate())
    response = post_upload(client, _onnx_edit(model_bytes, change))
    assert response.status_code == 422
    assert says in unescape(response.content.decode())
    assert not Submission.objects.exists()
    assert not QuotaUsage.objects.filter(candidate=user, used__gt=0).exists()
    assert "5</span> of 5" in client.get(URL).content.decode()


@pytest.mark.django_db
def test_a_skops_file_naming_an_untrusted_type_is_refused_at_upload(model_bytes, client,
                                                                    tmp_path):
    from grading.tests.hostile import skops_posix_system

    client.force_login(candidate())
    evil = skops_posix_system(tmp_path / "model.skops").read_bytes()
    response = post_upload(client, evil, name="model.skops")
    assert response.status_code == 422
    assert "posix.system" in response.content.decode()
    assert not Submission.objects.exists() and not QuotaUsage.objects.filter(used__gt=0).exists()


@pytest.mark.django_db
def test_the_graph_walk_runs_in_a_child_never_in_the_web_process(model_bytes, client,
                                                                 tmp_path, monkeypatch):
    """A 2 MB file of empty ONNX nodes costs seconds and hundreds of MB to walk: it is
    refused at upload, by a child; this process never parses the graph."""
    from grading.engine import onnx_checks
    from grading.tests.hostile import empty_nodes_onnx

    def not_here(*args, **kwargs):
        raise AssertionError("the ONNX graph was walked in the web process")

    monkeypatch.setattr(onnx_checks, "parse_model", not_here)
    monkeypatch.setattr(onnx_checks, "inspect_onnx_bytes", not_here)
    client.force_login(candidate())
    response = post_upload(client, empty_nodes_onnx(tmp_path / "empty.onnx").read_bytes())
    assert response.status_code == 422
    assert "node without an operator type" in response.content.decode()
    assert not Submission.objects.exists()


@pytest.mark.django_db
def test_a_skops_pipeline_fitted_on_the_training_dataframe_is_accepted_and_scored(
        tiny_dataset, client, tmp_path, scoring):
    """Issue 14's model, through the upload: its checks at upload, then the worker's run."""
    from grading.tests.dataframe_models import dataframe_pipeline_skops

    _, built = tiny_dataset("ad-click-prediction")
    model = tmp_path / "pipeline.skops"
    dataframe_pipeline_skops(built, model)
    client.force_login(candidate())
    with scoring():
        response = client.post(
            "/case-studies/ad-click-prediction/submit/",
            {"artifact": SimpleUploadedFile("pipeline.skops", model.read_bytes())},
            headers={"HX-Request": "true"})
    assert response.status_code == 200, response.content.decode()
    submission = Submission.objects.get()
    assert submission.artifact_format == "skops"
    assert submission.status == "scored", submission.failure_message


# --- A failed submission says how to fix it, whether it used a quota slot, and offers a retry


def _failed_submission(user, error):
    """An upload of ``user``'s counted against today's quota, then failed with ``error`` by
    the scoring service (which gives the slot back for failures on our side)."""
    from grading.services.submissions import quota_take, submission_fail
    from grading.tests.factories import SubmissionFactory
    from interviews.models import CaseStudy

    case_study = CaseStudy.objects.get(slug=SLUG)
    day = quota_take(candidate=user, case_study=case_study, limit=5)
    submission = SubmissionFactory(candidate=user, case_study=case_study, quota_day=day,
                                   status="running")
    submission_fail(submission=submission, error=error)
    return submission


def _failure_panel(html: str) -> str:
    start = html.index('data-testid="failure"')
    return unescape(html[start:html.index("</section>", start)])


def _failures():
    from grading.engine.errors import ArtifactRejected, FailureReason, RejectionCode, ScoringError

    # reason family: (the error as the engine raises it, a phrase of its hint, charged)
    return {
        "invalid_artifact": (ArtifactRejected(RejectionCode.RUN_FAILED,
                                              "Your model failed while predicting: bad cast"),
                             "strings as strings, ids as int64", True),
        "invalid_output": (ScoringError(FailureReason.INVALID_OUTPUT,
                                        "Your model's predictions contain 3 NaN and 0 infinite "
                                        "values out of 100.", "non_finite"),
                           "impute missing values before the model", True),
        "resource_limit": (ScoringError(FailureReason.RESOURCE_LIMIT, "Your model needed more "
                                        "than the 1536 MiB memory limit.", "memory"),
                           "fewer or shallower trees", True),
        "timeout": (ScoringError(FailureReason.TIMEOUT, "Your model used more than the 60 s "
                                 "CPU time limit.", "cpu_limit"),
                    "Make predicting cheaper", True),
        "internal_error": (ScoringError(FailureReason.INTERNAL_ERROR, "Scoring is paused: the "
                                        "server cannot isolate models safely right now.",
                                        "sandbox_unavailable"),
                           "Nothing to change on your side", False),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("family", ["invalid_artifact", "invalid_output", "resource_limit",
                                    "timeout", "internal_error"])
def test_a_failed_submission_says_how_to_fix_it_and_whether_it_used_a_quota_slot(
        catalogue, client, family):
    error, hint, charged = _failures()[family]
    client.force_login(user := candidate())
    submission = _failed_submission(user, error)
    assert submission.failure_code == error.code
    panel = _failure_panel(client.get(submission.get_absolute_url()).content.decode())
    assert error.message in panel
    assert "How to fix it:" in panel and hint in panel
    if charged:
        assert "This submission used one of your daily submissions" in panel
        assert "4 of 5 submissions left today" in panel
    else:
        assert "did not count against your daily quota" in panel
        assert "5 of 5 submissions left today" in panel
    assert f'href="{URL}"' in panel and "Submit another model" in panel
    # The live fragment that replaces the spinner when scoring fails says the same.
    fragment = client.get(f"/submissions/{submission.uuid}/status/",
                          headers={"HX-Request": "true"})
    assert fragment.status_code == 286
    assert _failure_panel(fragment.content.decode()) == panel


@pytest.mark.django_db
def test_a_failed_submission_with_no_quota_left_says_when_it_resets(catalogue, client):
    from grading.engine.errors import ArtifactRejected, RejectionCode

    client.force_login(user := candidate())
    for _ in range(5):
        submission = _failed_submission(user, ArtifactRejected(RejectionCode.LOAD_FAILED,
                                                               "We could not load your model."))
    panel = _failure_panel(client.get(submission.get_absolute_url()).content.decode())
    assert "Load the file the way the server does" in panel
    assert "You have used all 5 of today's submissions" in panel
    assert "Submit another model" not in panel



@pytest.mark.django_db
def test_a_failure_after_the_round_closed_offers_no_retry(catalogue, client):
    from django.utils import timezone

    from grading.engine.errors import FailureReason, ScoringError
    from grading.services.leaderboards import leaderboard_for

    client.force_login(user := candidate())
    submission = _failed_submission(user, ScoringError(
        FailureReason.INVALID_OUTPUT, "Your model returned 9 predictions for 10 input rows.",
        "row_count"))
    board = leaderboard_for(submission.case_study)
    board.is_closed, board.closed_at = True, timezone.now()
    board.save(update_fields=["is_closed", "closed_at"])
    panel = _failure_panel(client.get(submission.get_absolute_url()).content.decode())
    assert "one prediction per input row" in panel
    assert "This round is closed" in panel and "Submit another model" not in panel

@pytest.mark.django_db
def test_an_interviewer_sees_the_hint_and_the_quota_but_no_retry(catalogue, client):
    from grading.engine.errors import FailureReason, ScoringError

    submission = _failed_submission(candidate(), ScoringError(
        FailureReason.TIMEOUT, "Your model did not finish within the 120 s time limit.",
        "wall_clock"))
    client.force_login(interviewer())
    panel = _failure_panel(client.get(submission.get_absolute_url()).content.decode())
    assert "Make predicting cheaper" in panel
    assert "used one of the candidate's daily submissions" in panel
    assert "Submit another model" not in panel and "left today" not in panel


@pytest.mark.django_db
def test_a_failure_stored_without_a_code_gets_the_hint_for_its_reason(catalogue, client):
    from grading.engine.errors import FailureReason, ScoringError

    client.force_login(user := candidate())
    submission = _failed_submission(user, ScoringError(FailureReason.RESOURCE_LIMIT,
                                                       "Your model needed too much memory."))
    assert submission.failure_code == ""
    panel = _failure_panel(client.get(submission.get_absolute_url()).content.decode())
    assert "How to fix it:</strong> Make the model smaller" in panel


def test_every_failure_reason_and_rejection_code_has_a_hint():
    from grading.engine.errors import FailureReason, RejectionCode
    from grading.selectors.failure_hints import REASON_HINTS, REJECTION_HINTS, failure_hint

    assert set(REJECTION_HINTS) == set(RejectionCode)
    assert set(REASON_HINTS) == set(FailureReason)
    hints = {failure_hint(reason="invalid_artifact", code=code) for code in RejectionCode}
    assert len(hints) >= len(RejectionCode) - 3  # one per code, a few shared on purpose
