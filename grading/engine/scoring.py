"""Score one model artifact on a held-out split: the whole job, with no Django.

``score_artifact`` runs the model in the sandbox (which sees the features only), validates
the predictions, and computes, with the labels that stay in this process: every metric of
the task on the public part, the private part and the whole split; a 95 % interval for the
primary metric; the primary metric per time slice (staleness) and, with its interval,
per scenario slice (cold start, latest week, missing features); single-request latency
against the budget; the serving load test (``serving``); and the data behind the plots.
Callers: the ``score`` management command, the baseline builder and the Celery task.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from grading.engine import metrics
from grading.engine.artifacts import sniff_format
from grading.engine.contract import InputContract
from grading.engine.errors import FailureReason, ScoringError
from grading.engine.sandbox import SandboxLimits, SandboxResult, run_in_sandbox
from grading.engine.sandbox.features import FeatureColumns
from grading.engine.serving import schedule_seed, serving_report

logger = logging.getLogger(__name__)

# Bump when the way scores are computed changes; scores record it, and an admin can
# re-score everything after a change.
# 2: the predicted-vs-actual histogram counts rows on its top edge; 3: the serving load test
# (``serving``: load time, peak memory, Poisson load at the target rate and twice it, the
# highest rate within budget, cost), whose arrival schedule is seeded by this version.
SCORER_VERSION = 3

SPLITS = ("public", "private", "all")
PLOT_POINTS = 120
RELIABILITY_BINS = 10
RESIDUAL_BINS = 30
SCATTER_CELLS = 30
MIN_CELL_ROWS = 5
#: Fewest rows a scenario slice needs for its metric to be reported (fewer: left out).
MIN_SCENARIO_ROWS = 50
#: The splits a scenario slice is reported on: the public part during a round, all after.
SCENARIO_SPLITS = ("public", "all")


@dataclass(frozen=True)
class HeldoutSplit:
    """What the scorer needs: features go to the sandbox; the rest never leaves here."""

    # A DataFrame, or the columns already written as the child reads them (a worker's cache).
    features: pd.DataFrame | FeatureColumns
    labels: np.ndarray
    groups: np.ndarray | None
    slices: np.ndarray
    public: np.ndarray  # bool mask
    # Scenario slices (``grading.datasets.scenarios``): name -> bool mask over the rows.
    scenarios: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.features)
        for name in ("labels", "slices", "public"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"held-out {name} has {len(getattr(self, name))} rows, not {n}")
        if self.groups is not None and len(self.groups) != n:
            raise ValueError("held-out groups do not match the features")
        for name, mask in self.scenarios.items():
            if len(mask) != n or np.asarray(mask).dtype != bool:
                raise ValueError(f"held-out scenario {name} is not a bool mask of {n} rows")


@dataclass(frozen=True)
class ScoringTask:
    """What is being scored against: the contract and the case study's metrics."""

    contract: InputContract
    primary_metric: str
    secondary_metrics: tuple[str, ...] = ()
    latency_budget_ms: int = 100
    request_rows: int = 1
    # The serving load test: the case's peak traffic scaled to one core, the case study's
    # slug (with SCORER_VERSION, the arrival schedule's seed) and the price of a core-hour.
    target_rate_rps: float = 20.0
    case_slug: str = ""
    price_per_core_hour_usd: float = 0.05


@dataclass
class ScoreReport:
    primary_metric: str
    direction: str
    metrics: dict[str, dict[str, float]]
    intervals: dict[str, dict[str, float | str]]
    per_slice: dict[str, dict[str, float]]
    latency_p50_ms: float
    latency_p99_ms: float
    latency_budget_ms: int
    within_latency_budget: bool
    artifact_format: str
    artifact_bytes: int
    rows_scored: int
    network_isolated: bool
    plots: dict[str, object]
    timings: dict[str, float] = field(default_factory=dict)
    # Load time, peak memory and the load test (``grading.engine.serving.serving_report``):
    # measured on the server, not derived from labels.
    serving: dict = field(default_factory=dict)
    # The primary metric per scenario slice with its 95 % interval, for "public" and "all":
    # {split: {scenario: {"value", "low", "high", "rows"}}} (``scenario_metrics``).
    scenarios: dict = field(default_factory=dict)
    scorer_version: int = SCORER_VERSION
    # The model's predictions on the public rows, in held-out order: the leaderboard's
    # Ladder compares a candidate's next submission with them on the same rows. They derive
    # from features only, but stay on the server (never in ``to_dict`` or a page).
    public_predictions: np.ndarray | None = field(default=None, repr=False, compare=False)

    def primary(self, split: str) -> float:
        return self.metrics[split][self.primary_metric]

    def to_dict(self) -> dict:
        body = asdict(replace(self, public_predictions=None))
        body.pop("public_predictions")
        return body


