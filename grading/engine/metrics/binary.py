"""Binary metrics: the per-row log loss and the base-rate entropy, ROC AUC with the DeLong
covariance, and PR AUC, expected calibration error and calibration ratio as weighted
statistics (so that the bootstrap can resample them by weights)."""

from __future__ import annotations

import math

import numpy as np

from grading.engine.metrics.base import MetricUndefined, _WeightedStat

LOG_LOSS_EPS = 1e-15
ECE_BINS = 15


# --------------------------------------------------------------------------------------
# Log loss (mean of per-row values)
# --------------------------------------------------------------------------------------


def _log_loss_rows(yt: np.ndarray, yp: np.ndarray) -> np.ndarray:
    p = np.clip(yp, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    return np.where(yt == 1, -np.log(p), -np.log1p(-p))


def _base_rate_entropy(yt: np.ndarray) -> float:
    b = float(yt.mean())
    if b <= 0 or b >= 1:
        raise MetricUndefined("normalized_entropy is undefined when y_true has a single class")
    return -(b * math.log(b) + (1 - b) * math.log1p(-b))


# --------------------------------------------------------------------------------------
# ROC AUC and DeLong
# --------------------------------------------------------------------------------------


def _midrank(x: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """1-based ranks with ties replaced by their average rank (midranks); ``order`` is
    ``np.argsort(x, kind="stable")`` when the caller has it already."""
    n = len(x)
    if order is None:
        order = np.argsort(x, kind="stable")
    xs = x[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(xs[1:], xs[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], n)
    avg = (starts + ends + 1) / 2.0
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = avg[np.cumsum(new) - 1]
    return ranks


def _split_classes(yt: np.ndarray, minimum: int = 1) -> np.ndarray:
    pos = yt == 1
    m = int(pos.sum())
    n = len(yt) - m
    if m < minimum or n < minimum:
        if m == 0 or n == 0:
            raise MetricUndefined("roc_auc is undefined when y_true has a single class")
        raise MetricUndefined(
            f"the DeLong variance needs at least {minimum} positives and negatives"
        )
    return pos


def _roc_auc(yt: np.ndarray, yp: np.ndarray, order: np.ndarray | None = None) -> float:
    pos = _split_classes(yt)
    m = int(pos.sum())
    n = len(yt) - m
    if order is None:
        order = np.argsort(yp, kind="stable")
    # The positives' midrank sum, tie by tie in sorted order (no per-row rank array).
    xs = yp[order]
    new = np.empty(len(xs), dtype=bool)
    new[0] = True
    np.not_equal(xs[1:], xs[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    midranks = (starts + np.append(starts[1:], len(xs)) + 1) / 2.0
    positives_per_tie = np.bincount(np.cumsum(new) - 1, weights=pos[order],
                                    minlength=len(starts))
    return float((np.dot(midranks, positives_per_tie) - m * (m + 1) / 2) / (m * n))


def _delong(yt: np.ndarray, preds: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """AUCs and their covariance matrix for predictors scored on the same rows.

    Fast DeLong via midranks: X. Sun and W. Xu, "Fast Implementation of DeLong's Algorithm
    for Comparing the Areas Under Correlated Receiver Operating Characteristic Curves",
    IEEE Signal Processing Letters 21(11), 1389-1393, 2014. O(n log n) per predictor.
    """
    pos = _split_classes(yt, minimum=2)
    m = int(pos.sum())
    n = len(yt) - m
    v10 = np.empty((len(preds), m))
    v01 = np.empty((len(preds), n))
    aucs = np.empty(len(preds))
    for r, p in enumerate(preds):
        x, y = p[pos], p[~pos]
        tx, ty = _midrank(x), _midrank(y)
        tz = _midrank(np.concatenate([x, y]))
        aucs[r] = (tz[:m].sum() - m * (m + 1) / 2) / (m * n)
        v10[r] = (tz[:m] - tx) / n  # structural components of the positives
        v01[r] = 1.0 - (tz[m:] - ty) / m  # ... and of the negatives
    cov = np.atleast_2d(np.cov(v10)) / m + np.atleast_2d(np.cov(v01)) / n
    return aucs, cov


# --------------------------------------------------------------------------------------
# Weighted statistics (see ``base._WeightedStat``)
# --------------------------------------------------------------------------------------


def _average_precision_stat(yt: np.ndarray, yp: np.ndarray,
                            order: np.ndarray | None = None) -> _WeightedStat:
    """``order``: rows by descending prediction. Within a tie it may be in any order: only
    sums over whole ties are used."""
    if not (yt == 1).any():
        raise MetricUndefined("pr_auc is undefined without any positive")
    if order is None:
        order = np.argsort(-yp, kind="stable")
    y = yt[order]
    p = yp[order]
    last = np.append(np.flatnonzero(p[1:] != p[:-1]), len(p) - 1)  # last row of each tie

    def stat(w: np.ndarray | None) -> float:
        if w is None:
            tp = np.cumsum(y)[last]
            seen = (last + 1).astype(np.float64)
        else:
            wo = w[order]
            tp = np.cumsum(wo * y)[last]
            seen = np.cumsum(wo)[last]
        if tp[-1] <= 0:
            return math.nan
        precision = np.divide(tp, seen, out=np.zeros_like(tp), where=seen > 0)
        recall_step = np.diff(tp, prepend=0.0) / tp[-1]
        return float(np.dot(recall_step, precision))

    return stat


def _ece_stat(yt: np.ndarray, yp: np.ndarray) -> _WeightedStat:
    bins = np.minimum((yp * ECE_BINS).astype(np.intp), ECE_BINS - 1)

    def stat(w: np.ndarray | None) -> float:
        w = np.ones_like(yp) if w is None else w
        sum_p = np.bincount(bins, weights=w * yp, minlength=ECE_BINS)
        sum_y = np.bincount(bins, weights=w * yt, minlength=ECE_BINS)
        return float(np.abs(sum_p - sum_y).sum() / w.sum())

    return stat


def _calibration_ratio_stat(yt: np.ndarray, yp: np.ndarray) -> _WeightedStat:
    if not (yt == 1).any():
        raise MetricUndefined("calibration_ratio is undefined without any positive")

    def stat(w: np.ndarray | None) -> float:
        if w is None:
            return float(yp.sum() / yt.sum())
        observed = float(np.dot(w, yt))
        return float(np.dot(w, yp) / observed) if observed > 0 else math.nan

    return stat
