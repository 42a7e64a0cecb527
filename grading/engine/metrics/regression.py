"""Regression metrics: the per-row errors whose mean is RMSE (through the MSE), MAE, MAPE and
the share under-estimated, and the 90th percentile of the absolute error as a weighted
statistic (so that the bootstrap can resample it by weights)."""

from __future__ import annotations

import math

import numpy as np

from grading.engine.metrics.base import MetricUndefined, _WeightedStat


def _error_rows(key: str, yt: np.ndarray, yp: np.ndarray) -> np.ndarray:
    """Per-row values whose mean is regression metric ``key`` (for rmse: squared errors, i.e.
    the MSE)."""
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
