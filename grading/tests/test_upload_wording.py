"""What the upload page, the case-study page, the 413 page, the form, the command line and the
upload script say about an upload: one limit in one unit, and the input layouts the contract
really accepts (issue 14)."""

from html import unescape
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from grading.engine.artifacts import MiB
from grading.forms import SubmissionForm
from interviews.tests.factories import candidate

pytestmark = pytest.mark.django_db

SLUG = "food-delivery-time"
URL = f"/case-studies/{SLUG}/submit/"
ROOT = Path(__file__).resolve().parents[2]


def test_the_upload_limit_is_stated_one_way_everywhere(tiny_dataset, client, settings,
                                                       tmp_path, capsys):
    limit = settings.MODEL_UPLOAD_MAX_BYTES
    assert limit == 20_971_520  # 20 MiB: the default this test reads back everywhere
    tiny_dataset(SLUG)
    client.force_login(candidate())

    page = client.get(URL).content.decode()
    assert "Up to 20 MiB." in page
    assert 'data-max-size="20 MiB"' in page  # what upload.js says the limit is

    too_big = client.generic("POST", URL, b"", content_type="multipart/form-data; boundary=x",
                             CONTENT_LENGTH=str(limit + 2 * MiB))
    assert too_big.status_code == 413
    assert too_big.content.decode() == "The request is larger than the 20 MiB upload limit."

    upload = SimpleUploadedFile("model.onnx", b"x")
    upload.size = limit + MiB
    form = SubmissionForm(data={}, files={"artifact": upload})
    assert not form.is_valid()
    assert form.errors["artifact"] == ["The file is 21.0 MiB; the limit is 20 MiB."]

    sparse = tmp_path / "model.onnx"
    with sparse.open("wb") as handle:
        handle.truncate(limit + 1)
    with pytest.raises(SystemExit):
        call_command("score", str(sparse), "--case", SLUG)
    assert "larger than the 20 MiB limit" in capsys.readouterr().err

    script = (ROOT / "static" / "js" / "upload.js").read_text()
    assert "1e6" not in script and '" MB' not in script and "dataset.maxSize" in script


def test_the_case_page_names_both_input_layouts_only_where_the_contract_takes_both(
        tiny_dataset, client):
    """food-delivery-time is all numeric: one input per column or one float32 tensor;
    ad-click-prediction has string columns: one input per column only."""
    tiny_dataset(SLUG)
    tiny_dataset("ad-click-prediction")
    client.force_login(candidate())
    numeric = client.get(f"/case-studies/{SLUG}/").content.decode()
    assert ("either one input per column, named as below, of shape [N, 1], or a single "
            "float32 input of shape [N, 11]") in numeric
    strings = client.get("/case-studies/ad-click-prediction/").content.decode()
    assert "one input per column, named as below, of shape [N, 1]" in strings
    assert "single float32 input" not in strings
    assert "a single tensor cannot hold the string columns" in strings


def test_the_case_and_upload_pages_say_what_costs_quota(tiny_dataset, client):
    tiny_dataset(SLUG)
    client.force_login(candidate())
    rule = ("a file refused there uses no quota. Once accepted, only the model's behaviour "
            "on the held-out data (predictions, memory, time) can make it fail")
    for page in (f"/case-studies/{SLUG}/", URL):
        assert rule in " ".join(unescape(client.get(page).content.decode()).split()), page
    assert rule in " ".join((ROOT / "README.md").read_text().split())
