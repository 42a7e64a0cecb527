"""``metrics.Prepared``: one validation and one sort per scoring job must give exactly what
separate calls on each part give (the shortcuts are only about time)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grading.engine import metrics as M
from grading.engine import scoring
from grading.engine.metrics import ranking

SEEDS = range(6)


def _ranking_rows(seed: int, *, ties: bool, group_slices: bool):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 30, size=120)
    ids = rng.permutation(10_000)[: len(sizes)]  # ids out of order, as in the held-out files
    groups = np.repeat(ids, sizes)
    n = len(groups)
    relevance = rng.integers(0, 4, n) * (rng.random(n) < 0.3)
    scores = relevance + rng.normal(0, 1.5, n)
    if ties:
        scores = np.round(scores)  # many ties inside groups
    group_week = rng.integers(1, 5, size=len(sizes))
    weeks = np.repeat(group_week, sizes) if group_slices else rng.integers(1, 5, n)
    slices = np.array([f"week {w}" for w in range(1, 5)])[weeks - 1]
    public = np.repeat(rng.random(len(sizes)) < 0.3, sizes)
    return relevance.astype(float), scores, groups, slices, public


def _binary_rows(seed: int, n: int = 3000):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(float)
    p = np.clip(0.1 + 0.4 * y + rng.normal(0, 0.15, n), 0, 1)
    p = np.round(p, 2)  # ties
    return y, p


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("ties", [False, True])
def test_group_then_score_order_is_lexsort(seed, ties):
    _, scores, groups, _, _ = _ranking_rows(seed, ties=ties, group_slices=True)
    expected = np.lexsort((-scores, groups))
    assert np.array_equal(ranking._by_group_then_score(scores, groups), expected)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("ties", [False, True])
def test_ranking_parts_equal_separate_calls(seed, ties):
    y, p, g, _, public = _ranking_rows(seed, ties=ties, group_slices=True)
    whole = M.prepare("ranking", y, p, g)
    keys = ["ndcg_at_10", "mrr", "map_at_10", "recall_at_10"]
    whole.compute_many(keys)  # the whole's ranking exists before the parts derive theirs
    for mask in (public, ~public):
        part = whole.subset(mask)
        assert part.compute_many(keys) == M.compute_many(keys, y[mask], p[mask], g[mask])
        assert part.interval("ndcg_at_10") == M.confidence_interval(
            "ndcg_at_10", y[mask], p[mask], g[mask])
        curve = part.ndcg_curve(12)
        assert len(curve) == 12
        assert math.isclose(curve[9], M.compute("ndcg_at_10", y[mask], p[mask], g[mask]),
                            rel_tol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("group_slices", [True, False])
def test_per_slice_fast_path_equals_slice_by_slice(seed, group_slices):
    y, p, g, slices, _ = _ranking_rows(seed, ties=False, group_slices=group_slices)
    codes, labels = M.slice_codes(slices)
    fast = M.prepare("ranking", y, p, g).per_slice("ndcg_at_10", codes, labels)
    slow = {}
    for label in sorted(set(slices)):
        m = slices == label
        try:
            slow[label] = M.compute("ndcg_at_10", y[m], p[m], g[m])
        except M.MetricUndefined:
            continue
    assert fast == slow
    assert M.per_slice("ndcg_at_10", y, p, slices, g) == slow


@pytest.mark.parametrize("seed", SEEDS)
def test_binary_parts_equal_separate_calls(seed):
    y, p = _binary_rows(seed)
    mask = np.random.default_rng(seed + 100).random(len(y)) < 0.3
    whole = M.prepare("binary", y, p)
    keys = ["log_loss", "normalized_entropy", "roc_auc", "pr_auc",
            "expected_calibration_error", "calibration_ratio"]
    assert whole.compute_many(keys) == pytest.approx(M.compute_many(keys, y, p), rel=1e-12)
    part = whole.subset(mask)
    separate = M.compute_many(keys, y[mask], p[mask])
    assert part.compute_many(keys) == pytest.approx(separate, rel=1e-12)
    for key in ("log_loss", "normalized_entropy", "roc_auc"):
        got, want = part.interval(key), M.confidence_interval(key, y[mask], p[mask])
        assert got.method == want.method
        assert (got.low, got.high) == pytest.approx((want.low, want.high), rel=1e-12)
    # The derived order sorts the part's predictions.
    assert (np.diff(part.y_pred[part.order]) >= 0).all()


def test_binary_curves_from_shared_order_match_scikit_learn():
    from sklearn.metrics import precision_recall_curve, roc_curve

    y, p = _binary_rows(3)
    rows = M.prepare("binary", y, p).subset(np.arange(len(y)) % 3 != 0)
    fpr, tpr, recall, precision = scoring._binary_curves(rows.y_true, rows.y_pred, rows.order)
    sk_fpr, sk_tpr, _ = roc_curve(rows.y_true, rows.y_pred)
    sk_precision, sk_recall, _ = precision_recall_curve(rows.y_true, rows.y_pred)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    np.testing.assert_allclose(recall, sk_recall[::-1])
    np.testing.assert_allclose(precision, sk_precision[::-1])


def test_regression_row_values_and_p90():
    rng = np.random.default_rng(5)
    y = rng.gamma(3, 10, 5000)
    y[:50] = 0.0  # mape drops these rows: its values are not the whole's, masked
    p = y + rng.normal(0, 4, len(y))
    mask = rng.random(len(y)) < 0.4
    keys = ["rmse", "mae", "mape", "p90_abs_error", "share_under_estimated"]
    part = M.prepare("regression", y, p).subset(mask)
    assert part.compute_many(keys) == pytest.approx(
        M.compute_many(keys, y[mask], p[mask]), rel=1e-12)
    got, want = part.interval("p90_abs_error"), M.confidence_interval(
        "p90_abs_error", y[mask], p[mask])
    assert (got.low, got.high) == (want.low, want.high)


def test_histogram_2d_matches_numpy():
    rng = np.random.default_rng(8)
    x = np.round(rng.normal(30, 10, 20_000))
    y = x + rng.normal(0, 5, len(x))
    lo, hi = 0.0, 50.0
    x, y = np.clip(x, lo, hi), np.clip(y, lo, hi)
    grid, edges = scoring._histogram_2d(x, y, lo, hi)
    expected, x_edges, _ = np.histogram2d(x, y, bins=scoring.SCATTER_CELLS,
                                          range=[[lo, hi], [lo, hi]])
    assert np.array_equal(grid, expected)
    assert np.array_equal(edges, x_edges)
    assert grid.sum() == len(x)  # rows clipped onto the top edge are counted, not dropped


def test_slice_codes():
    codes, labels = M.slice_codes(np.array(["week 2", "week 1", "week 2", "week 10"]))
    assert labels == ["week 1", "week 10", "week 2"]
    assert codes.tolist() == [2, 0, 2, 1]
    many = np.arange(200)[::-1] % 100  # more labels than the per-label passes take
    codes, labels = M.slice_codes(many)
    assert labels == [str(i) for i in range(100)]
    assert np.array_equal(np.array(labels)[codes], many.astype(str))
    with pytest.raises(ValueError, match="length mismatch"):
        M.slice_codes(["a", "b"], 3)


def test_prepared_refuses_metrics_of_another_task():
    rows = M.prepare("regression", [1.0, 2.0], [1.5, 2.5])
    with pytest.raises(ValueError, match="validated for regression"):
        rows.point("roc_auc")
