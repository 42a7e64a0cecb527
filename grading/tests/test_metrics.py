"""Tests for grading.engine.metrics (pure numpy; no Django needed).

Run: .venv/bin/python -m pytest grading/tests/test_metrics.py -p no:django -q
"""

import math

import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    log_loss,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    ndcg_score,
    roc_auc_score,
)

from grading.engine import metrics as M
from grading.engine.metrics import Direction, Interval, MetricUndefined, estimates

BINARY_KEYS = [
    "log_loss",
    "normalized_entropy",
    "roc_auc",
    "pr_auc",
    "expected_calibration_error",
    "calibration_ratio",
]
RANKING_KEYS = ["ndcg_at_10", "mrr", "map_at_10", "recall_at_10"]
REGRESSION_KEYS = ["rmse", "mae", "mape", "p90_abs_error", "share_under_estimated"]
ALL_KEYS = BINARY_KEYS + RANKING_KEYS + REGRESSION_KEYS


# ---------------------------------------------------------------------------------------
# Data helpers
# ---------------------------------------------------------------------------------------


def binary_data(n, seed=0, signal=1.5):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    logit = signal * (2 * y - 1) + rng.normal(0, 1.5, n)
    return y, 1 / (1 + np.exp(-logit))


def ranking_data(n_groups, seed=0, size=(2, 30), graded=True, signal=1.0):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(size[0], size[1] + 1, n_groups)
    groups = np.repeat(np.arange(n_groups), sizes)
    rng.shuffle(groups)  # rows of a group need not be contiguous
    n = len(groups)
    rel = rng.choice([0, 0, 0, 1, 2] if graded else [0, 0, 1], n).astype(float)
    score = signal * rel + rng.normal(0, 1, n)
    return rel, score, groups


def regression_data(n, seed=0, noise=1.0):
    rng = np.random.default_rng(seed)
    y = rng.normal(10, 3, n)
    return y, y + rng.normal(0, noise, n)


def data_for(key, scale=1, seed=0):
    """(y_true, y_pred, groups) suitable for metric ``key``; size grows with ``scale``."""
    task = M.metric_get(key).task_type
    if task == "binary":
        y, p = binary_data(400 * scale, seed)
        return y, p, None
    if task == "ranking":
        return ranking_data(100 * scale, seed)
    y, p = regression_data(400 * scale, seed)
    return y, p, None


def reference_ranking(rel, score, groups, k=10):
    """Loop-per-group reference: dict key -> mean over groups with a relevant item."""
    per = {key: [] for key in RANKING_KEYS}
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        order = sorted(idx, key=lambda i: (-score[i], i))  # ties: original row order
        r = rel[order]
        n_rel = int((r > 0).sum())
        if n_rel == 0:
            continue
        disc = 1 / np.log2(np.arange(2, len(r) + 2))
        dcg = ((2 ** r[:k] - 1) * disc[:k]).sum()
        ideal = np.sort(r)[::-1]
        per["ndcg_at_10"].append(dcg / ((2 ** ideal[:k] - 1) * disc[:k]).sum())
        per["mrr"].append(1 / (np.flatnonzero(r > 0)[0] + 1))
        hits, ap = 0, 0.0
        for i, x in enumerate(r[:k]):
            if x > 0:
                hits += 1
                ap += hits / (i + 1)
        per["map_at_10"].append(ap / min(n_rel, k))
        per["recall_at_10"].append((r[:k] > 0).sum() / n_rel)
    return {key: float(np.mean(v)) for key, v in per.items()}


# ---------------------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------------------


def test_registry():
    assert list(M.METRICS) == ALL_KEYS
    assert [m.key for m in M.metrics_for_task("binary")] == BINARY_KEYS
    assert [m.key for m in M.metrics_for_task("ranking")] == RANKING_KEYS
    assert [m.key for m in M.metrics_for_task("regression")] == REGRESSION_KEYS
    for key, m in M.METRICS.items():
        assert m.key == key and m.label
        assert m.grouped == (key in RANKING_KEYS)
    assert M.metric_get("calibration_ratio").direction == Direction.TARGET_ONE
    assert M.metric_get("share_under_estimated").direction == Direction.LOWER
    assert M.metric_get("roc_auc").direction == "higher"
    with pytest.raises(KeyError, match="unknown metric 'nope'.*log_loss"):
        M.metric_get("nope")
    with pytest.raises(ValueError, match="unknown task type"):
        M.metrics_for_task("clustering")
    y, p = binary_data(50)
    assert M.metric_get("log_loss").fn(y, p) == M.compute("log_loss", y, p)


