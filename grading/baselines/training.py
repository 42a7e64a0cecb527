"""Fitting and scoring the case studies' baseline models.

Every baseline is a scikit-learn ``Pipeline`` of a ``ContractFeaturizer`` and one estimator,
built from a recipe of the case's module (``grading.datasets.baseline_recipes``). Metrics
come from ``grading.engine.metrics``, the same implementation that scores uploads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, is_classifier
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from grading.datasets import (
    TIME_COLUMN,
    TRAIN_DAYS,
    BuiltDataset,
    DatasetSpec,
    Estimator,
    baseline_recipes,
    design_choice,
    scenario_choices,
)
from grading.datasets.recipes import REASONABLE, TRIVIAL, WITHOUT_DESIGN_CHOICE
from grading.engine import metrics
from grading.engine.scoring import MIN_SCENARIO_ROWS

from .featurizer import ContractFeaturizer
from .onnx_export import export_onnx

#: The estimator classes a recipe may name (``Estimator.class_name``).
ESTIMATOR_CLASSES: dict[str, type[BaseEstimator]] = {
    cls.__name__: cls
    for cls in (LogisticRegression, LinearRegression, Ridge, HistGradientBoostingRegressor)
}


@dataclass
class BaselineModel:
    name: str
    description: str
    spec: DatasetSpec
    pipeline: Pipeline
    #: "probability" (binary classifier, ONNX ``probabilities[:, 1]``), "score" (ranking,
    #: ONNX ``score``) or "minutes" (regressor, ONNX ``variable``)
    output_kind: str
    fit_seconds: float = 0.0

    @property
    def input_layout(self) -> str:
        return "single_tensor" if self.spec.all_numeric else "per_column"

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        if is_classifier(self.pipeline.steps[-1][1]):
            return self.pipeline.predict_proba(features)[:, 1]
        return np.asarray(self.pipeline.predict(features), dtype=np.float64).ravel()

    def export_onnx(self, path) -> Path:
        return export_onnx(self.pipeline, self.spec, path)


def estimator_create(estimator: Estimator) -> BaseEstimator:
    """A fresh, unfitted scikit-learn estimator (KeyError for a class not in
    ``ESTIMATOR_CLASSES``)."""
    return ESTIMATOR_CLASSES[estimator.class_name](**estimator.params)


def fit_recipe(built: BuiltDataset, name: str) -> BaselineModel:
    """Fit one named recipe of ``built``'s case on its training split (KeyError if the case
    has no recipe of that name)."""
    spec = built.spec
    recipe = baseline_recipes(spec.case_slug)[name]
    pipe = Pipeline(
        [
            (
                "features",
                ContractFeaturizer(
                    columns=spec.contract_columns,
                    blocks=recipe.blocks,
                    target=recipe.target,
                    standardize=recipe.estimator.standardize_features,
                ),
            ),
            ("model", estimator_create(recipe.estimator)),
        ]
    )
    y = built.train[spec.label_column].to_numpy()
    X = built.train[list(spec.feature_names)]
    fit_params = {}
    if recipe.recency_half_life_days is not None:
        age = (TRAIN_DAYS - 1) - built.train[TIME_COLUMN].to_numpy()
        fit_params["model__sample_weight"] = 0.5 ** (age / recipe.recency_half_life_days)
    t0 = time.perf_counter()
    pipe.fit(X, y, **fit_params)
    return BaselineModel(
        name=name,
        description=recipe.description,
        spec=spec,
        pipeline=pipe,
        output_kind=recipe.output,
        fit_seconds=time.perf_counter() - t0,
    )


def train_baselines(built: BuiltDataset) -> dict[str, BaselineModel]:
    """``{"trivial": ..., "reasonable": ...}`` fitted on ``built.train``.

    What each one is per case: the ``BASELINES`` of the case's module in
    ``grading.datasets`` (every baseline uses the ONNX input layout of its contract, see
    ``grading.baselines.onnx_export``).
    """
    return {name: fit_recipe(built, name) for name in (TRIVIAL, REASONABLE)}


def heldout_scores(built: BuiltDataset, model: BaselineModel) -> np.ndarray:
    return model.predict(built.heldout_features)


def _metric(key: str, y_true, y_pred, groups) -> float:
    return float(metrics.compute(key, y_true, y_pred, groups=groups))


def evaluate(
    built: BuiltDataset, predictions: np.ndarray, keys=None, by_slice: bool = False
) -> dict:
    """Metrics of ``predictions`` on the held-out split.

    ``keys`` defaults to the case's primary metric; ``by_slice`` adds
    ``"<primary>[week N]"`` entries. Raises like ``grading.engine.metrics.compute``
    (ValueError, including ``MetricUndefined``, for a metric undefined on these rows).
    """
    spec = built.spec
    primary = spec.primary_metric
    if keys is None:
        keys = [primary]
    y, g = built.heldout_labels, built.heldout_groups
    out = {k: _metric(k, y, predictions, g) for k in keys}
    if by_slice:
        for s in np.unique(built.heldout_slices):
            m = built.heldout_slices == s
            out[f"{primary}[{s}]"] = _metric(
                primary, y[m], predictions[m], None if g is None else g[m]
            )
    return out


def design_choice_gain(built: BuiltDataset, with_model: BaselineModel | None = None) -> dict:
    """Measured held-out gain of the design choice the case's data rewards.

    Returns ``{"case", "choice", "metric", "higher_is_better", "with", "without",
    "gain", "per_slice"}`` where ``gain`` is signed so that > 0 means the design
    choice helps (``without - with`` for lower-is-better metrics) and
    ``per_slice`` maps "week 1".."week 4" to ``{"with", "without", "gain"}``.
    When the case's design choice has a linear pair (food-delivery-time) the dict also
    carries that comparison (``linear_with``, ``linear_without``, ``linear_gain``). Pass
    the already-fitted "reasonable" model as ``with_model`` to avoid refitting it.
    """
    case = built.spec.case_slug
    choice = design_choice(case)
    key = built.spec.primary_metric
    lower = metrics.metric_get(key).direction is metrics.Direction.LOWER
    with_model = with_model or fit_recipe(built, REASONABLE)
    without_model = fit_recipe(built, WITHOUT_DESIGN_CHOICE)
    p_with = with_model.predict(built.heldout_features)
    p_without = without_model.predict(built.heldout_features)
    y, g = built.heldout_labels, built.heldout_groups

    def score(mask):
        gg = None if g is None else g[mask]
        return _metric(key, y[mask], p_with[mask], gg), _metric(key, y[mask], p_without[mask], gg)

    m_with, m_without = score(np.ones(len(y), dtype=bool))
    per_slice = {}
    for s in np.unique(built.heldout_slices):
        w, wo = score(built.heldout_slices == s)
        per_slice[str(s)] = {"with": w, "without": wo, "gain": (wo - w) if lower else (w - wo)}
    out = {
        "case": case,
        "choice": choice.description,
        "metric": key,
        "higher_is_better": not lower,
        "with": m_with,
        "without": m_without,
        "gain": (m_without - m_with) if lower else (m_with - m_without),
        "per_slice": per_slice,
    }
    if choice.linear_pair is not None:
        linear_with, linear_without = (
            _metric(key, y, fit_recipe(built, n).predict(built.heldout_features), g)
            for n in choice.linear_pair
        )
        out["linear_with"], out["linear_without"] = linear_with, linear_without
        out["linear_gain"] = (
            (linear_without - linear_with) if lower else (linear_with - linear_without)
        )
    return out


Z_95 = 1.959963984540054


def _paired_gap(key: str, ignores: metrics.Prepared, handles: metrics.Prepared,
                lower: bool) -> dict[str, float]:
    """The gap ``handles`` minus ``ignores`` signed so that > 0 favours ``handles``, with a
    95 % normal interval of the paired per-unit differences (rows, or groups for ranking
    metrics; for rmse the interval of the MSE gap scaled by d rmse / d mse)."""
    a, b = ignores.point(key), handles.point(key)
    diff = ignores.values(key) - handles.values(key)
    half = Z_95 * float(np.std(diff, ddof=1)) / np.sqrt(len(diff))
    if key == "rmse":  # mse_a - mse_b = (rmse_a - rmse_b)(rmse_a + rmse_b)
        half /= a + b
    gap = (a - b) if lower else (b - a)
    return {"gap": gap, "gap_low": gap - half, "gap_high": gap + half}


def scenario_gaps(built: BuiltDataset, fitted: dict[str, BaselineModel] | None = None
                  ) -> list[dict]:
    """For each of the case's ``SCENARIO_CHOICES``: the primary metric with its 95 % interval
    of the recipe that ignores the scenario and of the one that handles it, on the slice's
    rows and on the rest of the held-out split, and the gap (> 0: handling it helps) with a
    paired 95 % interval. Parts with fewer than ``MIN_SCENARIO_ROWS`` rows, or where the
    metric is undefined, are left out. ``fitted`` (name -> model) is reused and filled in."""
    spec = built.spec
    key = spec.primary_metric
    lower = metrics.metric_get(key).direction is metrics.Direction.LOWER
    fitted = {} if fitted is None else fitted
    out = []
    for choice in scenario_choices(spec.case_slug):
        prepared = {}
        for role in ("ignores", "handles"):
            name = getattr(choice, role)
            if name not in fitted:
                fitted[name] = fit_recipe(built, name)
            scores = fitted[name].predict(built.heldout_features)
            prepared[role] = metrics.prepare(spec.task_type, built.heldout_labels, scores,
                                             built.heldout_groups)
        mask = np.asarray(built.heldout_scenarios[choice.scenario], dtype=bool)
        parts = []
        for part, rows in (("slice", mask), ("rest", ~mask)):
            if rows.sum() < MIN_SCENARIO_ROWS:
                continue
            sub = {role: prepared[role].subset(rows) for role in prepared}
            try:
                values = {}
                for role, rows_prepared in sub.items():
                    interval = rows_prepared.interval(key)
                    values[role] = {"value": rows_prepared.point(key), "low": interval.low,
                                    "high": interval.high}
                gap = _paired_gap(key, sub["ignores"], sub["handles"], lower)
            except (metrics.MetricUndefined, ValueError):
                continue
            parts.append({"part": part, "rows": int(rows.sum()), **values, **gap})
        out.append({"scenario": choice.scenario, "description": choice.description,
                    "ignores": choice.ignores, "handles": choice.handles, "metric": key,
                    "higher_is_better": not lower, "parts": parts})
    return out
