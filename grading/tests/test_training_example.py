"""The case-study page's training example, followed as a candidate would.

The slow test takes a virtualenv built from exactly the example's ``pip install`` line
(``example_env``: cached under ``var/``, about 30 s to build the first time), then for every
model family the example suggests: runs the example with that family's line swapped in,
checks the exported file with the downloaded validator in that virtualenv (the engine's
static checks and a sandboxed run), and scores it with the server's engine and sandbox on
the held-out split. About 45 s once the virtualenv exists.
"""

import math
import re
from pathlib import Path

import pytest

from grading.datasets import write_training_files
from grading.tests.example_env import (
    FAMILIES,
    ROOT,
    example_virtualenv,
    install_line,
    run_in,
    with_family,
)
from grading.validator.examples import training_example

pytestmark = pytest.mark.django_db

# Everything the example and the validator import, so none of them floats.
IMPORTED = {"numpy", "pandas", "pyarrow", "scikit-learn", "skl2onnx", "onnx", "protobuf",
            "onnxruntime"}


def test_the_install_line_pins_everything_the_example_and_the_validator_import():
    from grading.datasets import dataset_spec

    for slug in ("ad-click-prediction", "food-delivery-time"):
        pins = install_line(training_example(dataset_spec(slug), validator_name="v.pyz"))
        assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", pin) for pin in pins), pins
        assert {pin.split("==")[0] for pin in pins} >= IMPORTED


def test_the_install_line_pins_the_versions_the_server_and_baselines_run():
    from grading.datasets import dataset_spec

    locked = dict(line.split("==") for line in (ROOT / "requirements.lock").read_text().split()
                  if "==" in line)
    pins = install_line(training_example(dataset_spec("feed-ranking"), validator_name="v.pyz"))
    assert {name: locked.get(name) for name, _ in (p.split("==") for p in pins)} == dict(
        p.split("==") for p in pins)


def test_the_example_suggests_the_families_the_slow_test_exports():
    from grading.validator.examples import MODEL_FAMILIES

    assert tuple(family.name for family in MODEL_FAMILIES) == FAMILIES


def test_the_case_study_page_names_every_family_the_example_exports(tiny_dataset, client):
    from grading.validator.examples import MODEL_FAMILIES
    from interviews.tests.factories import candidate

    for slug, task_type in (("ad-click-prediction", "binary"),
                            ("food-delivery-time", "regression")):
        _, built = tiny_dataset(slug)
        client.force_login(candidate(username=f"reader-{task_type}"))
        html = client.get(f"/case-studies/{slug}/").content.decode()
        start = html.index('data-testid="example-families"')
        prose = html[start:html.index("</p>", start)]
        example = html[html.index('data-testid="training-example"'):]
        for family in MODEL_FAMILIES[1:]:
            assert family.name in prose
            assert family.class_name(task_type) in example
        pins = install_line(training_example(built.spec, validator_name="v.pyz"))
        assert "pip install " + " ".join(pins) in example


@pytest.fixture(scope="module")
def example_python() -> Path:
    from grading.datasets import dataset_spec

    spec = dataset_spec("ad-click-prediction")
    return example_virtualenv(install_line(training_example(spec, validator_name="v.pyz")))


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("slug", ["ad-click-prediction", "food-delivery-time"])
def test_each_suggested_family_exports_with_the_install_line_and_scores(
        slug, family, example_python, tiny_dataset, tmp_path):
    from grading.engine.scoring import score_artifact
    from grading.selectors.datasets import sandbox_limits_for, scoring_task_for
    from grading.services.datasets import heldout_load
    from grading.validator.build import validator_zipapp

    dataset, built = tiny_dataset(slug)
    write_training_files(built, tmp_path)
    example = training_example(built.spec, validator_name="validator.pyz")
    (tmp_path / "train_example.py").write_text(with_family(example, family))
    run_in(example_python, ["train_example.py"], tmp_path)

    task = scoring_task_for(dataset.case_study)
    (tmp_path / "validator.pyz").write_bytes(validator_zipapp(
        title=dataset.case_study.title, contract=task.contract,
        request_rows=task.request_rows, latency_budget_ms=task.latency_budget_ms))
    checked = run_in(example_python, ["validator.pyz", "model.onnx", "train.parquet"], tmp_path)
    assert "OK: the server will accept this model." in checked

    report = score_artifact(artifact_path=tmp_path / "model.onnx", task=task,
                            heldout=heldout_load(dataset=dataset),
                            limits=sandbox_limits_for(task))
    assert report.rows_scored == len(built.heldout_labels)
    assert math.isfinite(report.metrics["all"][task.primary_metric])
