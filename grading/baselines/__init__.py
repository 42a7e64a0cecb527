"""Baseline models for the case-study datasets (pure Python, no Django).

Every baseline is a scikit-learn ``Pipeline`` of two steps:

1. ``ContractFeaturizer`` - turns the raw contract columns into a dense float32
   matrix: standardised numerics (optionally log1p), one-hot categoricals,
   smoothed *target encodings* of ids and id crosses (out-of-fold when fitting,
   so the final estimator never sees its own labels), a smoothed click-rate from
   two count columns, haversine distance, cyclic hour. It ships with its own
   skl2onnx converter (``LabelEncoder`` look-up tables from ``ai.onnx.ml`` for the
   encodings, plain ONNX arithmetic for the rest), so the whole pipeline exports
   with ``skl2onnx.convert_sklearn``.
2. A standard scikit-learn estimator (``LogisticRegression``,
   ``LinearRegression``, ``Ridge`` or ``HistGradientBoosting*``) converted by
   skl2onnx's own converters.

ONNX input layout (see :func:`export_onnx`)
-------------------------------------------
* **single tensor** when the contract has no string column (food-delivery-time):
  one float32 input named ``"input"`` of shape ``[N, n_features]``, columns in
  contract order (int64 ids/counts are cast to float32 by the caller, exact
  below 2**24; the graph casts them back to int64 where it needs keys).
* **per column** otherwise (video-recommendation, feed-ranking,
  ad-click-prediction, rental-search-ranking): one input per contract column,
  named like the column, shape ``[N, 1]``, dtype float32 / int64 / string.

ONNX outputs:

* binary tasks (ad-click-prediction, feed-ranking): skl2onnx classifier outputs
  with ``zipmap=False``: ``label`` [N] and ``probabilities`` [N, 2]
  (P(positive) = column 1);
* ranking tasks: exactly one float output ``score`` [N, 1] (for a classifier,
  the graph is cut down to P(positive), see :func:`export_onnx`);
* regression: ``variable`` [N, 1] (minutes).

Metrics come from ``grading.engine.metrics`` when that module is importable, otherwise
from the small scikit-learn based fallbacks below (same keys).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, is_classifier
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from grading.datasets.base import BuiltDataset, DatasetSpec

#: ONNX opsets used for export (onnxruntime 1.32 supports both comfortably).
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
#: Multiplier for combining two ids into one int64 key: ids must be < KEY_BASE - 1.
KEY_BASE = 1 << 21
EARTH_RADIUS_KM = 6371.0088

PRIMARY_METRIC = {
    "ad-click-prediction": "log_loss",
    "feed-ranking": "normalized_entropy",
    "video-recommendation": "ndcg_at_10",
    "rental-search-ranking": "ndcg_at_10",
    "food-delivery-time": "rmse",
}
LOWER_IS_BETTER = {
    "log_loss", "normalized_entropy", "expected_calibration_error",
    "rmse", "mae", "mape", "p90_abs_error",
}  # fmt: skip


# ===========================================================================
# Featurizer
# ===========================================================================
def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


class ContractFeaturizer(TransformerMixin, BaseEstimator):
    """Dense float32 features from contract columns, exportable to ONNX.

    ``columns``: the contract, ``((name, dtype), ...)``.
    ``blocks``: tuple of block tuples, each producing one or more output columns:

    * ``("num", col, "none" | "log1p")`` - numeric column (log1p clips at 0).
    * ``("onehot", col)`` - indicator per category seen >= ``min_count`` times in
      train (at most ``max_categories``); unseen values -> all zeros.
    * ``("te", (col,) | (col_a, col_b)[, "count"])`` - target encoding of an id
      or an id cross: smoothed mean target per key (log-odds lift for binary
      targets, difference to the global mean otherwise; 0 for unseen keys),
      optionally followed by log1p(train count of the key). Out-of-fold
      (``n_folds``) when fitting. (Counts are opt-in: a model trained on
      out-of-fold rows rarely sees count 0 and extrapolates badly on cold ids.)
    * ``("rate", clicks_col, impressions_col)`` - log-odds lift of the smoothed
      ratio (clicks + s*p) / (impressions + s), s = ``smoothing``.
    * ``("haversine", (lat1, lng1, lat2, lng2))`` - great-circle distance in km.
    * ``("cyclic", col, period)`` - sin and cos of 2*pi*col/period.
    * ``("const",)`` - a single zero column (intercept-only models).

    With ``standardize=True`` (linear models) every output column is standardised
    with train statistics. Tree models use ``standardize=False``: then float32
    pass-through columns reach the trees bit-identical in Python and in ONNX (a
    float32 re-centring would shift values by an ulp and flip splits on
    near-duplicate values such as store coordinates).
    """

    def __init__(
        self,
        columns=(),
        blocks=(),
        target="binary",
        smoothing=20.0,
        n_folds=5,
        min_count=5,
        max_categories=64,
        standardize=True,
        random_state=0,
    ):
        self.columns = columns
        self.blocks = blocks
        self.target = target
        self.smoothing = smoothing
        self.n_folds = n_folds
        self.min_count = min_count
        self.max_categories = max_categories
        self.standardize = standardize
        self.random_state = random_state

    # -- column access ------------------------------------------------------
    def _dtype(self, name):
        return dict(self.columns)[name]

    def _col(self, X, name):
        dtype = self._dtype(name)
        if isinstance(X, pd.DataFrame):
            s = X[name]
            if dtype == "string":
                return s.to_numpy(dtype=object)
            return s.to_numpy(dtype=np.int64 if dtype == "int64" else np.float64)
        idx = [c for c, _ in self.columns].index(name)
        arr = np.asarray(X)[:, idx]
        if dtype == "string":
            return arr.astype(object)
        return arr.astype(np.int64 if dtype == "int64" else np.float64)

    # -- fitting --------------------------------------------------------------
    def _codes(self, X, col, vocab):
        if self._dtype(col) == "string":
            return pd.Index(vocab).get_indexer(self._col(X, col)).astype(np.int64)
        return self._col(X, col)

    def _key(self, X, cols, vocabs):
        key = None
        for col in cols:
            c = self._codes(X, col, vocabs.get(col)) + 1
            if c.size and (c.max() >= KEY_BASE or c.min() < 0):
                raise ValueError(f"{col}: ids must be in [0, {KEY_BASE - 1})")
            key = c if key is None else key * KEY_BASE + c
        return key

    def _encode(self, mean_y, count, prior):
        sm = float(self.smoothing)
        value = (mean_y * count + sm * prior) / (count + sm)
        if self.target == "binary":
            return _logit(value) - _logit(prior)
        return value - prior

    def fit(self, X, y):
        self._fit(X, y)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        return self._finish(self._fit(X, y))

    def _finish(self, raw):
        if not self.standardize:
            return raw.astype(np.float32)
        return ((raw - self.mean_) * self.inv_scale_).astype(np.float32)

    def _fit(self, X, y):
        y = np.asarray(y, dtype=np.float64)
        n = len(y)
        self.prior_ = float(y.mean())
        rng = np.random.default_rng(self.random_state)
        fold = rng.integers(0, self.n_folds, n)
        self.state_ = []
        parts = []
        for block in self.blocks:
            kind = block[0]
            if kind == "num":
                st = {}
                parts.append(self._num(X, block)[:, None])
            elif kind == "onehot":
                v = self._col(X, block[1])
                vals, counts = np.unique(
                    v.astype(str) if v.dtype == object else v, return_counts=True
                )
                order = np.lexsort((vals, -counts))  # most frequent first, ties by value
                keep = order[counts[order] >= self.min_count][: self.max_categories]
                vocab = np.sort(vals[keep])
                if v.dtype != object:
                    vocab = vocab.astype(np.int64)
                st = {"vocab": vocab}
                parts.append(self._onehot(X, block, st))
            elif kind == "te":
                cols = tuple(block[1])
                if len(cols) > 2:
                    raise ValueError("te crosses support at most two columns")
                vocabs = {}
                for col in cols:
                    if self._dtype(col) == "string":
                        vocabs[col] = np.unique(self._col(X, col).astype(str))
                key = self._key(X, cols, vocabs)
                keys, inv = np.unique(key, return_inverse=True)
                cnt = np.bincount(inv, minlength=len(keys)).astype(np.float64)
                tot = np.bincount(inv, weights=y, minlength=len(keys))
                st = {
                    "with_count": len(block) > 2 and block[2] == "count",
                    "cols": cols,
                    "vocabs": vocabs,
                    "keys": keys.astype(np.int64),
                    "value": self._encode(tot / cnt, cnt, self.prior_),
                    "logcount": np.log1p(cnt),
                }
                # out-of-fold encodings for the training rows
                k = self.n_folds
                cell = inv * k + fold
                cnt_f = np.bincount(cell, minlength=len(keys) * k)
                tot_f = np.bincount(cell, weights=y, minlength=len(keys) * k)
                c_oof = cnt[inv] - cnt_f[cell]
                t_oof = tot[inv] - tot_f[cell]
                mean_oof = np.where(c_oof > 0, t_oof / np.maximum(c_oof, 1), self.prior_)
                val = np.where(c_oof > 0, self._encode(mean_oof, c_oof, self.prior_), 0.0)
                if st["with_count"]:
                    parts.append(np.column_stack([val, np.log1p(c_oof * k / (k - 1))]))
                else:
                    parts.append(val[:, None])
            elif kind == "rate":
                c = self._col(X, block[1]).astype(np.float64)
                d = self._col(X, block[2]).astype(np.float64)
                st = {"prior": float(np.clip(c.sum() / max(d.sum(), 1.0), 1e-4, 1 - 1e-4))}
                parts.append(self._rate(X, block, st)[:, None])
            elif kind == "haversine":
                st = {}
                parts.append(self._haversine(X, block)[:, None])
            elif kind == "cyclic":
                st = {}
                parts.append(self._cyclic(X, block))
            elif kind == "const":
                st = {}
                parts.append(np.zeros((n, 1)))
            else:
                raise ValueError(f"unknown block {kind!r}")
            self.state_.append(st)
        raw = np.hstack(parts) if parts else np.zeros((n, 0))
        self.n_features_out_ = raw.shape[1]
        if self.standardize:
            self.mean_ = raw.mean(axis=0)
            scale = raw.std(axis=0)
            self.inv_scale_ = np.where(
                scale > 1e-12, 1.0 / np.where(scale > 1e-12, scale, 1.0), 1.0
            )
        else:
            self.mean_ = np.zeros(self.n_features_out_)
            self.inv_scale_ = np.ones(self.n_features_out_)
        return raw

    # -- block transforms (numpy) ------------------------------------------------
    def _num(self, X, block):
        v = self._col(X, block[1]).astype(np.float64)
        return np.log1p(np.maximum(v, 0.0)) if block[2] == "log1p" else v

    def _onehot(self, X, block, st):
        v = self._col(X, block[1])
        if v.dtype == object:
            v = v.astype(str)
        return (v[:, None] == st["vocab"][None, :]).astype(np.float64)

    def _te(self, X, st):
        key = self._key(X, st["cols"], st["vocabs"])
        pos = np.searchsorted(st["keys"], key)
        pos = np.minimum(pos, len(st["keys"]) - 1)
        hit = st["keys"][pos] == key
        value = np.where(hit, st["value"][pos], 0.0)
        if not st["with_count"]:
            return value[:, None]
        return np.column_stack([value, np.where(hit, st["logcount"][pos], 0.0)])

    def _rate(self, X, block, st):
        c = self._col(X, block[1]).astype(np.float64)
        d = self._col(X, block[2]).astype(np.float64)
        s, p = float(self.smoothing), st["prior"]
        return _logit((c + s * p) / (d + s)) - _logit(p)

    @staticmethod
    def _hav(lat1, lng1, lat2, lng2):
        r = math.pi / 180.0
        la1, la2 = lat1 * r, lat2 * r
        a = (
            np.sin((la2 - la1) / 2) ** 2
            + np.cos(la1) * np.cos(la2) * np.sin((lng2 - lng1) * r / 2) ** 2
        )
        return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))

    def _haversine(self, X, block):
        return self._hav(*(self._col(X, c).astype(np.float64) for c in block[1]))

    def _cyclic(self, X, block):
        v = self._col(X, block[1]).astype(np.float64) * (2 * math.pi / float(block[2]))
        return np.column_stack([np.sin(v), np.cos(v)])

    def transform(self, X):
        n = len(X)
        parts = []
        for block, st in zip(self.blocks, self.state_, strict=True):
            kind = block[0]
            if kind == "num":
                parts.append(self._num(X, block)[:, None])
            elif kind == "onehot":
                parts.append(self._onehot(X, block, st))
            elif kind == "te":
                parts.append(self._te(X, st))
            elif kind == "rate":
                parts.append(self._rate(X, block, st)[:, None])
            elif kind == "haversine":
                parts.append(self._haversine(X, block)[:, None])
            elif kind == "cyclic":
                parts.append(self._cyclic(X, block))
            elif kind == "const":
                parts.append(np.zeros((n, 1)))
        raw = np.hstack(parts) if parts else np.zeros((n, 0))
        return self._finish(raw)

    def get_feature_names_out(self, input_features=None):
        names = []
        for block, st in zip(self.blocks, self.state_, strict=True):
            kind = block[0]
            if kind == "onehot":
                names += [f"{block[1]}={v}" for v in st["vocab"]]
            elif kind == "te":
                tag = "x".join(block[1])
                names += [f"te[{tag}]"] + ([f"logcount[{tag}]"] if st["with_count"] else [])
            elif kind == "cyclic":
                names += [f"sin({block[1]})", f"cos({block[1]})"]
            elif kind == "haversine":
                names.append("haversine_km")
            elif kind == "rate":
                names.append(f"rate[{block[1]}/{block[2]}]")
            elif kind == "const":
                names.append("const")
            else:
                names.append(f"{block[2]}({block[1]})" if block[2] != "none" else block[1])
        return np.asarray(names, dtype=object)


# ---------------------------------------------------------------------------
# skl2onnx converter for ContractFeaturizer
# ---------------------------------------------------------------------------
def _featurizer_shape_calculator(operator):
    from skl2onnx.common.data_types import FloatTensorType

    n = operator.inputs[0].get_first_dimension()
    operator.outputs[0].type = FloatTensorType([n, operator.raw_operator.n_features_out_])


def _featurizer_converter(scope, operator, container):
    from onnx import TensorProto, helper

    op = operator.raw_operator
    names = [c for c, _ in op.columns]
    dtypes = dict(op.columns)
    ml = {"op_domain": "ai.onnx.ml", "op_version": 2}

    def var(prefix):
        return scope.get_unique_variable_name(prefix)

    def node(op_type, inputs, prefix="t", domain_kw=None, **attrs):
        out = var(prefix)
        kw = domain_kw or {}
        container.add_node(
            op_type, inputs, [out], name=scope.get_unique_operator_name(op_type), **kw, **attrs
        )
        return out

    def const_f(values, shape):
        name = var("cf")
        values = np.asarray(values, dtype=np.float32).ravel()
        container.add_initializer(name, TensorProto.FLOAT, list(shape), values.tolist())
        return name

    def const_i(values, shape):
        name = var("ci")
        values = np.asarray(values, dtype=np.int64).ravel()
        container.add_initializer(name, TensorProto.INT64, list(shape), values.tolist())
        return name

    # raw inputs: per-column [N,1] tensors or one [N,C] float tensor
    if len(operator.inputs) == len(names):
        raw_in = {c: operator.inputs[i].full_name for i, c in enumerate(names)}
        single = None
    elif len(operator.inputs) == 1:
        single = operator.inputs[0].full_name
        raw_in = {}
    else:
        raise RuntimeError("ContractFeaturizer: inputs do not match the contract")

    def col(name):
        if single is not None and name not in raw_in:
            x = node("Gather", [single, const_i([names.index(name)], [1])], "col", axis=1)
            if dtypes[name] == "int64":  # ids / counts travel as float32 in this layout
                x = node("Cast", [node("Round", [x])], "i", to=TensorProto.INT64)
            elif dtypes[name] == "string":
                raise RuntimeError("string columns cannot use the single-tensor layout")
            raw_in[name] = x
        return raw_in[name]

    def as_float(name):
        x = col(name)
        return x if dtypes[name] == "float32" else node("Cast", [x], "f", to=TensorProto.FLOAT)

    def str_index(name, vocab):
        return node(
            "LabelEncoder",
            [col(name)],
            "idx",
            domain_kw=ml,
            keys_strings=[str(v) for v in vocab],
            values_int64s=list(range(len(vocab))),
            default_int64=-1,
        )

    outs = []
    for block, st in zip(op.blocks, op.state_, strict=True):
        kind = block[0]
        if kind == "num":
            x = as_float(block[1])
            if block[2] == "log1p":
                x = node("Log", [node("Add", [node("Relu", [x]), const_f([1.0], [1])])])
            outs.append(x)
        elif kind == "onehot":
            vocab = st["vocab"]
            if dtypes[block[1]] == "string":
                idx = str_index(block[1], vocab)
                eq = node("Equal", [idx, const_i(np.arange(len(vocab)), [1, len(vocab)])])
            elif dtypes[block[1]] == "int64":
                eq = node("Equal", [col(block[1]), const_i(vocab, [1, len(vocab)])])
            else:
                raise RuntimeError("one-hot of float columns is not supported")
            outs.append(node("Cast", [eq], to=TensorProto.FLOAT))
        elif kind == "te":
            key = None
            for c in st["cols"]:
                code = str_index(c, st["vocabs"][c]) if dtypes[c] == "string" else col(c)
                code = node("Add", [code, const_i([1], [1])])
                key = (
                    code
                    if key is None
                    else node("Add", [node("Mul", [key, const_i([KEY_BASE], [1])]), code])
                )
            keys = st["keys"].tolist()
            for values in (st["value"], st["logcount"]) if st["with_count"] else (st["value"],):
                outs.append(
                    node(
                        "LabelEncoder",
                        [key],
                        "te",
                        domain_kw=ml,
                        keys_int64s=keys,
                        values_floats=np.asarray(values, dtype=np.float32).tolist(),
                        default_float=0.0,
                    )
                )
        elif kind == "rate":
            s, p = float(op.smoothing), st["prior"]
            num = node("Add", [as_float(block[1]), const_f([s * p], [1])])
            den = node("Add", [as_float(block[2]), const_f([s], [1])])
            r = node("Div", [num, den])
            lo = node(
                "Sub", [node("Log", [r]), node("Log", [node("Sub", [const_f([1.0], [1]), r])])]
            )
            outs.append(node("Sub", [lo, const_f([float(_logit(p))], [1])]))
        elif kind == "haversine":
            # differences in degrees first: exact in float32 for nearby points (Sterbenz)
            rad = const_f([math.pi / 180.0], [1])
            half_rad = const_f([math.pi / 360.0], [1])
            d1, g1, d2, g2 = (as_float(c) for c in block[1])
            s1 = node("Sin", [node("Mul", [node("Sub", [d2, d1]), half_rad])])
            s2 = node("Sin", [node("Mul", [node("Sub", [g2, g1]), half_rad])])
            cc = node(
                "Mul",
                [node("Cos", [node("Mul", [d1, rad])]), node("Cos", [node("Mul", [d2, rad])])],
            )
            a = node("Add", [node("Mul", [s1, s1]), node("Mul", [cc, node("Mul", [s2, s2])])])
            outs.append(
                node(
                    "Mul", [node("Asin", [node("Sqrt", [a])]), const_f([2 * EARTH_RADIUS_KM], [1])]
                )
            )
        elif kind == "cyclic":
            ang = node("Mul", [as_float(block[1]), const_f([2 * math.pi / float(block[2])], [1])])
            outs.append(node("Sin", [ang]))
            outs.append(node("Cos", [ang]))
        elif kind == "const":
            first = operator.inputs[0].full_name
            shape = node("Shape", [first])
            if single is not None:
                shape = node(
                    "Concat",
                    [
                        node("Slice", [shape, const_i([0], [1]), const_i([1], [1])]),
                        const_i([1], [1]),
                    ],
                    axis=0,
                )
            outs.append(
                node(
                    "ConstantOfShape",
                    [shape],
                    value=helper.make_tensor("value", TensorProto.FLOAT, [1], [0.0]),
                )
            )
    if not op.standardize:
        container.add_node(
            "Concat",
            outs,
            [operator.outputs[0].full_name],
            name=scope.get_unique_operator_name("Concat"),
            axis=1,
        )
        return
    cat = node("Concat", outs, "concat", axis=1) if len(outs) > 1 else outs[0]
    centred = node("Sub", [cat, const_f(op.mean_, [1, op.n_features_out_])])
    container.add_node(
        "Mul",
        [centred, const_f(op.inv_scale_, [1, op.n_features_out_])],
        [operator.outputs[0].full_name],
        name=scope.get_unique_operator_name("Mul"),
    )


_REGISTERED = False


def _patch_skl2onnx_tree_bools():
    """Compatibility shim: skl2onnx 1.20 passes a Python ``False`` for leaves'
    ``nodes_missing_value_tracks_true`` when converting HistGradientBoosting*,
    which onnx >= 1.18 rejects in an INTS attribute. Coerce it to int."""
    from skl2onnx.common import tree_ensemble

    if getattr(tree_ensemble.add_node, "_mlsd_int_missing", False):
        return
    original = tree_ensemble.add_node

    def add_node(*args, **kwargs):
        if "nodes_missing_value_tracks_true" in kwargs:
            kwargs["nodes_missing_value_tracks_true"] = int(
                kwargs["nodes_missing_value_tracks_true"]
            )
        return original(*args, **kwargs)

    add_node._mlsd_int_missing = True
    tree_ensemble.add_node = add_node


def _register_converter():
    global _REGISTERED
    if _REGISTERED:
        return
    from skl2onnx import update_registered_converter

    _patch_skl2onnx_tree_bools()

    update_registered_converter(
        ContractFeaturizer,
        "MlsdContractFeaturizer",
        _featurizer_shape_calculator,
        _featurizer_converter,
    )
    _REGISTERED = True


def onnx_initial_types(spec: DatasetSpec):
    """skl2onnx initial types for ``spec``'s contract (layouts: see the module docstring)."""
    from skl2onnx.common.data_types import FloatTensorType, Int64TensorType, StringTensorType

    if spec.all_numeric:
        return [("input", FloatTensorType([None, len(spec.feature_columns)]))]
    types = {"float32": FloatTensorType, "int64": Int64TensorType, "string": StringTensorType}
    return [(c.name, types[c.dtype]([None, 1])) for c in spec.feature_columns]


