"""The JSON API with personal access tokens: who may do what, refusals with the typed codes,
the same scores as the page, rate limits, and a valid OpenAPI schema."""

import logging
from datetime import timedelta
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from grading.models import Leaderboard, Submission
from grading.tests.factories import SubmissionFactory
from grading.tests.hostile import malicious_pickle
from interviews.tests.factories import candidate, interviewer
from mlsd_site.models import ApiToken
from mlsd_site.tokens import secret_digest, token_create

pytestmark = pytest.mark.django_db

SLUG = "food-delivery-time"
API = "/api/v1"


def token_for(user, scopes=("read", "submit"), days: int = 30, name: str = "laptop") -> str:
    return token_create(user=user, name=name, scopes=list(scopes), days=days).secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def upload(client, secret: str, data: bytes, *, slug: str = SLUG, name: str = "model.onnx"):
    return client.post(f"{API}/case-studies/{slug}/submissions",
                       {"artifact": SimpleUploadedFile(name, data), "note": "from a script"},
                       headers=bearer(secret))


# --- tokens ------------------------------------------------------------------------------------


def test_the_tokens_page_shows_a_new_secret_once_and_stores_only_its_digest(client, catalogue):
    user = candidate()
    client.force_login(user)
    response = client.post("/accounts/tokens/", {"name": "notebook", "scope": "submit",
                                                 "days": "30"})
    assert response.status_code == 200
    html = response.content.decode()
    secret = html.split('data-testid="new-token-secret">', 1)[1].split("<", 1)[0]
    assert secret.startswith("mlsd_") and len(secret) > 40
    token = ApiToken.objects.get(user=user)
    assert token.secret_sha256 == secret_digest(secret)
    assert secret not in str(ApiToken.objects.values_list().get())
    assert token.scopes == ["read", "submit"]
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    again = client.get("/accounts/tokens/").content.decode()
    assert secret not in again and "notebook" in again and "read, submit" in again


def test_a_second_live_token_of_the_same_name_is_refused_with_a_message(client, catalogue):
    user = candidate()
    client.force_login(user)
    client.post("/accounts/tokens/", {"name": "laptop", "scope": "read", "days": "7"})
    response = client.post("/accounts/tokens/", {"name": "laptop", "scope": "read",
                                                 "days": "7"})
    assert response.status_code == 422
    assert "token of that name already" in response.content.decode()
    assert ApiToken.objects.filter(user=user).count() == 1


def test_a_revoked_token_is_refused(client, catalogue):
    user = candidate()
    secret = token_for(user)
    assert client.get(f"{API}/me", headers=bearer(secret)).status_code == 200
    client.force_login(user)
    token = ApiToken.objects.get(user=user)
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 302
    client.logout()
    response = client.get(f"{API}/me", headers=bearer(secret))
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


def test_another_users_token_cannot_be_revoked(client, catalogue):
    token = ApiToken.objects.get(pk=token_create(user=candidate(), name="x", scopes=[],
                                                 days=7).token.pk)
    client.force_login(candidate())
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_an_expired_token_is_refused(client, catalogue):
    user = candidate()
    secret = token_for(user)
    past = timezone.now() - timedelta(days=1)
    ApiToken.objects.filter(user=user).update(created_at=past - timedelta(days=30),
                                              expires_at=past)
    response = client.get(f"{API}/me", headers=bearer(secret))
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


def test_no_token_a_wrong_token_and_a_session_cookie_alone_are_401(client, catalogue):
    assert client.get(f"{API}/me").json()["code"] == "token_missing"
    wrong = client.get(f"{API}/me", headers=bearer("mlsd_" + "x" * 43))
    assert (wrong.status_code, wrong.json()["code"]) == (401, "token_invalid")
    client.force_login(candidate())  # the API takes no cookies: nothing to forge a form with
    assert client.get(f"{API}/me").status_code == 401