def test_is_better():
    assert M.is_better("roc_auc", 0.8, 0.7) and not M.is_better("roc_auc", 0.7, 0.8)
    assert M.is_better("log_loss", 0.2, 0.3) and not M.is_better("log_loss", 0.3, 0.3)
    assert M.is_better("calibration_ratio", 0.95, 1.1)
    assert M.is_better("calibration_ratio", 1.04, 0.9)
    assert not M.is_better("calibration_ratio", 1.2, 0.9)
    assert not M.is_better("roc_auc", math.nan, 0.5)
    assert not M.is_better("roc_auc", 0.5, math.nan)


# ---------------------------------------------------------------------------------------
# Binary metrics
# ---------------------------------------------------------------------------------------


def test_binary_against_sklearn():
    y, p = binary_data(2000)
    p = np.round(p, 2)  # ties, to exercise midranks / tied thresholds
    assert M.compute("log_loss", y, p) == pytest.approx(log_loss(y, p), rel=1e-12)
    assert M.compute("roc_auc", y, p) == pytest.approx(roc_auc_score(y, p), rel=1e-12)
    assert M.compute("pr_auc", y, p) == pytest.approx(average_precision_score(y, p), rel=1e-12)
    base = y.mean()
    entropy = -(base * np.log(base) + (1 - base) * np.log(1 - base))
    assert M.compute("normalized_entropy", y, p) == pytest.approx(log_loss(y, p) / entropy)


def test_log_loss_clipping():
    # Predictions are clipped to [1e-15, 1 - 1e-15], so a confident miss costs ~34.54 nats.
    assert M.compute("log_loss", [1], [0.0]) == pytest.approx(-math.log(1e-15), rel=1e-12)
    # 1 - 1e-15 is not exactly representable in float64, hence the looser tolerance.
    assert M.compute("log_loss", [0], [1.0]) == pytest.approx(-math.log(1e-15), rel=1e-4)
    assert M.compute("log_loss", [1, 0], [1.0, 0.0]) < 1e-14


def test_normalized_entropy_hand_worked():
    # Predicting the base rate everywhere gives NE == 1 exactly.
    assert M.compute("normalized_entropy", [1, 1, 1, 0], [0.75] * 4) == pytest.approx(1.0)
    # y = [1, 0], p = [0.8, 0.4]: LL = -(ln 0.8 + ln 0.6) / 2, entropy(0.5) = ln 2.
    expected = -(math.log(0.8) + math.log(0.6)) / 2 / math.log(2)
    assert M.compute("normalized_entropy", [1, 0], [0.8, 0.4]) == pytest.approx(expected)
    with pytest.raises(MetricUndefined):
        M.compute("normalized_entropy", [1, 1], [0.5, 0.5])


def test_ece_and_calibration_ratio_hand_worked():
    y = [0, 1, 1, 1]
    p = [0.1, 0.1, 0.9, 0.9]
    # Bin 1 (0.1): |0.1 - 0.5| * 2/4 = 0.2; bin 13 (0.9): |0.9 - 1.0| * 2/4 = 0.05.
    assert M.compute("expected_calibration_error", y, p) == pytest.approx(0.25)
    # Mean prediction 0.5, observed rate 0.75.
    assert M.compute("calibration_ratio", y, p) == pytest.approx(0.5 / 0.75)
    # p == 1.0 goes in the last bin; 0.0 and 1/15 are in different bins.
    assert M.compute("expected_calibration_error", [1, 1], [1.0, 1.0]) == 0.0
    assert M.compute("expected_calibration_error", [0, 1], [0.0, 1 / 15]) == pytest.approx(
        0.5 * 0 + 0.5 * (1 - 1 / 15)
    )
    with pytest.raises(MetricUndefined):
        M.compute("calibration_ratio", [0, 0], [0.1, 0.2])


def test_single_class_auc_undefined_and_skipped():
    y = np.zeros(20)
    p = np.linspace(0.05, 0.5, 20)
    with pytest.raises(MetricUndefined):
        M.compute("roc_auc", y, p)
    with pytest.raises(ValueError):  # MetricUndefined is a ValueError
        M.confidence_interval("roc_auc", y, p)
    out = M.compute_all("binary", y, p)
    assert "roc_auc" not in out and "pr_auc" not in out and "normalized_entropy" not in out
    assert set(out) == {"log_loss", "expected_calibration_error"}
    assert all(math.isfinite(v) for v in out.values())


