"""Bad and hostile input at the upload endpoint: malformed bodies, over-long fields,
script in notes, and text in any script kept exactly."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from grading.models import Submission
from grading.tests.conftest import train_example_model
from interviews.tests.factories import candidate

pytestmark = pytest.mark.django_db

SLUG = "food-delivery-time"
URL = f"/case-studies/{SLUG}/submit/"
XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg onload=alert(1)>",
    "javascript:alert(1)",
    "<iframe src=//evil.example>",
]
UNICODE = [
    "مرحبا بالعالم — نموذج الانحدار",  # right-to-left
    "模型 v2：加入距离特征",
    "👩🏽‍💻 gradient boosting 🚀 with ZWJ emoji",
    "e\u0301 combining accent, \u200f RLM, \u202e override",
]


@pytest.fixture
def model_bytes(tiny_dataset, tmp_path):
    _, built = tiny_dataset(SLUG)
    return train_example_model(built, tmp_path / "work").read_bytes()


def upload(client, data, note):
    return client.post(URL, {"artifact": SimpleUploadedFile("m.onnx", data), "note": note},
                       headers={"HX-Request": "true"})


@pytest.mark.parametrize("raw", [
    b"--nope\r\nContent-Disposition: form-data; name=\"artifact\"\r\n\r\n",  # no end
    b"not multipart at all",
    b"--b\r\nContent-Disposition: form-data; name=\"artifact\"; filename=\"m.onnx\"\r\n"
    b"Content-Type: application/octet-stream\r\n\r\nabc",  # truncated part
])
def test_malformed_multipart_bodies_get_a_clear_4xx_and_store_nothing(model_bytes, client,
                                                                      raw):
    client.force_login(candidate())
    response = client.generic("POST", URL, raw,
                              content_type="multipart/form-data; boundary=b",
                              headers={"HX-Request": "true"})
    assert 400 <= response.status_code < 500
    assert not Submission.objects.exists()


def test_a_missing_file_is_refused_with_a_message(model_bytes, client):
    client.force_login(candidate())
    response = client.post(URL, {"note": "no file"}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "required" in response.content.decode().lower()


def test_an_over_long_note_is_refused_and_nothing_is_stored(model_bytes, client):
    client.force_login(candidate())
    response = upload(client, model_bytes, "x" * 501)
    assert response.status_code == 422
    assert "at most 500 characters" in response.content.decode()
    assert not Submission.objects.exists()


@pytest.mark.parametrize("payload", XSS)
def test_script_in_a_note_is_rendered_inert(model_bytes, client, payload):
    client.force_login(candidate())
    assert upload(client, model_bytes, payload).status_code == 200
    submission = Submission.objects.get()
    assert submission.note == payload
    for url in (submission.get_absolute_url(), URL):
        html = client.get(url).content.decode()
        for live in ("<script>alert", "<img src=x", "<svg onload", "<iframe",
                     'href="javascript:', "src=\"javascript:"):
            assert live not in html, (url, live)
        if "<" in payload or '"' in payload:
            assert payload not in html  # shown escaped, as text


@pytest.mark.parametrize("text", UNICODE)
def test_notes_in_any_script_are_kept_byte_for_byte(model_bytes, client, text):
    client.force_login(candidate())
    assert upload(client, model_bytes, text).status_code == 200
    submission = Submission.objects.get()
    assert submission.note.encode() == text.encode()
    html = client.get(submission.get_absolute_url()).content.decode()
    assert text in html
