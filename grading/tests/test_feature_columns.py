"""The held-out features written once per dataset and contract (``FeatureColumns``) and
copied into each job's folder: the same files the child would get from a DataFrame."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from grading.engine.contract import InputContract
from grading.engine.sandbox import SandboxLimits, run_in_sandbox
from grading.engine.sandbox.features import (
    COLUMNS_FILE,
    FeatureColumns,
    _write_features,
    feature_columns_open,
    feature_columns_write,
)
from grading.tests import hostile
from grading.tests.sandbox_probe import CONTRACT

MIXED = InputContract(columns=(("city", "string"), ("x", "float32"), ("n", "int64")),
                      task_type="regression")


def _frame(rows: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({
        "city": rng.choice(["Lisbon", "Paris", "Oslo"], size=rows),
        "x": rng.normal(size=rows).astype(np.float32),
        "n": rng.integers(0, 9, size=rows),
        "label": rng.normal(size=rows),  # never written: not a contract column
    })


def test_a_jobs_copy_of_the_columns_is_what_the_frame_would_have_written(tmp_path):
    frame = _frame()
    columns = feature_columns_write(frame, MIXED, tmp_path / "cache")
    assert len(columns) == 50
    assert _write_features(columns, MIXED, tmp_path / "job-a") == 50
    assert _write_features(frame, MIXED, tmp_path / "job-b") == 50
    names = sorted(p.name for p in (tmp_path / "job-a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "job-b").iterdir())
    assert names == ["c0.npy", "c0_values.npy", "c1.npy", "c2.npy"]  # no label, no json
    for name in names:
        assert (tmp_path / "job-a" / name).read_bytes() == (tmp_path / "job-b" / name).read_bytes()


def test_columns_are_kept_for_their_contract_only(tmp_path):
    cache = tmp_path / "cache"
    first = feature_columns_write(_frame(), MIXED, cache)
    inode = (cache / "c1.npy").stat().st_ino
    assert feature_columns_open(cache, MIXED) == first
    other = InputContract(columns=(("x", "float32"),), task_type="regression")
    assert feature_columns_open(cache, other) is None
    with pytest.raises(ValueError, match="another contract"):
        _write_features(first, other, tmp_path / "job")
    # Written again over columns of another contract (or a damaged file), never reused.
    (cache / COLUMNS_FILE).chmod(0o644)
    (cache / COLUMNS_FILE).write_text(json.dumps({"contract": other.to_dict(), "rows": 50}))
    again = feature_columns_write(_frame(), MIXED, cache)
    assert again == first and (cache / "c1.npy").stat().st_ino != inode


def test_a_model_scored_on_cached_columns_predicts_as_on_the_frame(tmp_path):
    rows = np.random.default_rng(5).normal(size=(30, 3)).astype(np.float32)
    frame = pd.DataFrame({name: rows[:, i] for i, name in enumerate("abc")})
    columns = feature_columns_write(frame, CONTRACT, tmp_path / "cache")
    assert isinstance(columns, FeatureColumns)
    model = hostile.good_onnx(tmp_path / "good.onnx")
    limits = SandboxLimits(latency_repeats=2, load_test_requests=0)
    result = run_in_sandbox(model, None, columns, CONTRACT, limits)
    np.testing.assert_allclose(result.predictions, hostile.expected_good_scores(rows),
                               atol=1e-6)