# One function per phase of the evaluation, so that bench.scoring can time each of them.
def _split_metrics(rows: metrics.Prepared, keys: list[str]) -> dict[str, float]:
    return rows.compute_many(keys)


def _split_interval(rows: metrics.Prepared, key: str) -> dict[str, float | str]:
    interval = rows.interval(key)
    return {"low": interval.low, "high": interval.high, "method": interval.method,
            "level": interval.level}


def _split_per_slice(rows: metrics.Prepared, key: str, codes: np.ndarray,
                     labels: list[str]) -> dict[str, float]:
    return rows.per_slice(key, codes, labels)


def _downsample(xs: np.ndarray, ys: np.ndarray, points: int = PLOT_POINTS) -> list[list[float]]:
    if len(xs) > points:
        idx = np.unique(np.linspace(0, len(xs) - 1, points).round().astype(int))
        xs, ys = xs[idx], ys[idx]
    return [[round(float(x), 5), round(float(y), 5)] for x, y in zip(xs, ys, strict=True)]


def _binary_curves(labels: np.ndarray, preds: np.ndarray, ascending: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, recall, precision) from one sort: the points of scikit-learn's
    ``roc_curve`` (with ``drop_intermediate``) and of ``precision_recall_curve`` (recall
    ascending from 0, precision from 1), without validating the input four times over.
    ``ascending``: an ascending argsort of ``preds`` when the caller has one (ties may be in
    any order: only the sums at the end of each tie are used)."""
    if ascending is None:
        ascending = np.argsort(preds, kind="stable")
    order = ascending[::-1]
    sorted_preds = preds[order]
    last = np.r_[np.flatnonzero(np.diff(sorted_preds)), len(preds) - 1]
    tps = np.cumsum(labels[order], dtype=np.float64)[last]
    fps = 1 + last - tps
    precision = tps / (tps + fps)  # tps + fps >= 1 at every threshold
    recall = tps / tps[-1]
    if len(fps) > 2:
        keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)),
                                    True])
        fps, tps = fps[keep], tps[keep]
    fpr, tpr = np.r_[0.0, fps] / fps[-1], np.r_[0.0, tps] / tps[-1]
    return fpr, tpr, np.r_[0.0, recall], np.r_[1.0, precision]


def _binary_plots(rows: metrics.Prepared) -> dict[str, object]:
    labels, preds = rows.y_true, rows.y_pred
    plots: dict[str, object] = {}
    if 0 < labels.sum() < len(labels):
        fpr, tpr, recall, precision = _binary_curves(labels, preds, rows.order)
        plots["roc"] = _downsample(fpr, tpr)
        plots["pr"] = _downsample(recall, precision)
    # Reliability diagram on quantile bins: click rates are small, so equal-width bins
    # would put nearly every row in the first one.
    edges = np.unique(np.quantile(preds, np.linspace(0, 1, RELIABILITY_BINS + 1)))
    which = np.clip(np.searchsorted(edges, preds, side="right") - 1, 0, max(len(edges) - 2, 0))
    counts = np.bincount(which, minlength=len(edges) - 1)
    mean_pred = np.bincount(which, weights=preds, minlength=len(edges) - 1)
    observed = np.bincount(which, weights=labels, minlength=len(edges) - 1)
    plots["reliability"] = [
        {"predicted": round(float(p / c), 6), "observed": round(float(o / c), 6), "rows": int(c)}
        for p, o, c in zip(mean_pred, observed, counts, strict=True) if c
    ]
    return plots


def _ranking_plots(rows: metrics.Prepared) -> dict[str, object]:
    try:
        return {"ndcg_at_k": [round(v, 5) for v in rows.ndcg_curve()]}
    except metrics.MetricUndefined:
        return {}


def _histogram_2d(x: np.ndarray, y: np.ndarray, lo: float, hi: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``np.histogram2d(x, y, SCATTER_CELLS, range=[[lo, hi]] * 2)`` for values already in
    [lo, hi] (the same cells: [e_i, e_i+1), the last one closed), in about half its time."""
    edges = np.linspace(lo, hi, SCATTER_CELLS + 1)
    last = SCATTER_CELLS - 1
    ix = np.minimum(np.searchsorted(edges, x, side="right") - 1, last)
    iy = np.minimum(np.searchsorted(edges, y, side="right") - 1, last)
    counts = np.bincount(ix * SCATTER_CELLS + iy, minlength=SCATTER_CELLS * SCATTER_CELLS)
    return counts.reshape(SCATTER_CELLS, SCATTER_CELLS).astype(np.float64), edges