def test_compute_all_binary_adds_ranking_with_groups():
    y, p = binary_data(600)
    groups = np.arange(600) // 12
    plain = M.compute_all("binary", y, p)
    assert list(plain) == BINARY_KEYS
    with_groups = M.compute_all("binary", y, p, groups=groups)
    assert list(with_groups) == BINARY_KEYS + RANKING_KEYS
    assert with_groups["ndcg_at_10"] == pytest.approx(M.compute("ndcg_at_10", y, p, groups))
    assert all(math.isfinite(v) for v in with_groups.values())


# ---------------------------------------------------------------------------------------
# Ranking metrics
# ---------------------------------------------------------------------------------------


def test_ndcg_binary_labels_against_sklearn():
    rel, score, groups = ranking_data(200, seed=1, graded=False)
    expected = []
    for g in np.unique(groups):
        m = groups == g
        if rel[m].sum() > 0:  # groups without a relevant item are excluded
            expected.append(ndcg_score([rel[m]], [score[m]], k=10))
    assert M.compute("ndcg_at_10", rel, score, groups) == pytest.approx(np.mean(expected))


def test_ndcg_graded_hand_worked():
    # Group "a" ranked [2, 0, 1]: DCG = 3/log2(2) + 0 + 1/log2(4) = 3.5;
    # ideal [2, 1, 0]: 3 + 1/log2(3). Group "b" has no relevant item: excluded.
    rel = [0, 1, 2, 0, 0]
    score = [2.0, 1.0, 3.0, 5.0, 4.0]
    groups = ["a", "a", "a", "b", "b"]
    expected = 3.5 / (3 + 1 / math.log2(3))
    assert M.compute("ndcg_at_10", rel, score, groups) == pytest.approx(expected)


def test_ndcg_cutoff_at_10():
    # The only relevant item is ranked 11th: NDCG@10 = 0, recall@10 = 0, MRR = 1/11.
    rel = [0] * 10 + [1]
    score = list(range(11, 0, -1))
    groups = [7] * 11
    assert M.compute("ndcg_at_10", rel, score, groups) == 0.0
    assert M.compute("recall_at_10", rel, score, groups) == 0.0
    assert M.compute("map_at_10", rel, score, groups) == 0.0
    assert M.compute("mrr", rel, score, groups) == pytest.approx(1 / 11)


def test_ranking_ties_broken_by_row_order():
    # Equal scores: the earlier row is ranked first.
    assert M.compute("mrr", [0, 1], [0.5, 0.5], [1, 1]) == pytest.approx(0.5)
    assert M.compute("mrr", [1, 0], [0.5, 0.5], [1, 1]) == pytest.approx(1.0)


def test_mrr_map_recall_hand_worked():
    # Group 1 ranked [0, 1, 0, 1]; group 2 ranked [1, 0, 0]; group 3 has nothing relevant;
    # group 4: relevant items at ranks 1 and 11.
    rel = [0, 1, 0, 1] + [1, 0, 0] + [0, 0] + [1] + [0] * 9 + [1]
    score = [4, 3, 2, 1] + [3, 2, 1] + [2, 1] + list(range(11, 0, -1))
    groups = [1] * 4 + [2] * 3 + [3] * 2 + [4] * 11
    # MRR: 1/2, 1, 1.
    assert M.compute("mrr", rel, score, groups) == pytest.approx((0.5 + 1 + 1) / 3)
    # AP@10: (1/2 + 2/4) / 2 = 0.5; 1; (1/1) / min(2, 10) = 0.5.
    assert M.compute("map_at_10", rel, score, groups) == pytest.approx((0.5 + 1 + 0.5) / 3)
    # Recall@10: 1, 1, 1/2.
    assert M.compute("recall_at_10", rel, score, groups) == pytest.approx((1 + 1 + 0.5) / 3)
    # MAP normalises by min(#relevant, 10): 12 relevant items all in the top 12 -> AP@10 = 1.
    assert M.compute("map_at_10", [1] * 12, range(12), [0] * 12) == pytest.approx(1.0)
    assert M.compute("recall_at_10", [1] * 12, range(12), [0] * 12) == pytest.approx(10 / 12)


