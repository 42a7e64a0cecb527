"""What every metric module shares: the task types, the metric and interval records, the
error for an undefined metric, and the validation of one input column (1-D, finite, numeric;
group ids; slice labels)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

TASK_TYPES = ("binary", "ranking", "regression")


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


# Weighted statistics (bootstrap metrics). stat(None) is the point estimate; stat(w) with
# integer resampling counts w is the statistic on the corresponding bootstrap resample and
# returns NaN when that resample makes the metric undefined.
_WeightedStat = Callable[[np.ndarray | None], float]


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


def _finite(value: float, key: str) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise MetricUndefined(f"{key} is not finite on this data")
    return value


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