def onnx_feeds(spec: DatasetSpec, features: pd.DataFrame) -> dict[str, np.ndarray]:
    """onnxruntime feeds for ``features`` in the layout produced by :func:`export_onnx`."""
    if spec.all_numeric:
        return {"input": features[list(spec.feature_names)].to_numpy(dtype=np.float32)}
    feeds = {}
    for c in spec.feature_columns:
        s = features[c.name]
        if c.dtype == "string":
            arr = s.to_numpy(dtype=object)
        else:
            arr = s.to_numpy(dtype=np.float32 if c.dtype == "float32" else np.int64)
        feeds[c.name] = arr.reshape(-1, 1)
    return feeds


def _only_positive_score(onx, output_name: str = "score"):
    """Rewrite a classifier graph to a single float output ``[N, 1]`` = P(positive).

    Ranking tasks accept exactly one float output, so the ``label`` output and the
    nodes only it needs are dropped and ``probabilities[:, 1:2]`` becomes ``score``.
    """
    from onnx import TensorProto, helper, numpy_helper

    g = onx.graph
    proba = next(o.name for o in g.output if o.name in ("probabilities", "output_probability"))
    g.initializer.extend(
        [
            numpy_helper.from_array(np.array([1], dtype=np.int64), "score_start"),
            numpy_helper.from_array(np.array([2], dtype=np.int64), "score_end"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "score_axis"),
        ]
    )
    g.node.append(
        helper.make_node(
            "Slice",
            [proba, "score_start", "score_end", "score_axis"],
            [output_name],
            name="ScoreSlice",
        )
    )
    del g.output[:]
    g.output.append(helper.make_tensor_value_info(output_name, TensorProto.FLOAT, [None, 1]))
    # prune nodes and initializers the new output does not need
    needed = {output_name}
    keep = []
    for node in reversed(list(g.node)):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(i for i in node.input if i)
    keep.reverse()
    del g.node[:]
    g.node.extend(keep)
    inits = [t for t in g.initializer if t.name in needed]
    del g.initializer[:]
    g.initializer.extend(inits)
    return onx