def _regression_plots(labels: np.ndarray, preds: np.ndarray) -> dict[str, object]:
    residuals = preds - labels
    low, high = np.quantile(residuals, [0.005, 0.995])
    # The bins span about the 0.5th-99.5th percentiles; the rows beyond are counted apart
    # ("below", "above": drawn as labelled overflow bins), not piled into the end bins.
    inside = residuals[(residuals >= low) & (residuals <= high)]
    counts, edges = np.histogram(inside, bins=RESIDUAL_BINS, range=(low, high))
    # Predicted against actual as a coarse 2-D histogram, never as points: single rows'
    # labels must not leave the server, so only cells holding several rows are kept.
    lo = float(min(labels.min(), preds.min()))
    hi = float(max(np.quantile(labels, 0.995), np.quantile(preds, 0.995)))
    grid, edges_2d = _histogram_2d(np.clip(labels, lo, hi), np.clip(preds, lo, hi), lo, hi)
    x_mid = y_mid = (edges_2d[:-1] + edges_2d[1:]) / 2
    cells = [[round(float(x_mid[i]), 2), round(float(y_mid[j]), 2), int(grid[i, j])]
             for i, j in zip(*np.nonzero(grid >= MIN_CELL_ROWS), strict=True)]
    return {
        "residuals": {"edges": [round(float(e), 3) for e in edges],
                      "counts": [int(c) for c in counts],
                      "below": int(np.count_nonzero(residuals < low)),
                      "above": int(np.count_nonzero(residuals > high))},
        "predicted_vs_actual": cells,
    }


def plots_for(rows: metrics.Prepared) -> dict[str, object]:
    if rows.task_type == "binary":
        return _binary_plots(rows)
    if rows.task_type == "ranking":
        return _ranking_plots(rows)
    return _regression_plots(rows.y_true, rows.y_pred)


def evaluate_predictions(
    *, task: ScoringTask, heldout: HeldoutSplit, predictions: np.ndarray,
    prepared: metrics.Prepared | None = None,
) -> tuple[dict, dict, dict, dict]:
    """Metrics per split, primary intervals, and per-slice values and plots for the public
    part and the whole split.

    The rows are validated once and each sort (by prediction, or the per-group ranking) is
    made once on the whole split: the public and private parts, the slices, the intervals
    and the plots reuse it (``metrics.Prepared``; ``prepared``, when given, is that whole
    split already prepared, for ``scenario_metrics`` to reuse too).

    Raises ``metrics.MetricUndefined`` if the primary metric is undefined (or not finite)
    on a split, and ``ValueError`` / ``FloatingPointError`` for predictions the metrics cannot
    use: whose fault that is, ``score_artifact`` decides (``_evaluation_error``).
    """
    primary = task.primary_metric
    keys = [primary, *[k for k in task.secondary_metrics if k != primary]]
    whole = prepared or _prepare_whole(task, heldout, predictions)
    parts = {"public": whole.subset(heldout.public), "private": whole.subset(~heldout.public),
             "all": whole}
    by_split: dict[str, dict[str, float]] = {}
    intervals: dict[str, dict[str, float | str]] = {}
    for name, rows in parts.items():
        by_split[name] = _split_metrics(rows, keys)
        if primary not in by_split[name]:
            raise metrics.MetricUndefined(f"{primary} is not defined on the {name} split")
        if name != "all":
            intervals[name] = _split_interval(rows, primary)
    # Staleness and plots are kept for the public part (shown during a round) and for the
    # whole split (shown once the round closes): the private part must not leak early.
    codes, labels = metrics.slice_codes(heldout.slices, len(whole))
    per_slice: dict[str, dict[str, float]] = {}
    plots: dict[str, dict[str, object]] = {}
    for name in ("public", "all"):
        part_codes = codes if name == "all" else codes[heldout.public]
        per_slice[name] = _split_per_slice(parts[name], primary, part_codes, labels)
        plots[name] = plots_for(parts[name])
    return by_split, intervals, per_slice, plots


def _prepare_whole(task: ScoringTask, heldout: HeldoutSplit,
                   predictions: np.ndarray) -> metrics.Prepared:
    return metrics.prepare(task.contract.task_type, heldout.labels, predictions, heldout.groups)