def test_an_inactive_accounts_token_is_refused(client, catalogue):
    user = candidate()
    secret = token_for(user)
    user.is_active = False
    user.save()
    assert client.get(f"{API}/me", headers=bearer(secret)).json()["code"] == "account_inactive"


def test_a_token_records_when_it_was_last_used(client, catalogue):
    user = candidate()
    secret = token_for(user)
    assert ApiToken.objects.get(user=user).last_used_at is None
    client.get(f"{API}/me", headers=bearer(secret))
    assert ApiToken.objects.get(user=user).last_used_at is not None


def test_a_tokens_requests_are_rate_limited_and_logged_with_its_name(client, catalogue,
                                                                     settings, caplog):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api": {"user": "3/m", "ip": "off"}}
    secret = token_for(candidate(), name="cron job")
    with caplog.at_level(logging.INFO, logger="grading.api"):
        statuses = [client.get(f"{API}/me", headers=bearer(secret)).status_code
                    for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get(f"{API}/me", headers=bearer(secret))
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    logged = [r.getMessage() for r in caplog.records if r.name == "grading.api"]
    assert len(logged) == 5
    assert all("'cron job'" in line for line in logged)
    assert "rate limited" in logged[-1]
    # Another token of the same user counts on its own.
    other = token_for(ApiToken.objects.get().user, name="second")
    assert client.get(f"{API}/me", headers=bearer(other)).status_code == 200


# --- reading -----------------------------------------------------------------------------------


def test_case_studies_and_a_contract_with_the_validators_own_checks(client, tiny_dataset):
    tiny_dataset(SLUG)
    secret = token_for(candidate(), scopes=["read"])
    cases = client.get(f"{API}/case-studies", headers=bearer(secret)).json()
    by_slug = {case["slug"]: case for case in cases}
    assert by_slug[SLUG]["scoring_open"] is True
    assert by_slug[SLUG]["remaining_today"] == by_slug[SLUG]["daily_quota"] == 5
    contract = client.get(f"{API}/case-studies/{SLUG}", headers=bearer(secret)).json()
    inputs = [c["name"] for c in contract["columns"] if c["model_input"]]
    assert [name for name, _ in contract["validator"]["contract"]["columns"]] == inputs
    assert {f["name"] for f in contract["files"]} == {
        "train.csv", "train.parquet", "data_dictionary.json", "data_dictionary.md"}
    csv = next(f for f in contract["files"] if f["name"] == "train.csv")
    response = client.get(csv["url"].removeprefix("http://testserver"), headers=bearer(secret))
    assert response.status_code == 200
    assert inputs[0] in b"".join(response.streaming_content).splitlines()[0].decode()


def test_training_files_only_and_unknown_case_studies_are_404(client, tiny_dataset):
    tiny_dataset(SLUG)
    secret = token_for(candidate())
    for path in (f"/case-studies/{SLUG}/files/heldout.parquet", "/case-studies/nope",
                 "/case-studies/nope/leaderboard"):
        response = client.get(API + path, headers=bearer(secret))
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found"
    # A path that climbs out matches no route at all.
    assert client.get(f"{API}/case-studies/{SLUG}/files/..%2F..%2Fprivate",
                      headers=bearer(secret)).status_code == 404


def test_another_candidates_submission_is_404_like_an_unknown_one(client, tiny_dataset):
    dataset, _ = tiny_dataset(SLUG)
    owner, other = candidate(), candidate()
    submission = SubmissionFactory(case_study=dataset.case_study, candidate=owner)
    own = client.get(f"{API}/submissions/{submission.uuid}", headers=bearer(token_for(owner)))
    assert own.status_code == 200 and own.json()["status"] == "queued"
    assert own.json()["queue"]["position"] == 1
    theirs = client.get(f"{API}/submissions/{submission.uuid}",
                        headers=bearer(token_for(other)))
    unknown = client.get(f"{API}/submissions/{'0' * 8}-0000-4000-8000-{'0' * 12}",
                         headers=bearer(token_for(other, name="second")))
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json() == unknown.json()
    # The list is one's own only.
    listed = client.get(f"{API}/submissions", headers=bearer(token_for(other, name="third")))
    assert listed.json() == []
    # An interviewer's token sees what the interviewer's pages see.
    grader = interviewer()
    assert client.get(f"{API}/submissions/{submission.uuid}",
                      headers=bearer(token_for(grader))).status_code == 200


def test_scores_are_the_pages_public_rounded_part_while_the_round_is_open(
        client, scored, catalogue):
    owner = candidate()
    submission = scored(SLUG, owner, public=3.14159265, private=2.71828182)
    secret = token_for(owner)
    body = client.get(f"{API}/submissions/{submission.uuid}", headers=bearer(secret)).json()
    scores = body["scores"]
    assert scores["split"] == "public" and scores["round_closed"] is False
    primary = next(m for m in scores["metrics"] if m["is_primary"])
    decimals = scores["decimals"]
    assert primary["value"] == round(3.14159265, decimals) != 3.14159265
    assert "2.718" not in str(body)  # nothing of the private split
    client.force_login(owner)
    page = client.get(submission.get_absolute_url()).content.decode()
    assert f"{primary['value']:.{decimals}f}" in page
    Leaderboard.objects.filter(case_study__slug=SLUG).update(is_closed=True,
                                                              closed_at=timezone.now())
    after = client.get(f"{API}/submissions/{submission.uuid}", headers=bearer(secret)).json()
    primary = next(m for m in after["scores"]["metrics"] if m["is_primary"])
    assert after["scores"]["split"] == "private" and primary["value"] == 2.71828182


def test_the_leaderboard_is_the_pages_ranking(client, scored, catalogue):
    owner, other = candidate(username="ada"), candidate(username="bob")
    scored(SLUG, owner, public=5.0, private=4.0)
    scored(SLUG, other, public=6.0, private=3.0)
    board = client.get(f"{API}/case-studies/{SLUG}/leaderboard",
                       headers=bearer(token_for(owner))).json()
    assert board["split"] == "public"
    names = [row["name"] for row in board["rows"] if not row["is_baseline"]]
    assert names == ["ada", "bob"]  # lower is better for food delivery time's metric
    assert [row["is_me"] for row in board["rows"] if not row["is_baseline"]] == [True, False]
    private = client.get(f"{API}/case-studies/{SLUG}/leaderboard?split=private",
                         headers=bearer(token_for(owner, name="b"))).json()
    assert private["split"] == "public"  # the private ranking only once the round closes


# --- submitting ------------------------------------------------------------------------------


def test_a_read_only_token_cannot_submit(client, tiny_dataset, tmp_path):
    tiny_dataset(SLUG)
    response = upload(client, token_for(candidate(), scopes=["read"]), b"onnx?")
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert not Submission.objects.exists()


def test_an_interviewers_token_cannot_submit(client, tiny_dataset):
    tiny_dataset(SLUG)
    response = upload(client, token_for(interviewer()), b"onnx?")
    assert (response.status_code, response.json()["code"]) == (403, "not_a_candidate")


def test_a_pickle_is_refused_with_the_upload_pages_own_message(client, tiny_dataset,
                                                                tmp_path):
    tiny_dataset(SLUG)
    user = candidate()
    data = malicious_pickle(tmp_path / "marker")
    response = upload(client, token_for(user), data)
    assert response.status_code == 422
    body = response.json()
    assert (body["code"], body["reason"]) == ("pickle", "invalid_artifact")
    client.force_login(user)
    page = client.post(f"/case-studies/{SLUG}/submit/",
                       {"artifact": SimpleUploadedFile("model.onnx", data)},
                       headers={"HX-Request": "true"})
    assert body["message"] in unescape(page.content.decode())
    assert not (tmp_path / "marker").exists() and not Submission.objects.exists()


def test_a_closed_round_and_a_used_quota_are_refused_with_their_codes(client, tiny_dataset):
    dataset, _ = tiny_dataset(SLUG)
    user = candidate()
    secret = token_for(user)
    Leaderboard.objects.update_or_create(case_study=dataset.case_study,
                                         defaults={"daily_quota": 0})
    quota = upload(client, secret, b"anything")
    assert (quota.status_code, quota.json()["code"]) == (409, "quota")
    assert "You have used all 0 submissions" in quota.json()["message"]
    Leaderboard.objects.filter(case_study=dataset.case_study).update(
        is_closed=True, closed_at=timezone.now(), daily_quota=5)
    closed = upload(client, secret, b"anything")
    assert (closed.status_code, closed.json()["code"]) == (409, "closed")
    assert closed.json()["message"] == ("This round is closed; submissions are no longer "
                                        "accepted.")


def test_an_upload_is_one_call_and_counts_against_the_quota(client, tiny_dataset, tmp_path,
                                                            django_capture_on_commit_callbacks):
    from grading.tests.conftest import train_example_model

    _, built = tiny_dataset(SLUG)
    model = train_example_model(built, tmp_path / "work").read_bytes()
    user = candidate()
    secret = token_for(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, secret, model)
    assert response.status_code == 201, response.content
    created = response.json()
    submission = Submission.objects.get(uuid=created["uuid"])
    assert submission.candidate == user and submission.note == "from a script"
    final = client.get(f"{API}/submissions/{submission.uuid}", headers=bearer(secret)).json()
    assert final["status"] == "scored"  # eager in tests
    cases = client.get(f"{API}/case-studies", headers=bearer(secret)).json()
    assert next(c for c in cases if c["slug"] == SLUG)["remaining_today"] == 4
    listed = client.get(f"{API}/submissions?case={SLUG}", headers=bearer(secret)).json()
    assert [row["uuid"] for row in listed] == [created["uuid"]]
    assert listed[0]["public_primary"] is not None


# --- the schema and the page -------------------------------------------------------------------


def test_the_openapi_schema_is_valid_and_documents_every_operation(client):
    from openapi_spec_validator import validate

    schema = client.get(f"{API}/openapi.json").json()
    validate(schema)
    operations = {(method.upper(), path) for path, item in schema["paths"].items()
                  for method in item}
    assert ("POST", "/api/v1/case-studies/{slug}/submissions") in operations
    upload_op = schema["paths"]["/api/v1/case-studies/{slug}/submissions"]["post"]
    assert "multipart/form-data" in upload_op["requestBody"]["content"]
    assert {"401", "403", "409", "413", "422", "429"} <= set(upload_op["responses"])
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"


def test_the_api_page_lists_every_endpoint_and_the_notebook_example(client, catalogue):
    html = unescape(client.get("/api/").content.decode())
    schema = client.get(f"{API}/openapi.json").json()
    for path in schema["paths"]:
        assert path in html
    example = html.split('data-testid="notebook-example"', 1)[1]
    for step in ('mlsd(["download"', 'mlsd(["validate"', '"--wait"', "convert_sklearn",
                 "print("):
        assert step in example


def test_the_command_line_downloads_are_the_same_code_as_the_repository(client):
    import io
    import zipfile
    from pathlib import Path

    cli = Path(__file__).resolve().parents[1] / "validator" / "cli.py"
    for url in ("/api/mlsd.pyz", "/api/mlsd-1.0.0-py3-none-any.whl"):
        response = client.get(url)
        assert response.status_code == 200
        archive = zipfile.ZipFile(io.BytesIO(response.content))
        assert archive.read("grading/validator/cli.py") == cli.read_bytes()
    wheel = zipfile.ZipFile(io.BytesIO(client.get("/api/mlsd-1.0.0-py3-none-any.whl").content))
    assert (b"mlsd = grading.validator.cli:main"
            in wheel.read("mlsd-1.0.0.dist-info/entry_points.txt"))