def test_ranking_matches_loop_reference_with_ties():
    rel, score, groups = ranking_data(300, seed=3, size=(1, 25))
    score = np.round(score, 1)  # many ties
    ref = reference_ranking(rel, score, groups)
    for key in RANKING_KEYS:
        assert M.compute(key, rel, score, groups) == pytest.approx(ref[key], rel=1e-12), key
    # String group ids give the same result.
    str_groups = np.array([f"q{g}" for g in groups])
    assert M.compute("ndcg_at_10", rel, score, str_groups) == pytest.approx(ref["ndcg_at_10"])


def test_ranking_undefined_and_needs_groups():
    with pytest.raises(MetricUndefined):
        M.compute("ndcg_at_10", [0, 0, 0], [1, 2, 3], [1, 1, 2])
    assert M.compute_all("ranking", [0, 0, 0], [1, 2, 3], [1, 1, 2]) == {}
    with pytest.raises(ValueError, match="groups"):
        M.compute("mrr", [0, 1], [1, 2])
    with pytest.raises(ValueError, match="groups"):
        M.compute_all("ranking", [0, 1], [1, 2])
    with pytest.raises(ValueError, match=">= 0"):
        M.compute("mrr", [-1, 1], [1, 2], [0, 0])


# ---------------------------------------------------------------------------------------
# Regression metrics
# ---------------------------------------------------------------------------------------


def test_regression_against_sklearn():
    y, p = regression_data(1000, seed=2)
    assert M.compute("rmse", y, p) == pytest.approx(math.sqrt(mean_squared_error(y, p)))
    assert M.compute("mae", y, p) == pytest.approx(mean_absolute_error(y, p))
    assert M.compute("mape", y, p) == pytest.approx(100 * mean_absolute_percentage_error(y, p))


def test_mape_excludes_zero_targets():
    y = np.array([0.0, 2.0, 0.0, 4.0])
    p = np.array([5.0, 1.0, -3.0, 5.0])
    # Only rows 2 and 4 count: (50% + 25%) / 2.
    assert M.compute("mape", y, p) == pytest.approx(37.5)
    nz = y != 0
    assert M.compute("mape", y, p) == pytest.approx(
        100 * mean_absolute_percentage_error(y[nz], p[nz])
    )
    with pytest.raises(MetricUndefined):
        M.compute("mape", [0, 0], [1, 2])
    assert "mape" not in M.compute_all("regression", [0, 0], [1, 2])


def test_p90_and_share_under_hand_worked():
    y = np.zeros(10)
    p = np.arange(1, 11, dtype=float)  # |errors| = 1..10
    # Linear interpolation: position 0.9 * 9 = 8.1 -> 9 + 0.1 * (10 - 9).
    assert M.compute("p90_abs_error", y, p) == pytest.approx(9.1)
    # p < y on rows 2 and 4 only (row 3 is exact, not an under-estimate).
    assert M.compute("share_under_estimated", [1, 2, 3, 4], [2, 1, 3, 3]) == 0.5


# ---------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("key", ["log_loss", "roc_auc", "ndcg_at_10", "rmse", "mape"])
def test_non_finite_predictions_raise(key, bad):
    y, p, g = data_for(key)
    p = np.array(p, dtype=float)
    p[3] = bad
    with pytest.raises(ValueError, match="non-finite"):
        M.compute(key, y, p, g)
    with pytest.raises(ValueError, match="non-finite"):
        M.compute_all(M.metric_get(key).task_type, y, p, g)


