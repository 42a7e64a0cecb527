"""Issue 14's "done when": the models a candidate actually makes score through the web upload.

A candidate downloads ``train.parquet`` and copies the training example from the case-study
page, then uploads two models, each scored by a real worker:

* a scikit-learn pipeline fitted on the training DataFrame (column names, a string column
  one-hot encoded) and saved with skops, as the page's skops allow-list invites;
* a HistGradientBoosting model exported to ONNX by the page's example, with the page's own
  ``pip install`` line (a virtualenv of exactly that line: ``grading/tests/example_env.py``).
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from grading.tests.example_env import example_virtualenv, install_line, run_in, with_family
from interviews.tests.factories import candidate
from tests.e2e.conftest import screenshot
from tests.e2e.test_submit_model import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.services, pytest.mark.slow]

SLUG = "ad-click-prediction"


def dataframe_pipeline(train_parquet: Path, dest: Path) -> None:
    """``Pipeline(ColumnTransformer(StandardScaler, OneHotEncoder), LogisticRegression)``
    fitted on the downloaded training DataFrame, selecting the contract's columns by name,
    saved with skops."""
    import pandas as pd
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from grading.datasets import dataset_spec

    spec = dataset_spec(SLUG)
    numeric = [name for name, dtype in spec.contract_columns if dtype != "string"]
    strings = [name for name, dtype in spec.contract_columns if dtype == "string"]
    assert strings, "the case has string columns: the point of this model"
    train = pd.read_parquet(train_parquet)
    pipeline = Pipeline([
        ("prepare", ColumnTransformer([
            ("numeric", StandardScaler(), numeric),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), strings),
        ])),
        ("classifier", LogisticRegression(max_iter=1000)),
    ])
    pipeline.fit(train[list(spec.feature_names)], train[spec.label_column])
    sio.dump(pipeline, dest)


def upload_and_wait_for_the_score(page, model: Path, note: str) -> str:
    """Upload ``model`` from the submit page and return the status the page settles on."""
    page.goto(f"/case-studies/{SLUG}/submit/")
    page.set_input_files("#id_artifact", str(model))
    page.get_by_label("Note").fill(note)
    page.locator("form.upload").get_by_role("button", name="Upload and score").click()
    page.wait_for_url("**/submissions/**")
    final = page.locator('[data-testid="submission-body"][data-status="scored"], '
                         '[data-testid="submission-body"][data-status="failed"]')
    final.wait_for(timeout=120_000)
    status = final.get_attribute("data-status")
    if status == "failed":
        return f"failed: {page.get_by_test_id('failure-message').inner_text()}"
    return status


def test_a_dataframe_skops_pipeline_and_the_pages_hist_gradient_boosting_onnx_both_score(
        tiny_dataset, tmp_path, celery_worker_process, page):
    tiny_dataset(SLUG)
    candidate(username="grace")
    log_in(page, "grace")
    page.goto(f"/case-studies/{SLUG}/")
    example = page.get_by_test_id("training-example").inner_text()
    work = tmp_path / "work"
    work.mkdir()
    with page.expect_download() as download:
        page.get_by_role("link", name="train.parquet", exact=True).click()
    download.value.save_as(work / "train.parquet")

    dataframe_pipeline(work / "train.parquet", work / "pipeline.skops")
    assert upload_and_wait_for_the_score(page, work / "pipeline.skops",
                                         "skops pipeline on the DataFrame") == "scored"
    expect(page.get_by_test_id("metrics")).to_contain_text("Log loss")
    expect(page.get_by_test_id("metrics")).to_contain_text("SKOPS")
    screenshot(page, "upload-skops-dataframe-pipeline", docs=False)

    python = example_virtualenv(install_line(example))
    (work / "train_example.py").write_text(with_family(example, "HistGradientBoosting"))
    run_in(python, ["train_example.py"], work)
    (work / "model.onnx").rename(work / "hist_gradient_boosting.onnx")
    assert upload_and_wait_for_the_score(page, work / "hist_gradient_boosting.onnx",
                                         "HistGradientBoosting from the example") == "scored"
    expect(page.get_by_test_id("metrics")).to_contain_text("Log loss")
    expect(page.get_by_test_id("metrics")).to_contain_text("ONNX")
    screenshot(page, "upload-hist-gradient-boosting-onnx", docs=False)
    assert page.console_errors == [], page.console_errors
