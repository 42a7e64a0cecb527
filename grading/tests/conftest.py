import subprocess
import sys
from pathlib import Path

import pytest

from grading.examples import training_example


@pytest.fixture
def data_dirs(settings, tmp_path):
    """Private data and media in this test's own folders."""
    settings.PRIVATE_DATA_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings


@pytest.fixture
def tiny_dataset(catalogue, data_dirs):
    """Build the tiny dataset of a case study: ``tiny_dataset("food-delivery-time")``."""
    from grading import services
    from interviews.models import CaseStudy

    def build(slug: str):
        case_study = CaseStudy.objects.get(slug=slug)
        dataset, built = services.dataset_build(case_study=case_study, size="tiny")
        return dataset, built

    return build


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
