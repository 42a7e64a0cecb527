"""Pure scoring metrics for uploaded models (no Django; numpy + standard library only).

Conventions
-----------
* ``y_true``, ``y_pred`` (and ``groups`` / ``slices`` when given) are 1-D array-likes of the
  same, non-zero length; ``(n, 1)`` column vectors are flattened. Wrong shapes, mismatched
  lengths, non-numeric or non-finite values, and values outside the task's domain raise
  ``ValueError``:

  - binary: ``y_true`` in {0, 1}, ``y_pred`` probabilities in [0, 1];
  - ranking: ``y_true`` graded relevance >= 0, ``y_pred`` any finite scores, ``groups``
    required (query / session ids of any sortable dtype);
  - regression: any finite numbers.

* A metric that is undefined on otherwise valid data (ROC AUC with one class, normalized
  entropy with a base rate of 0 or 1, MAPE with all-zero targets, ranking metrics without
  any relevant item, ...) raises ``MetricUndefined`` (a ``ValueError`` subclass). Every
  number returned by this module is finite.

* Ranking metrics sort rows by (group, -score, original row), so ties in scores are broken
  deterministically by row order (the first row wins). Group means are taken over groups
  with at least one relevant item (relevance > 0); the others are excluded.

* Intervals are cheap (about the cost of two metric evaluations): normal intervals over
  per-unit values (rows or groups), DeLong for ROC AUC, and a fixed-seed bootstrap with
  ``BOOTSTRAP_RESAMPLES`` resamples only for pr_auc, ECE, calibration ratio and p90.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from statistics import NormalDist
from typing import Any

import numpy as np

__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "BOOTSTRAP_SEED",
    "METRICS",
    "TASK_TYPES",
    "Direction",
    "Interval",
    "Metric",
    "MetricUndefined",
    "compute",
    "compute_all",
    "compute_many",
    "confidence_interval",
    "is_better",
    "metric_get",
    "metrics_for_task",
    "paired_difference",
    "per_slice",
    "Prepared",
    "prepare",
    "slice_codes",
]

TASK_TYPES = ("binary", "ranking", "regression")
LOG_LOSS_EPS = 1e-15
ECE_BINS = 15
RANK_CUTOFF = 10
BOOTSTRAP_RESAMPLES = 200
BOOTSTRAP_SEED = 0


class Direction(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"
    TARGET_ONE = "target_one"  # closer to 1 is better (calibration ratio)


class MetricUndefined(ValueError):
    """The metric is mathematically undefined on this (otherwise valid) data."""


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    task_type: str  # "binary" | "ranking" | "regression"
    direction: Direction
    fn: Callable[..., float]  # fn(y_true, y_pred, groups=None) -> float, same as compute(key, ...)
    grouped: bool  # True for ranking metrics that need groups


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    method: str  # "normal" | "normal_mse_sqrt" | "delong" | "bootstrap"
    level: float = 0.95


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


def _as_1d(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    return arr


def _as_1d_float(x: Any, name: str) -> np.ndarray:
    arr = _as_1d(x, name)
    if arr.dtype.kind not in "biuf":
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric ({exc})") from None
    arr = arr.astype(np.float64, copy=False)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{name} contains {int(bad.sum())} non-finite value(s) (NaN or inf)")
    return arr


def _check_length(name: str, arr: np.ndarray, n: int) -> None:
    if len(arr) != n:
        raise ValueError(f"length mismatch: y_true has {n} rows but {name} has {len(arr)}")


def _as_groups(groups: Any, n: int) -> np.ndarray:
    g = _as_1d(groups, "groups")
    _check_length("groups", g, n)
    if g.dtype.kind == "f" and not np.isfinite(g).all():
        raise ValueError("groups contains non-finite value(s)")
    if g.dtype.kind not in "biuf":
        try:
            _, g = np.unique(g, return_inverse=True)
        except TypeError as exc:
            raise ValueError(f"groups must be sortable ids of a single type ({exc})") from None
    return g.reshape(-1)


class Prepared:
    """Validated inputs plus lazily built, shareable derived state (sorts, rankings and
    per-unit values), so that every metric, interval, per-slice value and curve of one
    scoring job pays for each sort once. Build with ``prepare``; ``subset`` gives a part of
    the rows whose sorts are derived from this one's in linear time."""

    def __init__(self, y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray | None,
                 task_type: str = "regression", *, parent: Prepared | None = None,
                 mask: np.ndarray | None = None):
        self.y_true = y_true
        self.y_pred = y_pred
        self.groups = groups
        self.task_type = task_type
        self._parent, self._mask = parent, mask
        self._values: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.y_true)

    @cached_property
    def order(self) -> np.ndarray:
        """Rows by ascending prediction: one sort shared by ROC AUC, PR AUC and the curves.
        Not stable, and need not be: each of them treats a run of tied predictions as one
        threshold (midranks, sums over whole ties). A subset keeps its parent's order
        restricted to its rows, which is sorted too."""
        if self._parent is not None:
            parent_order = self._parent.order
            kept = parent_order[self._mask[parent_order]]
            return (np.cumsum(self._mask) - 1)[kept]
        return np.argsort(self.y_pred)

    @cached_property
    def ranked(self) -> _Ranked:
        if self.groups is None:
            raise ValueError("ranking metrics need groups (one group id per row)")
        parent = self._parent
        if parent is not None and parent.groups is not None:
            whole = parent.ranked.group_share(self._mask)
            if whole is not None:  # the subset keeps or drops whole groups
                return parent.ranked.keep_groups(whole)
        return _Ranked(self.y_true, self.y_pred, self.groups)

    def subset(self, idx: np.ndarray) -> Prepared:
        """The rows ``idx`` (a boolean mask, or indices in ascending order)."""
        mask = np.asarray(idx)
        if mask.dtype != bool:
            mask = np.zeros(len(self), dtype=bool)
            mask[idx] = True
        g = None if self.groups is None else self.groups[mask]
        return Prepared(self.y_true[mask], self.y_pred[mask], g, self.task_type, parent=self,
                        mask=mask)

    def values(self, key: str) -> np.ndarray:
        """Per-unit values of a row or group metric (cached: the interval reuses them)."""
        if key not in self._values:
            if key == "normalized_entropy":  # the log loss over this part's base-rate entropy
                self._values[key] = self.values("log_loss") / _base_rate_entropy(self.y_true)
            elif key in _ROW_ALIGNED and self._parent is not None:
                self._values[key] = self._parent.values(key)[self._mask]
            elif key in _ROW_KEYS:
                self._values[key] = _row_values(key, self)
            else:
                self._values[key] = _group_values(key, self)
        return self._values[key]

    def _check(self, metric: Metric) -> None:
        if metric.task_type != self.task_type and not (
                metric.task_type == "ranking" and self.task_type == "binary"):
            raise ValueError(f"{metric.key} is a {metric.task_type} metric; these rows were "
                             f"validated for {self.task_type}")
        if metric.grouped and self.groups is None:
            raise ValueError("ranking metrics need groups (one group id per row)")

    def point(self, key: str) -> float:
        """Value of metric ``key`` on these rows (see ``compute``)."""
        self._check(metric_get(key))
        return _point(key, self)

    def compute_many(self, keys: list[str]) -> dict[str, float]:
        """``point`` for each of ``keys``, leaving out the metrics undefined on these rows."""
        out: dict[str, float] = {}
        for key in keys:
            try:
                out[key] = self.point(key)
            except MetricUndefined:
                continue
        return out

    def interval(self, key: str, level: float = 0.95) -> Interval:
        """``confidence_interval`` on these rows."""
        self._check(metric_get(key))
        return _interval(key, self, level)

    def per_slice(self, key: str, codes: np.ndarray, labels: list[str]) -> dict[str, float]:
        """``per_slice`` with the slices already coded: ``codes[i]`` indexes ``labels``
        (sorted); see ``slice_codes``."""
        self._check(metric_get(key))
        _check_length("slices", codes, len(self))
        if key in _GROUP_VALUES:
            by_group = self._group_slices(codes)
            if by_group is not None:
                return self._group_per_slice(key, by_group, labels)
        out: dict[str, float] = {}
        for code, label in enumerate(labels):
            mask = codes == code
            if not mask.any():
                continue
            try:
                out[str(label)] = _point(key, self.subset(mask))
            except MetricUndefined:
                continue
        return out

    def _group_slices(self, codes: np.ndarray) -> np.ndarray | None:
        """The slice code of each valid group, if no group spans two slices; else None."""
        ranked = self.ranked
        in_order = codes[ranked.order]
        first = in_order[ranked.starts]
        if not (in_order == first[ranked.gid]).all():
            return None
        return first[ranked.valid]

    def _group_per_slice(self, key: str, group_codes: np.ndarray,
                         labels: list[str]) -> dict[str, float]:
        # The same groups, in the same order, as the ranking of each slice's rows would have:
        # the values (and their float sums) are those of ``subset(codes == code)``.
        values = self.values(key) if self.ranked.valid.any() else np.empty(0)
        out: dict[str, float] = {}
        for code, label in enumerate(labels):
            mine = values[group_codes == code]
            if len(mine):
                out[str(label)] = _finite(float(mine.mean()), key)
        return out

    def ndcg_curve(self, max_k: int = 20) -> list[float]:
        """``ndcg_curve`` on these rows."""
        if self.groups is None:
            raise ValueError("ranking metrics need groups (one group id per row)")
        ranked = self.ranked
        if not ranked.valid.any():
            raise MetricUndefined("NDCG is undefined: no group has a relevant item")
        return [float(v) for v in ranked.ndcg_curve(max_k)]



