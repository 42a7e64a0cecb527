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
    BuiltDataset,
    DatasetSpec,
    Estimator,
    baseline_recipes,
    design_choice,
)
from grading.datasets.recipes import REASONABLE, TRIVIAL, WITHOUT_DESIGN_CHOICE
from grading.engine import metrics

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
    t0 = time.perf_counter()
    pipe.fit(X, y)
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
