"""Checks on a model skops has loaded (from an allowed file), before it predicts anything.

Tree storage is the one allowed part whose *content* scikit-learn trusts blindly: its
compiled prediction loops follow the stored child and feature indices without bounds checks
(skops' own note on ``sklearn.tree._tree.Tree`` and ``TreePredictor``). So every tree's
indices are checked here: children after their parent and inside the tree, features inside
the input the estimator validates. A crash would stay inside the sandbox child anyway; this
makes a tampered tree an ``invalid_artifact`` with a clear message instead of a crash.

Runs in the sandbox child, where scikit-learn is already imported by skops.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from grading.engine.errors import ArtifactRejected, RejectionCode

__all__ = ["skops_check_model"]

# BITSET_INNER_DTYPE rows of 8 x 32 bits: one bit per category value 0..255.
_BITSET_WORDS = 8


def _invalid(where: str) -> ArtifactRejected:
    return ArtifactRejected(
        RejectionCode.SKOPS_MODEL_INVALID,
        f"Your skops model's {where} is inconsistent (a tree points outside itself or at a "
        "feature the model does not have), so the file was altered or damaged. Save the "
        "model again with skops.io.dump.")


def _objects(model: Any) -> Iterator[Any]:
    """Every object reachable from ``model`` through attributes, containers and object
    arrays, each once."""
    seen: set[int] = set()
    stack = [model]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or obj is None or isinstance(obj, str | bytes | int | float | type):
            continue
        seen.add(id(obj))
        yield obj
        if isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, list | tuple | set):
            stack.extend(obj)
        elif isinstance(obj, np.ndarray):
            if obj.dtype == object:
                stack.extend(obj.ravel().tolist())
        elif hasattr(obj, "__dict__"):
            stack.extend(vars(obj).values())


def _check_tree(tree: Any, n_features: int, where: str) -> None:
    """A ``sklearn.tree._tree.Tree`` that ``n_features``-column input may traverse."""
    count = int(tree.node_count)
    # node_count first: the index arrays below are views of node_count records.
    if not 0 < count <= int(tree.capacity) or int(tree.n_features) != n_features:
        raise _invalid(where)
    left, right, feature = tree.children_left, tree.children_right, tree.feature
    ids = np.arange(count)
    leaf = left == -1
    inner = ~leaf
    if ((right == -1) != leaf).any() or (
        (left[inner] <= ids[inner]) | (left[inner] >= count)
        | (right[inner] <= ids[inner]) | (right[inner] >= count)
        | (feature[inner] < 0) | (feature[inner] >= n_features)
    ).any():
        raise _invalid(where)


def _check_predictor(predictor: Any, n_features: int, categorical: np.ndarray,
                     where: str) -> None:
    """A HistGradientBoosting ``TreePredictor`` that ``n_features``-column input may traverse;
    ``categorical[f]`` says whether feature ``f`` is categorical."""
    from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE

    nodes = predictor.nodes
    if not (isinstance(nodes, np.ndarray) and nodes.dtype == PREDICTOR_RECORD_DTYPE
            and nodes.ndim == 1 and len(nodes)):
        raise _invalid(where)
    ids = np.arange(len(nodes))
    inner = nodes["is_leaf"] == 0
    left, right = nodes["left"].astype(np.int64), nodes["right"].astype(np.int64)
    feature = nodes["feature_idx"]
    if (inner & ((left <= ids) | (left >= len(nodes)) | (right <= ids)
                 | (right >= len(nodes)) | (feature < 0) | (feature >= n_features))).any():
        raise _invalid(where)
    split_on_category = inner & (nodes["is_categorical"] != 0)
    if split_on_category.any():
        bitsets = predictor.raw_left_cat_bitsets
        if not (isinstance(bitsets, np.ndarray) and bitsets.ndim == 2
                and bitsets.shape[1] == _BITSET_WORDS
                and (nodes["bitset_idx"][split_on_category] < bitsets.shape[0]).all()
                and categorical[feature[split_on_category]].all()):
            raise _invalid(where)


def _check_hist_gradient_boosting(model: Any) -> None:
    name = type(model).__name__
    n_features = int(model.n_features_in_)
    mapper = model._bin_mapper
    categorical = (np.zeros(n_features, dtype=bool) if mapper.is_categorical_ is None
                   else np.asarray(mapper.is_categorical_, dtype=bool))
    if categorical.shape != (n_features,):
        raise _invalid(f"{name} binning")
    for iteration in model._predictors:
        if len(iteration) != model.n_trees_per_iteration_:
            raise _invalid(f"{name} trees")
        for predictor in iteration:
            _check_predictor(predictor, n_features, categorical, f"{name} tree")


def _check_gradient_boosting(model: Any) -> None:
    # predict_stages writes tree k's output into column k of the init predictions.
    name = type(model).__name__
    stages = model.estimators_
    width = int(model.n_trees_per_iteration_)
    if not (isinstance(stages, np.ndarray) and stages.ndim == 2 and stages.shape[1] == width):
        raise _invalid(f"{name} stages")
    init = model.init_
    if width > 1 and not (isinstance(init, str) and init == "zero") and (
            len(getattr(init, "classes_", ())) != width
            or len(getattr(init, "class_prior_", ())) != width):
        raise _invalid(f"{name} initial estimator")


def skops_check_model(model: Any) -> None:
    """Refuse a loaded model whose trees could lead scikit-learn's compiled loops astray, and
    make every part of it single-threaded (``n_jobs=1``: no worker processes, and the
    latency of one request as one thread serves it).

    Raises ``ArtifactRejected`` (``skops_model_invalid``).
    """
    from sklearn.ensemble import (
        BaseEnsemble,
        GradientBoostingClassifier,
        GradientBoostingRegressor,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )
    from sklearn.tree import BaseDecisionTree

    for obj in _objects(model):
        if isinstance(obj, BaseDecisionTree):
            if hasattr(obj, "tree_"):  # not: an ensemble's unfitted template estimator
                _check_tree(obj.tree_, int(obj.n_features_in_), f"{type(obj).__name__} tree")
        elif isinstance(obj, GradientBoostingClassifier | GradientBoostingRegressor):
            _check_gradient_boosting(obj)
        elif isinstance(obj, HistGradientBoostingClassifier | HistGradientBoostingRegressor):
            _check_hist_gradient_boosting(obj)
        if isinstance(obj, BaseEnsemble):
            # Ensembles validate the input once and hand it to their trees unchecked.
            members = np.asarray(obj.estimators_, dtype=object).ravel()
            if any(isinstance(m, BaseDecisionTree) and m.n_features_in_ != obj.n_features_in_
                   for m in members):
                raise _invalid(f"{type(obj).__name__} trees")
        if "n_jobs" in getattr(obj, "__dict__", {}):
            obj.n_jobs = 1