def prepare(task_type: str, y_true: Any, y_pred: Any, groups: Any = None) -> Prepared:
    """Validate the rows once for ``task_type`` (``ValueError`` on bad input, as ``compute``)
    and return them ready for many metrics; groups are required for ranking."""
    return _validate(task_type, y_true, y_pred, groups, need_groups=task_type == "ranking")


def slice_codes(slices: Any, n: int | None = None) -> tuple[np.ndarray, list[str]]:
    """(codes, labels): ``labels`` the distinct slice labels as strings in sorted order and
    ``codes[i]`` the index of row i's label. Few distinct labels (time buckets) are found with
    a pass per label, much faster than sorting a million strings."""
    s = _as_1d(slices, "slices")
    if n is not None:
        _check_length("slices", s, n)
    codes = np.full(len(s), -1, dtype=np.int64)
    found: list[Any] = []
    start = 0
    while len(found) <= 64:
        unassigned = codes[start:] < 0
        first = int(np.argmax(unassigned))
        if not unassigned[first]:
            break
        start += first
        codes[s == s[start]] = len(found)
        found.append(s[start])
    else:  # many distinct labels: sorting is the better way
        try:
            uniques, inverse = np.unique(s, return_inverse=True)
        except TypeError as exc:
            raise ValueError(f"slices must be sortable labels of a single type ({exc})") from None
        return inverse.reshape(-1).astype(np.int64), [str(v) for v in uniques]
    try:
        order = sorted(range(len(found)), key=lambda i: found[i])
    except TypeError as exc:
        raise ValueError(f"slices must be sortable labels of a single type ({exc})") from None
    remap = np.empty(len(found), dtype=np.int64)
    remap[order] = np.arange(len(found))
    return remap[codes], [str(found[i]) for i in order]