def _rename_output(onx, new_name: str):
    """Expose a single-output graph's output under ``new_name`` (Identity node)."""
    from onnx import helper

    g = onx.graph
    (out,) = g.output
    g.node.append(helper.make_node("Identity", [out.name], [new_name], name="RenameOutput"))
    renamed = helper.make_tensor_value_info(new_name, out.type.tensor_type.elem_type, [None, 1])
    del g.output[:]
    g.output.append(renamed)
    return onx


def export_onnx(pipeline: Pipeline, spec: DatasetSpec, path) -> Path:
    """Convert a fitted baseline pipeline with skl2onnx and write it to ``path``.

    Inputs follow ``spec``'s contract: one ``[N, 1]`` input per column, or a
    single float32 ``"input"`` ``[N, n_features]`` tensor when the contract has no
    string column. Classifiers are exported with ``zipmap=False``; for ranking
    tasks a classifier graph is reduced to one ``score`` output = P(positive).
    Opsets: ``TARGET_OPSET`` (ai.onnx 17, ai.onnx.ml 3), no custom domains.
    """
    from skl2onnx import convert_sklearn

    _register_converter()
    final = pipeline.steps[-1][1]
    options = {id(final): {"zipmap": False}} if is_classifier(final) else None
    onx = convert_sklearn(
        pipeline,
        initial_types=onnx_initial_types(spec),
        target_opset=TARGET_OPSET,
        options=options,
    )
    if spec.task_type == "ranking":
        onx = _only_positive_score(onx) if is_classifier(final) else _rename_output(onx, "score")
    onx.doc_string = (
        f"mlsd-mock baseline for {spec.case_slug} (generator v{spec.generator_version})"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(onx.SerializeToString())
    return path


# ===========================================================================
# Metrics
# ===========================================================================
def _fallback_metric(key, y_true, y_pred, groups=None) -> float:
    from sklearn import metrics as skm

    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if key == "log_loss":
        q = np.clip(p, 1e-7, 1 - 1e-7)
        return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))
    if key == "normalized_entropy":
        b = float(np.clip(y.mean(), 1e-7, 1 - 1e-7))
        return _fallback_metric("log_loss", y, p) / float(
            -(b * np.log(b) + (1 - b) * np.log(1 - b))
        )
    if key == "roc_auc":
        return float(skm.roc_auc_score(y, p))
    if key == "pr_auc":
        return float(skm.average_precision_score(y, p))
    if key == "rmse":
        return float(np.sqrt(np.mean((y - p) ** 2)))
    if key == "mae":
        return float(np.mean(np.abs(y - p)))
    if key in ("ndcg_at_10", "mrr"):
        g = np.asarray(groups)
        order = np.lexsort((-p, g))
        gs, ys = g[order], y[order]
        start = np.r_[True, gs[1:] != gs[:-1]]
        gid = np.cumsum(start) - 1
        first = np.flatnonzero(start)
        rank = np.arange(len(gs)) - first[gid] + 1
        if key == "mrr":
            rel = ys > 0
            best = np.full(len(first), np.inf)
            np.minimum.at(best, gid[rel], rank[rel])
            ok = np.isfinite(best)
            return float(np.mean(1.0 / best[ok])) if ok.any() else 0.0
        disc = np.where(rank <= 10, 1.0 / np.log2(rank + 1), 0.0)
        dcg = np.bincount(gid, weights=(2**ys - 1) * disc)
        iorder = np.lexsort((-y, g))
        yi = y[iorder]
        idcg = np.bincount(gid, weights=(2**yi - 1) * disc)
        ok = idcg > 0
        return float(np.mean(dcg[ok] / idcg[ok])) if ok.any() else 0.0
    raise KeyError(f"no fallback for metric {key!r}")


