"""Uncertainty and breakdowns on raw arrays: a metric's confidence interval, its value per
slice, and the paired test between two models scored on the same rows."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from grading.engine.metrics.base import Direction, Interval, _finite, slice_codes
from grading.engine.metrics.binary import _delong
from grading.engine.metrics.estimates import (
    _ROW_KEYS,
    _WEIGHTED_STATS,
    _bootstrap_replicates,
    _finite_replicates,
    _interval,
    _mean_se,
    _row_point,
    _row_values,
)
from grading.engine.metrics.ranking import _GROUP_VALUES, _group_values
from grading.engine.metrics.registry import _validate_for, metric_get


def confidence_interval(
    key: str, y_true: Any, y_pred: Any, groups: Any = None, level: float = 0.95
) -> Interval:
    """Two-sided interval for metric ``key`` at ``level``; always contains the point estimate.

    * log_loss, mae, mape, share_under_estimated: normal interval from the mean and standard
      error of the per-row losses; normalized_entropy: the log-loss interval divided by the
      base-rate entropy (method "normal").
    * rmse: normal interval of the MSE from per-row squared errors, then the square root of
      the endpoints, the lower one clipped at 0 (method "normal_mse_sqrt").
    * roc_auc: DeLong (method "delong").
    * ranking metrics: normal interval over the per-group values (method "normal"). Groups,
      not rows, are the independent units.
    * pr_auc, expected_calibration_error, calibration_ratio, p90_abs_error: percentile
      bootstrap over rows, BOOTSTRAP_RESAMPLES resamples with a fixed seed (method
      "bootstrap"), widened if needed to contain the point estimate.

    Normal intervals are clipped to the metric's natural range. Raises MetricUndefined when
    the metric or its variance is undefined (e.g. fewer than 2 units).
    """
    return _interval(key, _validate_for(metric_get(key), y_true, y_pred, groups), level)


def per_slice(
    key: str, y_true: Any, y_pred: Any, slices: Any, groups: Any = None
) -> dict[str, float]:
    """Metric per slice label (e.g. time bucket), keyed by ``str(label)`` in sorted label order.

    Slices where the metric is undefined (e.g. a single class for roc_auc) are omitted. For
    ranking metrics a group spanning several slices is split between them.
    """
    d = _validate_for(metric_get(key), y_true, y_pred, groups)
    codes, labels = slice_codes(slices, len(d))
    return d.per_slice(key, codes, labels)


def _two_sided_p(diff: float, se: float) -> float:
    if not se > 0:
        return 1.0 if diff == 0 else 0.0
    return math.erfc(abs(diff) / se / math.sqrt(2))


def paired_difference(
    key: str, y_true: Any, pred_a: Any, pred_b: Any, groups: Any = None
) -> tuple[float, float]:
    """(metric(a) - metric(b), two-sided p-value) for two models scored on the same data.

    The test is a paired normal approximation on the same units the intervals use: per-row
    losses (for rmse the squared errors, so the test is on the MSE; the returned difference
    is still rmse_a - rmse_b), per-group values for ranking metrics, paired DeLong for
    roc_auc, and a paired bootstrap (same resamples for a and b) for pr_auc, ECE,
    calibration_ratio and p90. For calibration_ratio (target 1) the difference is
    |ratio_a - 1| - |ratio_b - 1|, so as for LOWER metrics a negative difference favours a.
    Identical predictions give (0.0, 1.0).
    """
    metric = metric_get(key)
    da = _validate_for(metric, y_true, pred_a, groups)
    db = _validate_for(metric, y_true, pred_b, groups)
    if key in _ROW_KEYS or key in _GROUP_VALUES:
        if key in _ROW_KEYS:
            va, vb = _row_values(key, da), _row_values(key, db)
        else:
            va, vb = _group_values(key, da), _group_values(key, db)
        mean, se = _mean_se(va - vb, "units")
        diff = _row_point(key, va) - _row_point(key, vb) if key in _ROW_KEYS else mean
        p = _two_sided_p(mean, se)
    elif key == "roc_auc":
        aucs, cov = _delong(da.y_true, [da.y_pred, db.y_pred])
        diff = float(aucs[0] - aucs[1])
        var = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
        p = _two_sided_p(diff, math.sqrt(max(var, 0.0)))
    else:
        stat_a = _WEIGHTED_STATS[key](da.y_true, da.y_pred)
        stat_b = _WEIGHTED_STATS[key](db.y_true, db.y_pred)

        def t(v: float | np.ndarray) -> Any:
            return np.abs(np.asarray(v) - 1.0) if metric.direction == Direction.TARGET_ONE else v

        diff = float(t(_finite(stat_a(None), key)) - t(_finite(stat_b(None), key)))
        reps = _finite_replicates(_bootstrap_replicates([stat_a, stat_b], len(da.y_true)), key)
        d = t(reps[:, 0]) - t(reps[:, 1])
        p = _two_sided_p(diff, float(np.std(d, ddof=1)))
    return _finite(diff, key), float(p)