def scenario_metrics(*, task: ScoringTask, heldout: HeldoutSplit, predictions: np.ndarray,
                     prepared: metrics.Prepared | None = None,
                     ) -> dict[str, dict[str, dict[str, float | int]]]:
    """The primary metric and its 95 % interval on each scenario slice, for the public part
    and the whole split: ``{"public": {name: {"value", "low", "high", "rows"}}, "all": ...}``.

    A slice with fewer than ``MIN_SCENARIO_ROWS`` rows in a split, or where the metric or its
    interval is undefined (one class, no relevant item, fewer than two groups), is left out
    of that split. Empty when the held-out split has no scenario masks (data built before
    them). Call after ``evaluate_predictions`` has accepted the predictions; with its
    ``prepared`` whole split, each slice's ranking is derived from the one sort made there."""
    if not heldout.scenarios:
        return {}
    primary = task.primary_metric
    whole = prepared or _prepare_whole(task, heldout, predictions)
    out: dict[str, dict[str, dict[str, float | int]]] = {}
    for split in SCENARIO_SPLITS:
        in_split = heldout.public if split == "public" else np.ones(len(whole), dtype=bool)
        out[split] = {}
        for name, mask in heldout.scenarios.items():
            rows = np.asarray(mask, dtype=bool) & in_split
            if np.count_nonzero(rows) < MIN_SCENARIO_ROWS:
                continue
            part = whole.subset(rows)
            try:
                value = part.point(primary)
                interval = part.interval(primary)
            except (metrics.MetricUndefined, ValueError, FloatingPointError):
                continue
            out[split][name] = {"value": value, "low": interval.low, "high": interval.high,
                                "rows": int(np.count_nonzero(rows))}
    return out


def _evaluation_error(task: ScoringTask, heldout: HeldoutSplit,
                      exc: ValueError | FloatingPointError) -> ScoringError:
    """Whose fault a failed evaluation is. The sandbox has refused non-finite, out-of-range
    and wrongly shaped predictions already (``contract_validate_predictions``). If the same
    rows score with a neutral model (every prediction the mean label), these predictions made
    the metrics fail: ``invalid_output``, which costs a submission like any bad output.
    Otherwise the data or our code is at fault: ``internal_error``, which gives it back."""
    neutral = np.full(len(heldout.labels), float(np.mean(heldout.labels)))
    try:
        evaluate_predictions(task=task, heldout=heldout, predictions=neutral)
    except (ValueError, FloatingPointError):
        logger.exception("scoring: the held-out data cannot be scored (%s)", exc)
        return ScoringError(FailureReason.INTERNAL_ERROR,
                            "The held-out data cannot be scored right now; we are on it.",
                            code="primary_undefined")
    return ScoringError(FailureReason.INVALID_OUTPUT,
                        f"The model's predictions cannot be scored: {exc}", code="unscorable")


def score_artifact(
    *,
    artifact_path: str | Path,
    task: ScoringTask,
    heldout: HeldoutSplit,
    limits: SandboxLimits | None = None,
) -> ScoreReport:
    """Score the artifact at ``artifact_path``. Raises ``ScoringError`` with a typed reason
    (``invalid_artifact``, ``invalid_output``, ``resource_limit``, ``timeout``,
    ``internal_error``) and a message for the candidate; nothing else escapes."""
    started = time.perf_counter()
    limits = limits or SandboxLimits(request_rows=task.request_rows)
    path = Path(artifact_path)
    fmt = sniff_format(path, limits.artifact)
    size = path.stat().st_size
    try:
        result: SandboxResult = run_in_sandbox(path, fmt, heldout.features, task.contract,
                                               limits)
    except ScoringError:
        raise
    sandbox_done = time.perf_counter()
    try:
        # One preparation (validation, sorts) of the whole split for both.
        whole = _prepare_whole(task, heldout, result.predictions)
        by_split, intervals, per_slice, plots = evaluate_predictions(
            task=task, heldout=heldout, predictions=result.predictions, prepared=whole)
    except (ValueError, FloatingPointError) as exc:
        raise _evaluation_error(task, heldout, exc) from exc
    scenarios = scenario_metrics(task=task, heldout=heldout, predictions=result.predictions,
                                 prepared=whole)
    finished = time.perf_counter()
    metric = metrics.metric_get(task.primary_metric)
    return ScoreReport(
        primary_metric=task.primary_metric,
        direction=str(metric.direction),
        metrics=by_split,
        intervals=intervals,
        per_slice=per_slice,
        latency_p50_ms=result.latency_p50_ms,
        latency_p99_ms=result.latency_p99_ms,
        latency_budget_ms=task.latency_budget_ms,
        within_latency_budget=result.latency_p99_ms <= task.latency_budget_ms,
        artifact_format=str(fmt),
        artifact_bytes=size,
        rows_scored=len(heldout.labels),
        network_isolated=result.isolated_network,
        plots=plots,
        scenarios=scenarios,
        serving=serving_report(
            service_seconds=result.service_seconds, load_seconds=result.load_seconds,
            peak_memory_bytes=result.peak_memory_bytes, request_rows=limits.request_rows,
            target_rps=task.target_rate_rps, budget_ms=task.latency_budget_ms,
            seed=schedule_seed(task.case_slug, SCORER_VERSION),
            price_per_core_hour_usd=task.price_per_core_hour_usd),
        public_predictions=np.asarray(result.predictions)[heldout.public],
        timings={"sandbox_seconds": round(sandbox_done - started, 3),
                 "metrics_seconds": round(finished - sandbox_done, 3),
                 "total_seconds": round(finished - started, 3)},
    )