def metric(key: str, y_true, y_pred, groups=None) -> float:
    """``grading.engine.metrics.compute`` when available, else the local fallback."""
    try:
        from grading.engine import metrics as _metrics  # noqa: PLC0415 - sibling module written separately
    except ImportError:
        return _fallback_metric(key, y_true, y_pred, groups)
    return float(_metrics.compute(key, y_true, y_pred, groups=groups))


def metrics_source() -> str:
    try:
        from grading.engine import metrics as _metrics  # noqa: F401, PLC0415
    except ImportError:
        return "sklearn fallback (grading.engine.metrics not importable)"
    return "grading.engine.metrics"


# ===========================================================================
# Baseline definitions per case
# ===========================================================================
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
    extra: dict = field(default_factory=dict)

    @property
    def input_layout(self) -> str:
        return "single_tensor" if self.spec.all_numeric else "per_column"

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        if is_classifier(self.pipeline.steps[-1][1]):
            return self.pipeline.predict_proba(features)[:, 1]
        return np.asarray(self.pipeline.predict(features), dtype=np.float64).ravel()

    def export_onnx(self, path) -> Path:
        return export_onnx(self.pipeline, self.spec, path)


def _lr(C=1.0):
    return LogisticRegression(C=C, max_iter=500, tol=1e-6)