def _validate(task_type: str, y_true: Any, y_pred: Any, groups: Any, *,
              need_groups: bool) -> Prepared:
    yt = _as_1d_float(y_true, "y_true")
    yp = _as_1d_float(y_pred, "y_pred")
    _check_length("y_pred", yp, len(yt))
    if task_type == "binary":
        if not ((yt == 0) | (yt == 1)).all():
            raise ValueError("binary y_true must only contain 0 and 1")
        if yp.min() < 0 or yp.max() > 1:
            raise ValueError("binary y_pred must be probabilities in [0, 1]")
    elif task_type == "ranking":
        if yt.min() < 0:
            raise ValueError("ranking y_true (relevance) must be >= 0")
    elif task_type != "regression":
        raise ValueError(f"unknown task type {task_type!r}; expected one of {TASK_TYPES}")
    if groups is None:
        if need_groups:
            raise ValueError("ranking metrics need groups (one group id per row)")
        g = None
    else:
        g = _as_groups(groups, len(yt))
    return Prepared(yt, yp, g, task_type)


def _validate_for(metric: Metric, y_true: Any, y_pred: Any, groups: Any) -> Prepared:
    return _validate(metric.task_type, y_true, y_pred, groups, need_groups=metric.grouped)


def _finite(value: float, key: str) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise MetricUndefined(f"{key} is not finite on this data")
    return value


