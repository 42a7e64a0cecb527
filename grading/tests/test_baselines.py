"""Tests for the baseline models and their ONNX export (plain pytest, no Django).

Run: ``.venv/bin/python -m pytest -p no:django grading/tests/test_baselines.py``.
Fast tests use the "tiny" datasets. Tests marked ``slow`` fit the baselines on the
"default" datasets (~30-40 s in total on 2 cores) and check that each case's
design choice pays off on the held-out split; deselect with ``-m "not slow"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from grading.baselines.featurizer import ContractFeaturizer
from grading.baselines.onnx_export import export_onnx, onnx_feeds
from grading.baselines.training import (
    design_choice_gain,
    evaluate,
    fit_recipe,
    train_baselines,
)
from grading.datasets import CASE_SLUGS, baseline_recipes, build_dataset
from grading.engine import metrics
from grading.tests.dataset_secrets import TEST_SECRET

ort = pytest.importorskip("onnxruntime")

_BUILDS: dict[tuple[str, str], object] = {}
_MODELS: dict[tuple[str, str], dict] = {}


def built(slug, size="tiny"):
    if (slug, size) not in _BUILDS:
        _BUILDS[(slug, size)] = build_dataset(slug, secret=TEST_SECRET, size=size)
    return _BUILDS[(slug, size)]


def models(slug, size="tiny"):
    if (slug, size) not in _MODELS:
        _MODELS[(slug, size)] = train_baselines(built(slug, size))
    return _MODELS[(slug, size)]


def run_onnx(path, spec, features):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out = dict(
        zip(
            [o.name for o in sess.get_outputs()],
            sess.run(None, onnx_feeds(spec, features)),
            strict=True,
        )
    )
    if spec.task_type == "binary":
        return out["probabilities"][:, 1], out
    (only,) = out.values()
    return only[:, 0], out


cases = pytest.mark.parametrize("slug", CASE_SLUGS)


# --- featurizer unit tests ------------------------------------------------------------------------
def _toy():
    rng = np.random.default_rng(0)
    n = 4000
    frame = pd.DataFrame(
        {
            "uid": rng.integers(1, 50, n).astype(np.int64),
            "cat": pd.array(rng.choice(["a", "b", "c"], n).astype(object), dtype="str"),
            "x": rng.normal(size=n).astype(np.float32),
        }
    )
    y = (rng.random(n) < 0.1 + 0.3 * (frame["cat"] == "a")).astype(int)
    return frame, y.to_numpy()


def test_target_encoding_is_out_of_fold_and_unseen_is_zero():
    frame, y = _toy()
    cols = (("uid", "int64"), ("cat", "string"), ("x", "float32"))
    f = ContractFeaturizer(
        columns=cols, blocks=(("te", ("cat",)), ("te", ("uid", "cat"))), standardize=False
    )
    oof = f.fit_transform(frame, y)
    full = f.transform(frame)
    assert oof.shape == full.shape == (len(frame), 2)
    assert not np.allclose(oof, full)  # fitting rows do not see their own label
    a = (frame["cat"] == "a").to_numpy()
    assert full[a, 0].mean() > 0 > full[~a, 0].mean()
    unseen = pd.DataFrame({"uid": [10_000], "cat": ["zzz"], "x": [0.0]})
    np.testing.assert_array_equal(f.transform(unseen), np.zeros((1, 2), dtype=np.float32))
    # a key seen once has no out-of-fold evidence: encoded as 0 while fitting
    one = pd.concat(
        [frame, pd.DataFrame({"uid": [777], "cat": ["a"], "x": [0.0]})], ignore_index=True
    )
    enc = ContractFeaturizer(
        columns=cols, blocks=(("te", ("uid",)),), standardize=False
    ).fit_transform(one, np.r_[y, 1])
    assert enc[-1, 0] == 0.0


def test_single_tensor_layout_export(tmp_path):
    """An all-numeric contract exports with one float32 [N, C] input named "input"."""
    b = built("food-delivery-time")
    spec = b.spec
    assert spec.all_numeric
    m = models("food-delivery-time")["reasonable"]
    path = m.export_onnx(tmp_path / "m.onnx")
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (inp,) = sess.get_inputs()
    assert (
        inp.name == "input"
        and inp.type == "tensor(float)"
        and inp.shape[1] == len(spec.feature_columns)
    )
    assert m.input_layout == "single_tensor"


# --- baselines on tiny data ---------------------------------------------------------
@cases
def test_train_baselines_shapes(slug):
    b = built(slug)
    ms = models(slug)
    assert set(ms) == {"trivial", "reasonable"}
    for name, m in ms.items():
        assert m.description and m.spec is b.spec
        p = m.predict(b.heldout_features)
        assert p.shape == (b.n_heldout,) and np.isfinite(p).all()
        if b.spec.task_type == "binary":
            assert ((p >= 0) & (p <= 1)).all()
        if name == "trivial" and slug in ("ad-click-prediction", "feed-ranking"):
            assert np.allclose(p, b.train[b.spec.label_column].mean(), atol=1e-3)
        if name == "trivial" and slug == "food-delivery-time":
            assert np.allclose(p, b.train["delivery_minutes"].mean(), atol=1e-2)


@cases
def test_onnx_export_matches_pipeline_and_platform_contract(tmp_path, slug):
    b = built(slug)
    for name, m in models(slug).items():
        path = export_onnx(m.pipeline, b.spec, tmp_path / f"{name}.onnx")
        scores, outputs = run_onnx(path, b.spec, b.heldout_features)
        expected = m.predict(b.heldout_features)
        err = np.abs(scores - expected)
        # linear models match to float32 precision; trees may flip a rare split on float32 rounding
        assert np.quantile(err, 0.99) < 1e-4, (name, err.max())
        assert err.max() < (
            1e-4 if isinstance(m.pipeline.steps[-1][1], LogisticRegression) else 0.5
        )
        if b.spec.task_type == "ranking":
            assert list(outputs) == ["score"]
        # the platform's own static checks accept the artifact
        onnx_checks = pytest.importorskip("grading.engine.onnx_checks")
        plan = onnx_checks.inspect_onnx(path, b.spec.input_contract())
        assert plan.layout.kind == m.input_layout
        # ...and its feeding code gives the same predictions
        contract = b.spec.input_contract()
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        raw = dict(
            zip(
                [o.name for o in sess.get_outputs()],
                sess.run(None, contract.feeds(b.heldout_features, plan.layout)),
                strict=True,
            )
        )
        got = contract.validate_predictions(raw[plan.output.name], b.n_heldout)
        np.testing.assert_allclose(got, scores, atol=1e-6)


@cases
def test_request_sized_batches(tmp_path, slug):
    """Scoring one request (spec.request_rows rows) works and matches the full batch."""
    b = built(slug)
    m = models(slug)["reasonable"]
    path = m.export_onnx(tmp_path / "m.onnx")
    k = b.spec.request_rows
    full, _ = run_onnx(path, b.spec, b.heldout_features)
    part, _ = run_onnx(path, b.spec, b.heldout_features.iloc[:k])
    np.testing.assert_allclose(part, full[:k], rtol=1e-5, atol=1e-6)


@cases
def test_evaluate_scores_with_the_platform_metrics(slug):
    """Baseline figures are the numbers an upload with the same predictions would get."""
    b = built(slug)
    p = models(slug)["reasonable"].predict(b.heldout_features)
    key = b.spec.primary_metric
    got = evaluate(b, p, by_slice=True)
    assert got[key] == metrics.compute(key, b.heldout_labels, p, b.heldout_groups)
    week = b.heldout_slices == "week 2"
    groups = None if b.heldout_groups is None else b.heldout_groups[week]
    assert got[f"{key}[week 2]"] == metrics.compute(key, b.heldout_labels[week], p[week], groups)


@cases
def test_recipes_fit_with_their_declared_output(slug):
    """Each case's recipes (beside its generator) fit into a model whose output kind and
    description come from the recipe."""
    b = built(slug)
    recipe = baseline_recipes(slug)["without_design_choice"]
    model = fit_recipe(b, "without_design_choice")
    assert model.output_kind == recipe.output and model.description == recipe.description
    assert model.pipeline.named_steps["features"].blocks == recipe.blocks
    assert type(model.pipeline.named_steps["model"]).__name__ == recipe.estimator.class_name


# --- design choices on default data (slow) ------------------------------------------
@pytest.mark.slow
@cases
def test_design_choice_gain_has_the_right_sign(slug):
    b = built(slug, "default")
    reasonable = models(slug, "default")["reasonable"]
    gain = design_choice_gain(b, with_model=reasonable)
    assert gain["case"] == slug and gain["metric"] == b.spec.primary_metric
    assert gain["gain"] > 0, gain
    if slug == "food-delivery-time":
        assert gain["linear_gain"] > 1.0, gain  # haversine matters a lot for a linear model
    # the reasonable baseline beats the trivial one on the primary metric
    key = b.spec.primary_metric
    trivial = evaluate(b, models(slug, "default")["trivial"].predict(b.heldout_features), [key])[
        key
    ]
    better = gain["with"] > trivial if gain["higher_is_better"] else gain["with"] < trivial
    assert better, (gain, trivial)


@pytest.mark.slow
def test_video_metadata_model_beats_random():
    b = built("video-recommendation", "default")
    meta = fit_recipe(b, "without_design_choice")
    ndcg_meta = evaluate(b, meta.predict(b.heldout_features), ["ndcg_at_10"])["ndcg_at_10"]
    rng = np.random.default_rng(0)
    ndcg_random = np.mean(
        [evaluate(b, rng.random(b.n_heldout), ["ndcg_at_10"])["ndcg_at_10"] for _ in range(3)]
    )
    assert ndcg_meta > ndcg_random + 0.05, (ndcg_meta, ndcg_random)