def _hgb_reg(**kw):
    params = {
        "max_iter": 150,
        "learning_rate": 0.12,
        "max_leaf_nodes": 31,
        "min_samples_leaf": 50,
        "early_stopping": False,
        "random_state": 0,
    }
    params.update(kw)
    return HistGradientBoostingRegressor(**params)


# Each recipe: featurizer blocks, estimator factory, TE target kind, output kind, description.
def _recipes(case: str) -> dict[str, dict]:
    if case == "ad-click-prediction":
        base = (
            ("onehot", "position"),
            ("onehot", "hour"),
            ("onehot", "device"),
            ("onehot", "ad_category"),
            ("rate", "user_past_clicks", "user_past_impressions"),
            ("num", "user_past_impressions", "log1p"),
        )
        ids = (
            ("te", ("ad_id",)),
            ("te", ("advertiser_id",)),
            ("te", ("user_id", "ad_category")),
            ("te", ("user_id", "advertiser_id")),
        )
        return {
            "trivial": {
                "blocks": (("const",),),
                "model": _lr,
                "target": "binary",
                "output": "probability",
                "description": "Constant: the training click rate for every impression.",
            },
            "reasonable": {
                "blocks": base + ids,
                "model": _lr,
                "target": "binary",
                "output": "probability",
                "description": "Logistic regression: one-hot position/hour/device/category, "
                "smoothed user CTR, plus target-encoded ad_id, advertiser_id and "
                "user x category / user x advertiser crosses.",
            },
            "without_design_choice": {
                "blocks": base,
                "model": _lr,
                "target": "binary",
                "output": "probability",
                "description": "Same logistic regression without any id / id-cross features.",
            },
        }
    if case == "feed-ranking":
        base = (
            ("onehot", "activity_type"),
            ("num", "connection_strength", "none"),
            ("num", "post_age_hours", "log1p"),
            ("num", "author_followers", "log1p"),
            ("num", "post_reactions", "log1p"),
            ("cyclic", "hour", 24),
            ("onehot", "device"),
        )
        aff = (
            ("num", "viewer_author_affinity", "none"),
            ("num", "viewer_author_affinity", "log1p"),
        )
        return {
            "trivial": {
                "blocks": (("const",),),
                "model": _lr,
                "target": "binary",
                "output": "probability",
                "description": "Constant: the training click rate for every post.",
            },
            "reasonable": {
                "blocks": base + aff,
                "model": _lr,
                "target": "binary",
                "output": "probability",
                "description": "Logistic regression on activity type, connection strength, "
                "log post age, "
                "author/post popularity, hour, device and viewer-author affinity.",
            },
            "without_design_choice": {
                "blocks": base,
                "model": _lr,
                "target": "binary",
                "output": "probability",
                "description": "Same logistic regression without the viewer-author "
                "affinity feature.",
            },
        }
    if case == "video-recommendation":
        meta = (
            ("onehot", "genre"),
            ("num", "duration_min", "log1p"),
            ("num", "video_age_days", "log1p"),
            ("num", "popularity_7d", "none"),
        )
        ids = (("te", ("user_id", "genre")), ("te", ("video_id",)), ("te", ("user_id",)))
        return {
            "trivial": {
                "blocks": (("num", "popularity_7d", "none"),),
                "model": _lr,
                "target": "binary",
                "output": "probability",
                "description": "Popularity only: logistic regression on popularity_7d "
                "(ranks by 7-day views).",
            },
            "reasonable": {
                "blocks": meta + ids,
                "model": _lr,
                "target": "binary",
                "output": "probability",
                "description": "Logistic regression on metadata plus collaborative id features: "
                "target-encoded user x genre, video_id and user_id.",
            },
            "without_design_choice": {
                "blocks": meta,
                "model": _lr,
                "target": "binary",
                "output": "probability",
                "description": "Metadata-only logistic regression "
                "(genre, duration, age, popularity).",
            },
        }
    if case == "rental-search-ranking":
        # trees get raw values: a monotone transform changes nothing for them, and raw
        # float32 inputs reach the trees bit-identically in Python and in ONNX
        base = (
            ("onehot", "room_type"),
            ("num", "price_per_night", "none"),
            ("num", "price_rel_search", "none"),
            ("num", "rating", "none"),
            ("num", "review_count", "none"),
            ("num", "distance_km", "none"),
            ("num", "accommodates", "none"),
            ("num", "guests", "none"),
            ("num", "nights", "none"),
            ("num", "lead_days", "none"),
        )
        ids = (("te", ("listing_id",)),)
        return {
            "trivial": {
                "blocks": (("num", "review_count", "log1p"),),
                "model": LinearRegression,
                "target": "continuous",
                "output": "score",
                "description": "Popularity only: score = linear function of log review count.",
            },
            "reasonable": {
                "blocks": base + ids,
                "model": _hgb_reg,
                "target": "continuous",
                "output": "score",
                "description": "Gradient-boosted trees regressing the graded label (0/1/2) "
                "on listing and query "
                "features plus a target-encoded listing_id quality feature.",
            },
            "without_design_choice": {
                "blocks": base,
                "model": _hgb_reg,
                "target": "continuous",
                "output": "score",
                "description": "Same gradient-boosted trees without the listing_id feature.",
            },
        }
    if case == "food-delivery-time":
        base = (  # for the trees: raw values (see rental)
            ("num", "store_lat", "none"),
            ("num", "store_lng", "none"),
            ("num", "customer_lat", "none"),
            ("num", "customer_lng", "none"),
            ("num", "order_items", "none"),
            ("num", "order_subtotal", "none"),
            ("num", "hour", "none"),
            ("num", "day_of_week", "none"),
            ("num", "store_busy_orders", "none"),
            ("num", "couriers_available", "none"),
            ("te", ("store_id",)),
        )
        hav = (("haversine", ("store_lat", "store_lng", "customer_lat", "customer_lng")),)
        lin = (
            ("num", "store_lat", "none"),
            ("num", "store_lng", "none"),
            ("num", "customer_lat", "none"),
            ("num", "customer_lng", "none"),
            ("num", "order_items", "none"),
            ("num", "order_subtotal", "log1p"),
            ("onehot", "hour"),
            ("onehot", "day_of_week"),
            ("num", "store_busy_orders", "none"),
            ("num", "couriers_available", "none"),
            ("te", ("store_id",)),
        )
        return {
            "trivial": {
                "blocks": (("const",),),
                "model": LinearRegression,
                "target": "continuous",
                "output": "minutes",
                "description": "Constant: the training mean delivery time.",
            },
            "reasonable": {
                "blocks": base + hav,
                "model": _hgb_reg,
                "target": "continuous",
                "output": "minutes",
                "description": "Gradient-boosted trees on raw coordinates, haversine "
                "distance, order size, "
                "hour, weekday, store busy-ness, couriers and target-encoded store_id.",
            },
            "without_design_choice": {
                "blocks": base,
                "model": _hgb_reg,
                "target": "continuous",
                "output": "minutes",
                "description": "Same gradient-boosted trees with raw coordinates only "
                "(no haversine).",
            },
            "linear_with_haversine": {
                "blocks": lin + hav,
                "model": lambda: Ridge(alpha=1.0),
                "target": "continuous",
                "output": "minutes",
                "description": "Ridge regression with haversine distance.",
            },
            "linear_without_haversine": {
                "blocks": lin,
                "model": lambda: Ridge(alpha=1.0),
                "target": "continuous",
                "output": "minutes",
                "description": "Ridge regression on raw coordinates only.",
            },
        }
    raise KeyError(case)


