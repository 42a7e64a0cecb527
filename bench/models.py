"""Real ONNX models to score, trained once and cached under ``var/bench/models``.

* ``example``: the copy-paste example of the case-study page (logistic regression or ridge on
  one-hot and scaled columns): the smallest model a candidate uploads, so the cheapest
  prediction and the hardest floor to stay close to.
* ``reasonable``: the case study's "reasonable" baseline (target encodings, and gradient-boosted
  trees for the ranking and regression cases): what a competitive candidate uploads.

Both are trained on the "default" training split; the contract is the same for every size,
so they score the benchmark's larger held-out splits unchanged. The data comes from the
benchmark's dataset secret (the test settings' one, committed: benchmark data is not a
deployment's), so a model is cached per secret too.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from bench.common import ROOT, VAR_DIR, log

MODEL_KINDS = ("example", "reasonable")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12]


def model_path(slug: str, kind: str) -> Path:
    """The ONNX file of ``kind`` for ``slug``, training it first if the cache has none."""
    from grading.datasets import GENERATOR_VERSIONS, baseline_recipes, dataset_spec
    from grading.services.datasets import dataset_secret
    from grading.validator.examples import training_example

    spec = dataset_spec(slug)
    if kind == "example":
        source = training_example(spec, validator_name="validator.pyz")
    elif kind == "reasonable":
        # stale when the featurizer, the export or the case's recipe changes
        package = sorted((ROOT / "grading" / "baselines").glob("*.py"))
        source = "".join(p.read_text() for p in package) + repr(baseline_recipes(slug)[kind])
    else:
        raise ValueError(f"unknown model kind {kind!r}")
    secret = dataset_secret()
    key = _digest(slug, kind, str(GENERATOR_VERSIONS[slug]), secret.key_id, source)
    directory = VAR_DIR / "models" / f"{slug}-{kind}-{key}"
    path = directory / "model.onnx"
    if path.exists():
        return path
    log(f"training the {kind} model of {slug} (cached afterwards)")
    directory.mkdir(parents=True, exist_ok=True)
    from grading.datasets import build_dataset, write_training_files

    built = build_dataset(slug, secret=secret, size="default")
    if kind == "example":
        write_training_files(built, directory)
        (directory / "train_example.py").write_text(source)
        result = subprocess.run([sys.executable, "train_example.py"], cwd=directory,
                                capture_output=True, text=True, timeout=600, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"training the example model failed: {result.stderr[-2000:]}")
        for name in ("train.csv", "train.parquet"):
            (directory / name).unlink(missing_ok=True)
    else:
        from grading.baselines.training import fit_recipe

        fit_recipe(built, "reasonable").export_onnx(path)
    return path
