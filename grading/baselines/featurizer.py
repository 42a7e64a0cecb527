"""``ContractFeaturizer``: the baselines' feature engineering, a scikit-learn transformer.

It turns the raw contract columns into a dense float32 matrix: standardised numerics
(optionally log1p), one-hot categoricals, smoothed *target encodings* of ids and id crosses
(out-of-fold when fitting, so the final estimator never sees its own labels), a smoothed
click-rate from two count columns, haversine distance, cyclic hour. Its blocks are what a
baseline recipe names (``grading.datasets.recipes``). ``grading.baselines.onnx_export``
registers its skl2onnx converter, so a whole baseline pipeline exports to ONNX.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

#: Multiplier for combining two ids into one int64 key: ids must be < KEY_BASE - 1.
KEY_BASE = 1 << 21
EARTH_RADIUS_KM = 6371.0088


def logit(p):
    """log(p / (1 - p)) with p clipped to [1e-6, 1 - 1e-6]."""
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
            return logit(value) - logit(prior)
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
        return logit((c + s * p) / (d + s)) - logit(p)

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