DESIGN_CHOICE = {
    "ad-click-prediction": (
        "target-encoded id features and id crosses "
        "(ad, advertiser, user x category, user x advertiser)"
    ),
    "feed-ranking": "viewer-author affinity feature",
    "video-recommendation": (
        "collaborative / id features (user x genre, video, user) vs metadata-only"
    ),
    "rental-search-ranking": "listing_id quality feature (target-encoded listing_id)",
    "food-delivery-time": "haversine distance feature (same gradient-boosted model)",
}


def fit_recipe(built: BuiltDataset, name: str) -> BaselineModel:
    """Fit one named recipe of ``built``'s case on its training split."""
    spec = built.spec
    r = _recipes(spec.case_slug)[name]
    pipe = Pipeline(
        [
            (
                "features",
                ContractFeaturizer(
                    columns=spec.contract_columns,
                    blocks=r["blocks"],
                    target=r["target"],
                    standardize=r["model"] is not _hgb_reg,
                ),
            ),
            ("model", r["model"]()),
        ]
    )
    y = built.train[spec.label_column].to_numpy()
    X = built.train[list(spec.feature_names)]
    t0 = time.perf_counter()
    pipe.fit(X, y)
    return BaselineModel(
        name=name,
        description=r["description"],
        spec=spec,
        pipeline=pipe,
        output_kind=r["output"],
        fit_seconds=time.perf_counter() - t0,
    )