def test_non_finite_targets_raise():
    with pytest.raises(ValueError, match="y_true contains 1 non-finite"):
        M.compute("mae", [1.0, math.nan], [1.0, 2.0])


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="length mismatch"):
        M.compute("log_loss", [0, 1, 1], [0.2, 0.7])
    with pytest.raises(ValueError, match="length mismatch"):
        M.compute("ndcg_at_10", [0, 1, 1], [0.2, 0.7, 0.1], [1, 1])
    with pytest.raises(ValueError, match="length mismatch"):
        M.compute_all("regression", [1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="length mismatch"):
        M.paired_difference("mae", [1, 2], [1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="length mismatch"):
        M.per_slice("mae", [1, 2], [1, 2], ["a"])
    with pytest.raises(ValueError, match="empty"):
        M.compute("mae", [], [])
    with pytest.raises(ValueError, match="1-D"):
        M.compute("mae", np.ones((3, 2)), np.ones((3, 2)))
    with pytest.raises(ValueError, match="numeric"):
        M.compute("mae", ["a", "b"], [1, 2])
    with pytest.raises(ValueError, match="0 and 1"):
        M.compute("log_loss", [0, 2], [0.2, 0.7])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        M.compute("roc_auc", [0, 1], [0.2, 1.7])
    with pytest.raises(ValueError, match="unknown task type"):
        M.compute_all("clustering", [0, 1], [0.2, 0.7])
    with pytest.raises(ValueError, match="level"):
        M.confidence_interval("mae", [1, 2, 3], [1, 2, 2], level=1.5)
    # A column vector is accepted.
    assert M.compute("mae", np.array([[1.0], [2.0]]), [1.0, 3.0]) == 0.5


# ---------------------------------------------------------------------------------------
# Confidence intervals
# ---------------------------------------------------------------------------------------

EXPECTED_METHOD = {
    "roc_auc": "delong",
    "rmse": "normal_mse_sqrt",
    "pr_auc": "bootstrap",
    "expected_calibration_error": "bootstrap",
    "calibration_ratio": "bootstrap",
    "p90_abs_error": "bootstrap",
}


@pytest.mark.parametrize("key", ALL_KEYS)
def test_interval_contains_point_and_shrinks_with_n(key):
    y, p, g = data_for(key, scale=1)
    point = M.compute(key, y, p, g)
    ci = M.confidence_interval(key, y, p, g)
    assert isinstance(ci, Interval)
    assert ci.method == EXPECTED_METHOD.get(key, "normal")
    assert ci.level == 0.95
    assert ci.low <= point <= ci.high
    assert ci.low < ci.high
    y2, p2, g2 = data_for(key, scale=16, seed=1)
    ci2 = M.confidence_interval(key, y2, p2, g2)
    assert ci2.low <= M.compute(key, y2, p2, g2) <= ci2.high
    # Width ~ 1/sqrt(n): 16x the data should give about a quarter of the width.
    assert (ci2.high - ci2.low) < 0.5 * (ci.high - ci.low)
    # A higher level gives a wider interval.
    ci99 = M.confidence_interval(key, y, p, g, level=0.99)
    assert ci99.level == 0.99
    assert ci99.high - ci99.low > ci.high - ci.low


def test_rmse_and_ne_intervals_are_transformed():
    y, p = regression_data(500)
    sq = (y - p) ** 2
    se = sq.std(ddof=1) / math.sqrt(len(sq))
    ci = M.confidence_interval("rmse", y, p)
    assert ci.low == pytest.approx(math.sqrt(sq.mean() - 1.959964 * se), rel=1e-5)
    assert ci.high == pytest.approx(math.sqrt(sq.mean() + 1.959964 * se), rel=1e-5)

    yb, pb = binary_data(500)
    base = yb.mean()
    entropy = -(base * np.log(base) + (1 - base) * np.log(1 - base))
    ll = M.confidence_interval("log_loss", yb, pb)
    ne = M.confidence_interval("normalized_entropy", yb, pb)
    assert ne.low == pytest.approx(ll.low / entropy)
    assert ne.high == pytest.approx(ll.high / entropy)


def test_delong_agrees_with_bootstrap():
    y, p = binary_data(1500, seed=5, signal=0.8)
    ci = M.confidence_interval("roc_auc", y, p)
    rng = np.random.default_rng(123)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    boot = np.empty(2000)
    for b in range(2000):
        # Resample within class (as DeLong conditions on the class counts).
        idx = np.concatenate([rng.choice(pos, len(pos)), rng.choice(neg, len(neg))])
        boot[b] = M.compute("roc_auc", y[idx], p[idx])
    se_delong = (ci.high - ci.low) / (2 * 1.959964)
    assert se_delong == pytest.approx(boot.std(ddof=1), rel=0.15)
    lo, hi = np.quantile(boot, [0.025, 0.975])
    assert ci.low == pytest.approx(lo, abs=0.01)
    assert ci.high == pytest.approx(hi, abs=0.01)


@pytest.mark.parametrize("key", ["pr_auc", "expected_calibration_error", "calibration_ratio"])
def test_weighted_bootstrap_stat_matches_explicit_resample(key):
    # The bootstrap evaluates metrics with resampling counts as weights; check that this is
    # exactly the metric on the explicitly resampled rows.
    y, p = binary_data(300, seed=7)
    p = np.round(p, 2)
    counts = np.bincount(np.random.default_rng(0).integers(0, 300, 300), minlength=300)
    stat = estimates._WEIGHTED_STATS[key](y.astype(float), p)
    idx = np.repeat(np.arange(300), counts)
    assert stat(counts.astype(float)) == pytest.approx(M.compute(key, y[idx], p[idx]))


def test_weighted_p90_matches_explicit_resample():
    y, p = regression_data(301, seed=8)
    counts = np.bincount(np.random.default_rng(1).integers(0, 301, 301), minlength=301)
    stat = estimates._WEIGHTED_STATS["p90_abs_error"](y, p)
    idx = np.repeat(np.arange(301), counts)
    assert stat(counts.astype(float)) == pytest.approx(M.compute("p90_abs_error", y[idx], p[idx]))


def test_interval_needs_two_units():
    with pytest.raises(MetricUndefined):
        M.confidence_interval("mae", [1.0], [2.0])
    with pytest.raises(MetricUndefined):  # a single group with a relevant item
        M.confidence_interval("mrr", [1, 0, 0], [3, 2, 1], [1, 1, 2])


# ---------------------------------------------------------------------------------------
# Slices and paired comparisons
# ---------------------------------------------------------------------------------------


def test_per_slice():
    y, p = binary_data(900, seed=4)
    slices = np.array(["2024-03", "2024-01", "2024-02"])[np.arange(900) % 3]
    out = M.per_slice("roc_auc", y, p, slices)
    assert list(out) == ["2024-01", "2024-02", "2024-03"]
    for label, value in out.items():
        m = slices == label
        assert value == pytest.approx(M.compute("roc_auc", y[m], p[m]))
    # A slice where the metric is undefined (one class) is left out.
    y2 = y.copy()
    y2[slices == "2024-02"] = 1
    assert list(M.per_slice("roc_auc", y2, p, slices)) == ["2024-01", "2024-03"]


def test_per_slice_ranking():
    rel, score, groups = ranking_data(60, seed=6)
    slices = groups % 2  # whole groups per slice
    out = M.per_slice("ndcg_at_10", rel, score, slices, groups=groups)
    assert list(out) == ["0", "1"]
    m = slices == 1
    assert out["1"] == pytest.approx(M.compute("ndcg_at_10", rel[m], score[m], groups[m]))


def _better_and_worse(key):
    y, p, g = data_for(key, scale=2, seed=9)
    task = M.metric_get(key).task_type
    rng = np.random.default_rng(10)
    if task == "binary":
        y, good = binary_data(800, seed=9, signal=2.0)
        noise = rng.normal(0, 2.0, len(y))
        bad = 1 / (1 + np.exp(-(np.log(good / (1 - good)) * 0.3 + noise)))
        return y, good, bad, None
    if task == "ranking":
        return y, p, p + rng.normal(0, 3, len(p)), g
    return y, p, p + rng.normal(0, 3, len(p)), None


@pytest.mark.parametrize(
    "key", ["log_loss", "roc_auc", "pr_auc", "ndcg_at_10", "mrr", "rmse", "mae", "p90_abs_error"]
)
def test_paired_difference_detects_clearly_better_model(key):
    y, good, bad, g = _better_and_worse(key)
    diff, p = M.paired_difference(key, y, good, bad, g)
    assert p < 0.05
    assert diff == pytest.approx(M.compute(key, y, good, g) - M.compute(key, y, bad, g))
    assert M.is_better(key, M.compute(key, y, good, g), M.compute(key, y, bad, g))
    assert (diff > 0) == (M.metric_get(key).direction == Direction.HIGHER)


@pytest.mark.parametrize("key", ALL_KEYS)
def test_paired_difference_identical_predictions(key):
    y, p, g = data_for(key)
    diff, pval = M.paired_difference(key, y, p, p, g)
    assert diff == 0.0
    assert pval > 0.05


def test_paired_difference_calibration_ratio_uses_distance_to_one():
    y = np.array([0, 1] * 200)
    over = np.full(400, 0.55)  # ratio 1.1
    under = np.full(400, 0.45)  # ratio 0.9: equally far from 1
    diff, _ = M.paired_difference("calibration_ratio", y, over, under)
    assert diff == pytest.approx(0.0, abs=1e-12)
    far_over = np.full(400, 0.7)  # ratio 1.4
    diff, p = M.paired_difference("calibration_ratio", y, np.full(400, 0.5), far_over)
    assert diff == pytest.approx(-0.4) and p < 0.05
