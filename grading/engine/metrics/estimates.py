"""The point value and the interval of a metric on validated rows (a ``Prepared``).

Each metric is computed one of four ways: as the mean of per-row values (``_ROW_KEYS``), as the
mean of per-group values (ranking, ``ranking._GROUP_VALUES``), ROC AUC by ranks (DeLong for its
interval), or as a weighted statistic whose interval comes from a fixed-seed bootstrap
(``_WEIGHTED_STATS``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np

from grading.engine.metrics.base import Interval, MetricUndefined, _finite, _WeightedStat
from grading.engine.metrics.binary import (
    _average_precision_stat,
    _base_rate_entropy,
    _calibration_ratio_stat,
    _delong,
    _ece_stat,
    _log_loss_rows,
    _roc_auc,
)
from grading.engine.metrics.ranking import _GROUP_VALUES
from grading.engine.metrics.regression import _error_rows, _p90_stat

if TYPE_CHECKING:
    from grading.engine.metrics.registry import Prepared

BOOTSTRAP_RESAMPLES = 200
BOOTSTRAP_SEED = 0

_ROW_KEYS = frozenset(
    {"log_loss", "normalized_entropy", "rmse", "mae", "mape", "share_under_estimated"}
)
# Row metrics whose value for a row depends on that row alone (a part's values are the
# whole's, masked); normalized_entropy and mape (rows with y == 0 dropped) are not.
_ROW_ALIGNED = frozenset({"log_loss", "rmse", "mae", "share_under_estimated"})
# Natural range of each metric, used to clip normal intervals.
_BOUNDS: dict[str, tuple[float, float]] = {
    "roc_auc": (0.0, 1.0),
    "share_under_estimated": (0.0, 1.0),
    **dict.fromkeys(_GROUP_VALUES, (0.0, 1.0)),
}

_WEIGHTED_STATS: dict[str, Callable[[np.ndarray, np.ndarray], _WeightedStat]] = {
    "pr_auc": _average_precision_stat,
    "expected_calibration_error": _ece_stat,
    "calibration_ratio": _calibration_ratio_stat,
    "p90_abs_error": _p90_stat,
}


def _row_values(key: str, d: Prepared) -> np.ndarray:
    """Per-row values whose mean is the metric (for rmse: squared errors, i.e. the MSE)."""
    yt, yp = d.y_true, d.y_pred
    if key == "log_loss":
        return _log_loss_rows(yt, yp)
    if key == "normalized_entropy":
        return _log_loss_rows(yt, yp) / _base_rate_entropy(yt)
    return _error_rows(key, yt, yp)


def _row_point(key: str, values: np.ndarray) -> float:
    mean = float(values.mean())
    return math.sqrt(mean) if key == "rmse" else mean


def _point(key: str, d: Prepared) -> float:
    """Value of metric ``key`` on the rows ``d``; ``MetricUndefined`` unless finite."""
    if key in _ROW_KEYS:
        value = _row_point(key, d.values(key))
    elif key in _GROUP_VALUES:
        value = float(d.values(key).mean())
    elif key == "roc_auc":
        value = _roc_auc(d.y_true, d.y_pred, d.order)
    elif key == "pr_auc":
        value = _average_precision_stat(d.y_true, d.y_pred, d.order[::-1])(None)
    else:
        value = _WEIGHTED_STATS[key](d.y_true, d.y_pred)(None)
    return _finite(value, key)


def _bootstrap_replicates(stats: list[_WeightedStat], n: int) -> np.ndarray:
    """(resamples, len(stats)) array; every stat sees the same resamples (paired)."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    reps = np.empty((BOOTSTRAP_RESAMPLES, len(stats)))
    for b in range(BOOTSTRAP_RESAMPLES):
        counts = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
        reps[b] = [s(counts) for s in stats]
    return reps


def _finite_replicates(reps: np.ndarray, key: str) -> np.ndarray:
    ok = np.isfinite(reps).all(axis=1)
    if ok.sum() < max(20, BOOTSTRAP_RESAMPLES // 2):
        raise MetricUndefined(f"{key}: too few bootstrap resamples where the metric is defined")
    return reps[ok]


def _z(level: float) -> float:
    try:
        level = float(level)
    except (TypeError, ValueError):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}") from None
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    return NormalDist().inv_cdf(0.5 + level / 2)


def _mean_se(values: np.ndarray, what: str) -> tuple[float, float]:
    if len(values) < 2:
        raise MetricUndefined(f"need at least 2 {what} for an interval, got {len(values)}")
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(len(values)))


def _clip(key: str, low: float, high: float) -> tuple[float, float]:
    lo_bound, hi_bound = _BOUNDS.get(key, (0.0, math.inf))  # everything else is >= 0
    return max(low, lo_bound), min(high, hi_bound)


def _interval(key: str, d: Prepared, level: float) -> Interval:
    """``confidence_interval`` on the rows ``d`` (see there for the methods)."""
    z = _z(level)
    if key in _ROW_KEYS or key in _GROUP_VALUES:
        unit = "rows" if key in _ROW_KEYS else "relevant groups"
        values, method = d.values(key), "normal"
        mean, se = _mean_se(values, unit)
        low, high = mean - z * se, mean + z * se
        if key == "rmse":
            low, high = math.sqrt(max(low, 0.0)), math.sqrt(max(high, 0.0))
            method = "normal_mse_sqrt"
        else:
            low, high = _clip(key, low, high)
    elif key == "roc_auc":
        aucs, cov = _delong(d.y_true, [d.y_pred])
        se = math.sqrt(max(float(cov[0, 0]), 0.0))
        low, high = _clip(key, aucs[0] - z * se, aucs[0] + z * se)
        method = "delong"
    else:
        stat = _WEIGHTED_STATS[key](d.y_true, d.y_pred)
        point = _finite(stat(None), key)
        reps = _finite_replicates(_bootstrap_replicates([stat], len(d.y_true)), key)[:, 0]
        alpha = 1 - level
        low, high = (float(v) for v in np.quantile(reps, [alpha / 2, 1 - alpha / 2]))
        low, high = min(low, point), max(high, point)
        method = "bootstrap"
    return Interval(_finite(low, key), _finite(high, key), method, float(level))