def recipe_names(case_slug: str) -> tuple[str, ...]:
    return tuple(_recipes(case_slug))


def train_baselines(built: BuiltDataset) -> dict[str, BaselineModel]:
    """``{"trivial": ..., "reasonable": ...}`` fitted on ``built.train``.

    Per case (all use the per-column ONNX input layout, see module docstring):

    * ad-click-prediction: trivial = constant click rate (intercept-only logistic
      regression); reasonable = logistic regression with one-hot context, smoothed
      user CTR and target-encoded id / id-cross features.
    * feed-ranking: trivial = constant click rate; reasonable = logistic regression
      incl. viewer-author affinity.
    * video-recommendation: trivial = popularity-only; reasonable = logistic
      regression on metadata + target-encoded user x genre / video / user ids.
    * rental-search-ranking: trivial = popularity (review count) only; reasonable
      = HistGradientBoostingRegressor on the graded label incl. listing_id encoding.
    * food-delivery-time: trivial = global mean; reasonable =
      HistGradientBoostingRegressor incl. haversine distance and store encoding.
    """
    return {name: fit_recipe(built, name) for name in ("trivial", "reasonable")}


def heldout_scores(built: BuiltDataset, model: BaselineModel) -> np.ndarray:
    return model.predict(built.heldout_features)