# --------------------------------------------------------------------------------------
# Per-row metrics (mean of per-row values)
# --------------------------------------------------------------------------------------


def _log_loss_rows(yt: np.ndarray, yp: np.ndarray) -> np.ndarray:
    p = np.clip(yp, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    return np.where(yt == 1, -np.log(p), -np.log1p(-p))


def _base_rate_entropy(yt: np.ndarray) -> float:
    b = float(yt.mean())
    if b <= 0 or b >= 1:
        raise MetricUndefined("normalized_entropy is undefined when y_true has a single class")
    return -(b * math.log(b) + (1 - b) * math.log1p(-b))


def _row_values(key: str, d: Prepared) -> np.ndarray:
    """Per-row values whose mean is the metric (for rmse: squared errors, i.e. the MSE)."""
    yt, yp = d.y_true, d.y_pred
    if key == "log_loss":
        return _log_loss_rows(yt, yp)
    if key == "normalized_entropy":
        return _log_loss_rows(yt, yp) / _base_rate_entropy(yt)
    if key == "rmse":
        return (yt - yp) ** 2
    if key == "mae":
        return np.abs(yt - yp)
    if key == "mape":
        nz = yt != 0
        if not nz.any():
            raise MetricUndefined("mape is undefined when every target is 0")
        return 100.0 * np.abs(yt[nz] - yp[nz]) / np.abs(yt[nz])
    if key == "share_under_estimated":
        return (yp < yt).astype(np.float64)
    raise KeyError(key)  # pragma: no cover


def _row_point(key: str, values: np.ndarray) -> float:
    mean = float(values.mean())
    return math.sqrt(mean) if key == "rmse" else mean


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
# Weighted statistics (bootstrap metrics). stat(None) is the point estimate; stat(w) with
# integer resampling counts w is the statistic on the corresponding bootstrap resample and
# returns NaN when that resample makes the metric undefined.
# --------------------------------------------------------------------------------------

_WeightedStat = Callable[[np.ndarray | None], float]


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


def _p90_stat(yt: np.ndarray, yp: np.ndarray) -> _WeightedStat:
    err = np.abs(yt - yp)
    sort: list[np.ndarray] = []  # made on the first resample: the point needs no sort

    def stat(w: np.ndarray | None) -> float:
        if w is None:
            return float(np.percentile(err, 90))
        if not sort:
            sort.extend((order := np.argsort(err, kind="stable"), err[order]))
        order, sorted_err = sort
        # Same linear interpolation as np.percentile, on the resample implied by the counts.
        cum = np.cumsum(w[order])
        size = int(round(cum[-1]))
        h = 0.9 * (size - 1)
        lo = int(math.floor(h))
        k = np.searchsorted(cum, [lo, min(lo + 1, size - 1)], side="right")
        v0, v1 = sorted_err[k]
        return float(v0 + (h - lo) * (v1 - v0))

    return stat


_WEIGHTED_STATS: dict[str, Callable[[np.ndarray, np.ndarray], _WeightedStat]] = {
    "pr_auc": _average_precision_stat,
    "expected_calibration_error": _ece_stat,
    "calibration_ratio": _calibration_ratio_stat,
    "p90_abs_error": _p90_stat,
}


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


# --------------------------------------------------------------------------------------
# Ranking metrics (vectorised over groups)
# --------------------------------------------------------------------------------------


def _by_group_then_score(y_pred: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """``np.lexsort((-y_pred, groups))`` in about half its time: an unstable sort by score
    is the stable one when no two scores tie (checked), and held-out groups are contiguous
    runs, which a stable sort by group takes nearly for free."""
    by_score = np.argsort(-y_pred)
    ranked = y_pred[by_score]
    if not (ranked[1:] != ranked[:-1]).all():  # ties: their order must be row order
        by_score = np.argsort(-y_pred, kind="stable")
    return by_score[np.argsort(groups[by_score], kind="stable")]


class _Ranked:
    """Rows sorted by (group, -score, row) with per-group segment bookkeeping.

    np.lexsort is a stable sort, so rows with equal (group, score) keep their original
    order, i.e. ties are broken by row order. No Python loop over groups anywhere.
    """

    def __init__(self, y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray):
        order = _by_group_then_score(y_pred, groups)
        self.order = order  # row of the input at each sorted position
        g_sorted = groups[order]
        n = len(order)
        new = np.empty(n, dtype=bool)
        new[0] = True
        np.not_equal(g_sorted[1:], g_sorted[:-1], out=new[1:])
        self.gid = np.cumsum(new) - 1  # dense group index, non-decreasing
        self.starts = np.flatnonzero(new)
        self.n_groups = len(self.starts)
        self.pos = np.arange(n) - self.starts[self.gid]  # 0-based rank inside the group
        self.rel = y_true[order]
        self.is_rel = self.rel > 0
        self.top = self.pos < RANK_CUTOFF
        self.n_rel = np.bincount(self.gid, weights=self.is_rel, minlength=self.n_groups)
        self.valid = self.n_rel > 0

    def group_share(self, row_mask: np.ndarray) -> np.ndarray | None:
        """Which groups ``row_mask`` (over the input rows) keeps, if it keeps or drops every
        group whole; None if it splits a group."""
        kept = row_mask[self.order]
        sizes = np.diff(np.append(self.starts, len(kept)))
        in_group = np.bincount(self.gid, weights=kept, minlength=self.n_groups)
        if not ((in_group == 0) | (in_group == sizes)).all():
            return None
        return in_group > 0

    def keep_groups(self, keep: np.ndarray) -> _Ranked:
        """The ranking of the whole groups ``keep`` (a boolean per group), without sorting
        again: the rows stay in (group, -score, row) order and keep their positions."""
        rows = keep[self.gid]
        sub = _Ranked.__new__(_Ranked)
        sizes = np.diff(np.append(self.starts, len(self.gid)))[keep]
        sub.gid = (np.cumsum(keep) - 1)[self.gid[rows]]
        sub.starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(self.starts.dtype)
        sub.n_groups = int(keep.sum())
        sub.pos = self.pos[rows]
        sub.rel = self.rel[rows]
        sub.is_rel = self.is_rel[rows]
        sub.top = self.top[rows]
        sub.n_rel = self.n_rel[keep]
        sub.valid = self.valid[keep]
        # Input rows of the subset are numbered by their order among the kept rows.
        row_kept = np.zeros(len(self.order), dtype=bool)
        row_kept[self.order[rows]] = True
        sub.order = (np.cumsum(row_kept) - 1)[self.order[rows]]
        for name in ("gain", "ideal_gain"):  # whole groups: both stay valid row by row
            if name in self.__dict__:
                sub.__dict__[name] = self.__dict__[name][rows]
        return sub

    def ndcg_curve(self, max_k: int) -> np.ndarray:
        """Mean NDCG@k over valid groups for k = 1..max_k, from one (groups x k) table."""
        t = self.pos < max_k
        gid, pos = self.gid[t], self.pos[t]
        discount = 1.0 / np.log2(pos + 2.0)
        dcg = np.zeros((self.n_groups, max_k))
        idcg = np.zeros((self.n_groups, max_k))
        dcg[gid, pos] = self.gain[t] * discount
        idcg[gid, pos] = self.ideal_gain[t] * discount
        dcg = np.cumsum(dcg[self.valid], axis=1)
        idcg = np.cumsum(idcg[self.valid], axis=1)
        return (dcg / idcg).mean(axis=0)

    def _per_group(self, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.bincount(self.gid[mask], weights=values, minlength=self.n_groups)

    @cached_property
    def gain(self) -> np.ndarray:
        return np.expm1(self.rel * math.log(2.0))  # 2**rel - 1, exact for small rel

    @cached_property
    def ideal_gain(self) -> np.ndarray:
        # Ideal order: relevance descending inside each group. gid is already sorted, so the
        # groups stay in place and every row keeps its within-group position `pos`. The same
        # for every k, so the NDCG-at-k curve sorts once.
        return self.gain[np.lexsort((-self.rel, self.gid))]

    def ndcg(self, k: int = RANK_CUTOFF) -> np.ndarray:
        t = self.top if k == RANK_CUTOFF else self.pos < k
        discount = 1.0 / np.log2(self.pos[t] + 2.0)
        dcg = self._per_group(self.gain[t] * discount, t)
        idcg = self._per_group(self.ideal_gain[t] * discount, t)
        return dcg[self.valid] / idcg[self.valid]

    def mrr(self) -> np.ndarray:
        idx = np.flatnonzero(self.is_rel)
        g = self.gid[idx]
        first = np.ones(len(idx), dtype=bool)
        np.not_equal(g[1:], g[:-1], out=first[1:])
        rr = np.zeros(self.n_groups)
        rr[g[first]] = 1.0 / (self.pos[idx[first]] + 1.0)
        return rr[self.valid]

    def map_at_k(self) -> np.ndarray:
        rel = self.is_rel.astype(np.float64)
        cum = np.cumsum(rel)
        before = cum[self.starts] - rel[self.starts]
        m = self.is_rel & self.top
        hits = cum[m] - before[self.gid[m]]  # relevant items ranked at or above this one
        ap = self._per_group(hits / (self.pos[m] + 1.0), m)
        return ap[self.valid] / np.minimum(self.n_rel[self.valid], RANK_CUTOFF)

    def recall_at_k(self) -> np.ndarray:
        m = self.is_rel & self.top
        hits = self._per_group(np.ones(int(m.sum())), m)
        return hits[self.valid] / self.n_rel[self.valid]


_GROUP_VALUES: dict[str, Callable[[_Ranked], np.ndarray]] = {
    "ndcg_at_10": _Ranked.ndcg,
    "mrr": _Ranked.mrr,
    "map_at_10": _Ranked.map_at_k,
    "recall_at_10": _Ranked.recall_at_k,
}


def _group_values(key: str, d: Prepared) -> np.ndarray:
    """Per-group values of ranking metric ``key`` over groups with a relevant item."""
    ranked = d.ranked
    if not ranked.valid.any():
        raise MetricUndefined(f"{key} is undefined: no group has a relevant item")
    return _GROUP_VALUES[key](ranked)


# --------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------

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

METRICS: dict[str, Metric] = {}


def _bound_compute(key: str) -> Callable[..., float]:
    def fn(y_true: Any, y_pred: Any, groups: Any = None) -> float:
        return compute(key, y_true, y_pred, groups)

    fn.__name__ = fn.__qualname__ = f"compute_{key}"
    return fn


def _register(key: str, label: str, task_type: str, direction: Direction) -> None:
    METRICS[key] = Metric(
        key=key,
        label=label,
        task_type=task_type,
        direction=direction,
        fn=_bound_compute(key),
        grouped=key in _GROUP_VALUES,
    )


_register("log_loss", "Log loss", "binary", Direction.LOWER)
_register("normalized_entropy", "Normalized entropy", "binary", Direction.LOWER)
_register("roc_auc", "ROC AUC", "binary", Direction.HIGHER)
_register("pr_auc", "PR AUC (average precision)", "binary", Direction.HIGHER)
_register("expected_calibration_error", "Expected calibration error", "binary", Direction.LOWER)
_register("calibration_ratio", "Calibration ratio", "binary", Direction.TARGET_ONE)
_register("ndcg_at_10", "NDCG@10", "ranking", Direction.HIGHER)
_register("mrr", "MRR", "ranking", Direction.HIGHER)
_register("map_at_10", "MAP@10", "ranking", Direction.HIGHER)
_register("recall_at_10", "Recall@10", "ranking", Direction.HIGHER)
_register("rmse", "RMSE", "regression", Direction.LOWER)
_register("mae", "MAE", "regression", Direction.LOWER)
_register("mape", "MAPE (%)", "regression", Direction.LOWER)
_register("p90_abs_error", "P90 absolute error", "regression", Direction.LOWER)
_register("share_under_estimated", "Share under-estimated", "regression", Direction.LOWER)


def metric_get(key: str) -> Metric:
    """The metric registered under ``key``; KeyError listing the known keys otherwise."""
    try:
        return METRICS[key]
    except (KeyError, TypeError):
        raise KeyError(
            f"unknown metric {key!r}; known metrics: {', '.join(sorted(METRICS))}"
        ) from None


def metrics_for_task(task_type: str) -> list[Metric]:
    """Metrics whose task type is ``task_type`` (ValueError for an unknown task type)."""
    if task_type not in TASK_TYPES:
        raise ValueError(f"unknown task type {task_type!r}; expected one of {TASK_TYPES}")
    return [m for m in METRICS.values() if m.task_type == task_type]


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def _point(key: str, d: Prepared) -> float:
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


def compute(key: str, y_true: Any, y_pred: Any, groups: Any = None) -> float:
    """Value of metric ``key``.

    Raises KeyError for an unknown key, ValueError for bad input, MetricUndefined when the
    metric is undefined on this data. ``groups`` is required by ranking metrics and ignored
    (but length-checked) by the others.

    Definitions:
      log_loss: mean binary cross-entropy (natural log), predictions clipped to
        [1e-15, 1 - 1e-15].
      normalized_entropy: log_loss / entropy of the base rate mean(y_true); undefined if the
        base rate is 0 or 1.
      roc_auc: Mann-Whitney AUC with midranks for ties. pr_auc: average precision (step
        interpolation, ties as one threshold, as scikit-learn); undefined without positives.
      expected_calibration_error: 15 equal-width bins on [0, 1] (p == 1 in the last bin),
        sum over bins of (bin share) * |mean prediction - mean label|.
      calibration_ratio: mean(y_pred) / mean(y_true); undefined without positives; the best
        value is 1 (Direction.TARGET_ONE).
      ndcg_at_10: gain 2**rel - 1, discount 1 / log2(rank + 1), normalised by the ideal DCG@10.
      mrr: 1 / rank of the first item with rel > 0. map_at_10: sum over relevant items in
        the top 10 of precision@rank, divided by min(#relevant, 10). recall_at_10: relevant
        items in the top 10 / all relevant items. Ranking metrics are means over groups with
        at least one relevant item.
      rmse, mae: usual definitions. mape: mean of 100 * |y - p| / |y| in percent over the rows
        with y != 0; rows with y == 0 are EXCLUDED, and it is undefined if every y is 0.
      p90_abs_error: 90th percentile (linear interpolation) of |y - p|.
      share_under_estimated: fraction of rows with p < y (ties are not under-estimates).
    """
    metric = metric_get(key)
    return _point(key, _validate_for(metric, y_true, y_pred, groups))


def compute_many(keys: list[str], y_true: Any, y_pred: Any, groups: Any = None
                 ) -> dict[str, float]:
    """``compute`` for each of ``keys`` on the same rows, leaving out the metrics undefined on
    this data. The input is validated once per task type and the sorts are shared (one
    argsort for ROC AUC and PR AUC, one ranking for every ranking metric). Bad input raises
    ``ValueError`` like ``compute``."""
    shared: dict[tuple[str, bool], Prepared] = {}
    out: dict[str, float] = {}
    for key in keys:
        metric = metric_get(key)
        kind = (metric.task_type, metric.grouped)
        if kind not in shared:
            shared[kind] = _validate_for(metric, y_true, y_pred, groups)
        try:
            out[key] = _point(key, shared[kind])
        except MetricUndefined:
            continue
    return out


def compute_all(task_type: str, y_true: Any, y_pred: Any, groups: Any = None) -> dict[str, float]:
    """All metrics of ``task_type`` that are defined on this data (undefined ones are skipped).

    For task_type "binary" with ``groups`` given, the ranking metrics are added (the labels
    act as relevance, the probabilities as scores). Bad input still raises ValueError.
    """
    metrics = metrics_for_task(task_type)
    if task_type == "binary" and groups is not None:
        metrics += metrics_for_task("ranking")
    d = _validate(task_type, y_true, y_pred, groups, need_groups=task_type == "ranking")
    out: dict[str, float] = {}
    for m in metrics:
        try:
            out[m.key] = _point(m.key, d)
        except MetricUndefined:
            continue
    return out


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


def _interval(key: str, d: Prepared, level: float) -> Interval:
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


def ndcg_curve(y_true: Any, y_pred: Any, groups: Any, max_k: int = 20) -> list[float]:
    """Mean NDCG@k for k = 1..max_k over groups with a relevant item (for the NDCG-at-k plot).

    Raises ``ValueError`` on bad input and ``MetricUndefined`` when no group has a relevant
    item.
    """
    return prepare("ranking", y_true, y_pred, groups).ndcg_curve(max_k)


def is_better(key: str, a: float, b: float) -> bool:
    """True if ``a`` is strictly better than ``b`` for metric ``key`` (NaN is never better)."""
    direction = metric_get(key).direction
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    if direction == Direction.HIGHER:
        return a > b
    if direction == Direction.LOWER:
        return a < b
    return abs(a - 1.0) < abs(b - 1.0)
