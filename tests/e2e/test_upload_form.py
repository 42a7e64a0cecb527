"""The upload form in a browser: the size check before sending states the server's limit in
the server's words, and a refused upload keeps the chosen file (issue 14)."""

import pytest
from playwright.sync_api import expect

from grading.tests.hostile import malicious_pickle
from interviews.tests.factories import candidate
from tests.e2e.conftest import screenshot
from tests.e2e.test_submit_model import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.services]

SLUG = "food-delivery-time"


def test_the_form_states_the_limit_and_keeps_the_file_after_a_refusal(tiny_dataset, tmp_path,
                                                                      page, settings):
    tiny_dataset(SLUG)
    candidate(username="grace")
    log_in(page, "grace")
    page.goto(f"/case-studies/{SLUG}/submit/")
    error = page.get_by_test_id("upload-error")
    expect(error).to_be_hidden()
    expect(page.locator(".dropzone-text")).to_contain_text("Up to 20 MiB.")

    too_big = tmp_path / "big.onnx"
    with too_big.open("wb") as handle:
        handle.truncate(settings.MODEL_UPLOAD_MAX_BYTES + 1024 * 1024)
    page.set_input_files("#id_artifact", str(too_big))
    expect(error).to_have_text("The file is 21.0 MiB; the limit is 20 MiB.")

    pickle_file = tmp_path / "model.onnx"
    pickle_file.write_bytes(malicious_pickle(tmp_path / "pwned"))
    page.set_input_files("#id_artifact", str(pickle_file))
    expect(error).to_be_hidden()
    page.locator("form.upload").get_by_role("button", name="Upload and score").click()
    expect(error).to_be_visible()
    expect(error).to_contain_text("Python pickle")
    # The same file is still chosen: uploading again needs no new pick.
    assert page.eval_on_selector("#id_artifact", "input => input.files[0].name") == "model.onnx"
    expect(page.locator("[data-file-name]")).to_contain_text("model.onnx")
    expect(page.locator("[data-progress]")).to_be_hidden()
    screenshot(page, "upload-refused", docs=False)
    assert not (tmp_path / "pwned").exists()
    assert page.console_errors == [] or all("422" in text for text in page.console_errors), (
        page.console_errors)