def evaluate(
    built: BuiltDataset, predictions: np.ndarray, keys=None, by_slice: bool = False
) -> dict:
    """Metrics of ``predictions`` on the held-out split (primary metric first)."""
    spec = built.spec
    primary = PRIMARY_METRIC[spec.case_slug]
    if keys is None:
        keys = [primary]
    y, g = built.heldout_labels, built.heldout_groups
    out = {k: metric(k, y, predictions, g) for k in keys}
    if by_slice:
        for s in np.unique(built.heldout_slices):
            m = built.heldout_slices == s
            out[f"{primary}[{s}]"] = metric(
                primary, y[m], predictions[m], None if g is None else g[m]
            )
    return out


def design_choice_gain(built: BuiltDataset, with_model: BaselineModel | None = None) -> dict:
    """Measured held-out gain of the design choice the case's data rewards.

    Returns ``{"case", "choice", "metric", "higher_is_better", "with", "without",
    "gain", "per_slice"}`` where ``gain`` is signed so that > 0 means the design
    choice helps (``without - with`` for lower-is-better metrics) and
    ``per_slice`` maps "week 1".."week 4" to ``{"with", "without", "gain"}``.
    For food-delivery-time the dict also carries the linear-model comparison
    (``linear_with``, ``linear_without``, ``linear_gain``). Pass the already-fitted
    "reasonable" model as ``with_model`` to avoid refitting it.
    """
    case = built.spec.case_slug
    key = PRIMARY_METRIC[case]
    lower = key in LOWER_IS_BETTER
    with_model = with_model or fit_recipe(built, "reasonable")
    without_model = fit_recipe(built, "without_design_choice")
    p_with = with_model.predict(built.heldout_features)
    p_without = without_model.predict(built.heldout_features)
    y, g = built.heldout_labels, built.heldout_groups

    def score(mask):
        gg = None if g is None else g[mask]
        return metric(key, y[mask], p_with[mask], gg), metric(key, y[mask], p_without[mask], gg)

    m_with, m_without = score(np.ones(len(y), dtype=bool))
    per_slice = {}
    for s in np.unique(built.heldout_slices):
        w, wo = score(built.heldout_slices == s)
        per_slice[str(s)] = {"with": w, "without": wo, "gain": (wo - w) if lower else (w - wo)}
    out = {
        "case": case,
        "choice": DESIGN_CHOICE[case],
        "metric": key,
        "higher_is_better": not lower,
        "with": m_with,
        "without": m_without,
        "gain": (m_without - m_with) if lower else (m_with - m_without),
        "per_slice": per_slice,
    }
    if case == "food-delivery-time":
        lw = fit_recipe(built, "linear_with_haversine")
        lo = fit_recipe(built, "linear_without_haversine")
        out["linear_with"] = evaluate(built, lw.predict(built.heldout_features), [key])[key]
        out["linear_without"] = evaluate(built, lo.predict(built.heldout_features), [key])[key]
        out["linear_gain"] = out["linear_without"] - out["linear_with"]
    return out
