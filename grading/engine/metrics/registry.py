"""The registered metrics (``METRICS``, ``metric_get``), the validated rows they are computed
on (``Prepared``, ``prepare``), and ``compute`` with its batch forms.

``Prepared`` lives with the registry because each needs the other: a metric's ``fn`` validates
its rows into a ``Prepared``, and ``Prepared.point`` looks the metric up here to check that it
fits the rows. The computations themselves are in ``estimates`` and the per-task modules.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cached_property
from typing import Any

import numpy as np

from grading.engine.metrics.base import (
    TASK_TYPES,
    Direction,
    Interval,
    Metric,
    MetricUndefined,
    _as_1d_float,
    _as_groups,
    _check_length,
    _finite,
)
from grading.engine.metrics.binary import _base_rate_entropy
from grading.engine.metrics.estimates import (
    _ROW_ALIGNED,
    _ROW_KEYS,
    _interval,
    _point,
    _row_values,
)
from grading.engine.metrics.ranking import _GROUP_VALUES, _group_values, _Ranked

# --------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------
# Validated rows
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Point values on raw arrays
# --------------------------------------------------------------------------------------


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


def ndcg_curve(y_true: Any, y_pred: Any, groups: Any, max_k: int = 20) -> list[float]:
    """Mean NDCG@k for k = 1..max_k over groups with a relevant item (for the NDCG-at-k plot).

    Raises ``ValueError`` on bad input and ``MetricUndefined`` when no group has a relevant
    item.
    """
    return prepare("ranking", y_true, y_pred, groups).ndcg_curve(max_k)
