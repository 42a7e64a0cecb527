"""Exporting a fitted baseline pipeline to ONNX (skl2onnx), and feeding the result.

``ContractFeaturizer`` gets its own skl2onnx converter (``LabelEncoder`` look-up tables
from ``ai.onnx.ml`` for the encodings, plain ONNX arithmetic for the rest); the final
estimator (``LogisticRegression``, ``LinearRegression``, ``Ridge`` or
``HistGradientBoostingRegressor``) goes through skl2onnx's own converters. skl2onnx and
onnx are imported only when a model is exported.

HistGradientBoosting exports need protobuf below 7.34 (skl2onnx puts a bool into an ONNX
integer list); requirements.lock pins the version the case pages' example pins too.

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
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import is_classifier
from sklearn.pipeline import Pipeline

from grading.datasets import DatasetSpec

from .featurizer import EARTH_RADIUS_KM, KEY_BASE, ContractFeaturizer, logit

#: ONNX opsets used for export (onnxruntime 1.32 supports both comfortably).
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}


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
            outs.append(node("Sub", [lo, const_f([float(logit(p))], [1])]))
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


def _register_converter():
    global _REGISTERED
    if _REGISTERED:
        return
    from skl2onnx import update_registered_converter

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
