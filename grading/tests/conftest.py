import subprocess
import sys
from pathlib import Path

import pytest

from grading.validator.examples import training_example


def train_example_model(built, directory: Path) -> Path:
    """Run the case-study page's copy-paste example on the training data; return model.onnx."""
    from grading.datasets import write_training_files

    directory.mkdir(parents=True, exist_ok=True)
    write_training_files(built, directory)
    script = directory / "train_example.py"
    script.write_text(training_example(built.spec, validator_name="validator.pyz"))
    result = subprocess.run([sys.executable, script.name], cwd=directory, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return directory / "model.onnx"


def fake_report(*, case_study, public: float, private: float, half_width: float = 0.01,
                latency_ms: float = 5.0):
    """A ScoreReport as the scorer would produce it, for leaderboard tests that need many
    scores without running models."""
    from grading.engine.scoring import ScoreReport

    key = case_study.primary_metric
    return ScoreReport(
        primary_metric=key, direction="lower",
        metrics={"public": {key: public}, "private": {key: private},
                 "all": {key: (public + private) / 2}},
        intervals={"public": {"low": public - half_width, "high": public + half_width,
                              "method": "normal", "level": 0.95},
                   "private": {"low": private - half_width, "high": private + half_width,
                               "method": "normal", "level": 0.95}},
        per_slice={"public": {"week 1": public}, "all": {"week 1": private}},
        latency_p50_ms=latency_ms / 2, latency_p99_ms=latency_ms,
        latency_budget_ms=case_study.latency_budget_ms, within_latency_budget=True,
        artifact_format="onnx", artifact_bytes=1234, rows_scored=100, network_isolated=True,
        plots={"public": {}, "all": {}}, timings={"total_seconds": 0.5},
    )


@pytest.fixture
def scored(tiny_dataset):
    """``scored(slug, user, public=..., private=...)`` stores a scored submission."""
    from grading.models import Dataset
    from grading.services.submissions import score_report_save
    from grading.tests.factories import SubmissionFactory

    def make(slug, candidate, *, public, private, half_width=0.01, baseline_name="",
             latency_ms=5.0):
        dataset = Dataset.objects.filter(case_study__slug=slug, is_active=True).first()
        if dataset is None:
            dataset, _ = tiny_dataset(slug)
        submission = SubmissionFactory(case_study=dataset.case_study, candidate=candidate,
                                       baseline_name=baseline_name, artifact_file=True)
        report = fake_report(case_study=dataset.case_study, public=public, private=private,
                             half_width=half_width, latency_ms=latency_ms)
        score_report_save(submission=submission, dataset=dataset, report=report)
        submission.refresh_from_db()
        return submission

    return make
