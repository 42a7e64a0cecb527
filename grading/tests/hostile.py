"""Builders for hostile (and a few honest) model artifacts used by test_sandbox.py.

Every builder writes into a directory the test owns (pytest's ``tmp_path``) and
returns the path. The malicious pickles only ever *create an empty marker file*
when unpickled, so a regression shows up as a file, not as damage.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
import zlib
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

# onnxruntime 1.32 accepts these; onnx's own defaults may be newer than it supports.
IR_VERSION = 10
OPSET = 21
N_FEATURES = 3
FEATURES = ("a", "b", "c")
WEIGHTS = np.array([[0.8], [-0.5], [0.3]], dtype=np.float32)


class Pwn:
    """Unpickling this creates ``marker`` (a harmless stand-in for ``os.system``)."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.marker, "w"))


def malicious_pickle(marker: Path, protocol: int = pickle.HIGHEST_PROTOCOL) -> bytes:
    return pickle.dumps(Pwn(marker), protocol=protocol)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def joblib_pickle(marker: Path, dest: Path, method: str) -> Path:
    """A joblib.dump file compressed with ``method`` (zlib, gzip, bz2, lzma, xz)."""
    import joblib

    joblib.dump(Pwn(marker), dest, compress=(method, 3))
    return dest


def zlib_pickle(marker: Path, dest: Path) -> Path:
    return write(dest, zlib.compress(malicious_pickle(marker)))


def cloudpickle_function(marker: Path, dest: Path) -> Path:
    import cloudpickle

    return write(dest, cloudpickle.dumps(lambda: Path(marker).touch()))


def skops_posix_system(dest: Path) -> Path:
    """A skops file whose schema asks for ``posix.system`` (the function object)."""
    import skops.io as sio

    return write(dest, sio.dumps(os.system))


# --- zips ------------------------------------------------------------------------------


SKOPS_LIKE_SCHEMA = (
    b'{"__class__": "dict", "__module__": "builtins", "__loader__": "DictNode", '
    b'"content": {}, "protocol": 2, "_skops_version": "0.16.0"}'
)


def zip_bomb(dest: Path, megabytes: int = 50) -> Path:
    """A skops-looking zip with ``megabytes`` of zeros deflated to a few KB each."""
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("schema.json", SKOPS_LIKE_SCHEMA)
        with zf.open("bomb.bin", "w") as entry:
            for _ in range(megabytes):
                entry.write(chunk)
    return dest


def stored_zip(dest: Path, megabytes: int) -> Path:
    """A skops-looking zip with ``megabytes`` of incompressible, uncompressed data."""
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("schema.json", SKOPS_LIKE_SCHEMA)
        zf.writestr("blob.bin", rng.bytes(megabytes * 1024 * 1024))
    return dest


def plain_zip(dest: Path) -> Path:
    with zipfile.ZipFile(dest, "w") as zf:
        zf.writestr("readme.txt", "not a model")
    return dest


def npy_file(dest: Path) -> Path:
    buffer = io.BytesIO()
    np.save(buffer, np.arange(10.0))
    return write(dest, buffer.getvalue())


def npz_file(dest: Path) -> Path:
    buffer = io.BytesIO()
    np.savez(buffer, coef=np.arange(10.0), intercept=np.zeros(1))
    return write(dest, buffer.getvalue())


# --- ONNX graphs ------------------------------------------------------------------------


def _model(
    nodes: list[onnx.NodeProto],
    inputs: list[onnx.ValueInfoProto],
    outputs: list[onnx.ValueInfoProto],
    initializers: list[TensorProto] | None = None,
    extra_opsets: list[tuple[str, int]] | None = None,
) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializers or [])
    opsets = [helper.make_opsetid("", OPSET)] + [
        helper.make_opsetid(d, v) for d, v in (extra_opsets or [])
    ]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="hostile-tests")
    model.ir_version = IR_VERSION
    return model


def save(model: onnx.ModelProto, dest: Path) -> Path:
    return write(dest, model.SerializeToString())


def _x() -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, N_FEATURES])


def _y(name: str = "Y") -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [None, 1])


def _weights(name: str = "W") -> TensorProto:
    return helper.make_tensor(name, TensorProto.FLOAT, [N_FEATURES, 1], WEIGHTS.ravel())


def _const(name: str, values: list[float]) -> TensorProto:
    return helper.make_tensor(name, TensorProto.FLOAT, [len(values)], values)


def expected_good_scores(features: np.ndarray) -> np.ndarray:
    """What ``good_onnx`` computes: sigmoid(X @ W)."""
    logits = features.astype(np.float32) @ WEIGHTS
    return (1.0 / (1.0 + np.exp(-logits.astype(np.float64)))).ravel()


def _score_nodes(out: str = "Y") -> list[onnx.NodeProto]:
    return [
        helper.make_node("MatMul", ["X", "W"], ["logits"]),
        helper.make_node("Sigmoid", ["logits"], [out]),
    ]


def good_onnx(dest: Path) -> Path:
    """A valid binary model: one float32 [N, 3] input, one [N, 1] P(y=1) output."""
    return save(_model(_score_nodes(), [_x()], [_y()], [_weights()]), dest)


def shifted_onnx(dest: Path, shift: float) -> Path:
    """sigmoid(X @ W) + shift: NaN/inf/out-of-range probabilities on demand."""
    nodes = _score_nodes("p") + [helper.make_node("Add", ["p", "shift"], ["Y"])]
    return save(_model(nodes, [_x()], [_y()], [_weights(), _const("shift", [shift])]), dest)


def wrong_rows_onnx(dest: Path, rows: int = 3) -> Path:
    """Returns only the first ``rows`` predictions, whatever N is."""
    ints = [
        helper.make_tensor(n, TensorProto.INT64, [1], [v])
        for n, v in (("starts", 0), ("ends", rows), ("axes", 0))
    ]
    nodes = _score_nodes("p") + [helper.make_node("Slice", ["p", "starts", "ends", "axes"], ["Y"])]
    return save(_model(nodes, [_x()], [_y()], [_weights(), *ints]), dest)


def wrong_input_names_onnx(dest: Path) -> Path:
    """One input per column, but named f0/f1/f2 instead of the contract's a/b/c."""
    names = ["f0", "f1", "f2"]
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [None, 1]) for n in names]
    nodes = [helper.make_node("Concat", names, ["X"], axis=1), *_score_nodes()]
    return save(_model(nodes, inputs, [_y()], [_weights()]), dest)


def external_data_onnx(dest: Path, location: str = "/etc/passwd") -> Path:
    """The weight tensor claims to live in an external file (``location``)."""
    weights = TensorProto()
    weights.name = "W"
    weights.data_type = TensorProto.FLOAT
    weights.dims.extend([N_FEATURES, 1])
    weights.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "12")):
        entry = weights.external_data.add()
        entry.key, entry.value = key, value
    return save(_model(_score_nodes(), [_x()], [_y()], [weights]), dest)


def custom_op_onnx(dest: Path, domain: str = "com.evil.ops") -> Path:
    nodes = [
        helper.make_node("MatMul", ["X", "W"], ["logits"]),
        helper.make_node("RunShell", ["logits"], ["Y"], domain=domain),
    ]
    return save(_model(nodes, [_x()], [_y()], [_weights()], [(domain, 1)]), dest)


def memory_hog_onnx(dest: Path, side: int = 100_000) -> Path:
    """ConstantOfShape to [side, side] float32 (40 GB by default), then reduced away."""
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [side, side])
    nodes = _score_nodes("p") + [
        helper.make_node(
            "ConstantOfShape",
            ["shape"],
            ["big"],
            value=helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0]),
        ),
        helper.make_node("ReduceMean", ["big"], ["m"], keepdims=0),
        helper.make_node("Mul", ["m", "zero"], ["z"]),
        helper.make_node("Add", ["p", "z"], ["Y"]),
    ]
    inits = [_weights(), shape, helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])]
    return save(_model(nodes, [_x()], [_y()], inits), dest)


def infinite_loop_onnx(dest: Path) -> Path:
    """A Loop with no trip count and a condition that stays true forever."""
    body = helper.make_graph(
        [
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
            helper.make_node("Add", ["v_in", "one"], ["v_out"]),
        ],
        "body",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [1]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [1]),
        ],
        [_const("one", [1.0])],
    )
    nodes = _score_nodes("p") + [
        helper.make_node("Loop", ["", "true", "v0"], ["v_final"], body=body),
        helper.make_node("Mul", ["v_final", "zero1"], ["z"]),
        helper.make_node("Add", ["p", "z"], ["Y"]),
    ]
    inits = [
        _weights(),
        helper.make_tensor("true", TensorProto.BOOL, [], [True]),
        _const("v0", [0.0]),
        _const("zero1", [0.0]),
    ]
    return save(_model(nodes, [_x()], [_y()], inits), dest)


def truncated(source: Path, dest: Path, fraction: float = 0.5) -> Path:
    data = source.read_bytes()
    return write(dest, data[: int(len(data) * fraction)])


def empty_nodes_onnx(dest: Path, megabytes: int = 2) -> Path:
    """``good_onnx`` plus ``megabytes`` of empty graph nodes (2 bytes each on the wire).

    onnxruntime skips such nodes, so the model would load and score; walking a million of them
    cost the worker parent 2.4 s and 355 MB before the graph checks moved into the child."""
    model = _model(_score_nodes(), [_x()], [_y()], [_weights()])
    graph = model.graph.SerializeToString() + b"\x0a\x00" * (megabytes * 1024 * 1024 // 2)
    model.ClearField("graph")
    size, length = bytearray(), len(graph)
    while True:  # the graph's length as a protobuf varint
        size.append((length & 0x7F) | (0x80 if length > 0x7F else 0))
        length >>= 7
        if not length:
            break
    # ModelProto field 7 (graph), length-delimited; fields may come in any order.
    return write(dest, model.SerializeToString() + b"\x3a" + bytes(size) + graph)


def huge_regression_onnx(dest: Path, value: float = 1e200) -> Path:
    """A regression model whose float64 output is ``value`` + (a small score): finite, but
    past any sensible bound (1e200 squared is inf, so RMSE would be infinite)."""
    nodes = _score_nodes("p") + [
        helper.make_node("Cast", ["p"], ["p64"], to=TensorProto.DOUBLE),
        helper.make_node("Add", ["p64", "huge"], ["Y"]),
    ]
    huge = helper.make_tensor("huge", TensorProto.DOUBLE, [1], [value])
    output = helper.make_tensor_value_info("Y", TensorProto.DOUBLE, [None, 1])
    return save(_model(nodes, [_x()], [output], [_weights(), huge]), dest)


# --- skops models that are valid scikit-learn, but not for us ---------------------------------


def skops_file_reader(dest: Path, planted: Path, n_features: int = N_FEATURES) -> Path:
    """A working regression pipeline that reads ``planted`` whenever it predicts.

    A constant classifier inside a VotingRegressor emits the path as the first step's output,
    ``CountVectorizer(input="filename")`` opens it, and the prediction is the number of times
    the word "pos" occurs in it. Every type in it passes skops' default trust."""
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble import VotingRegressor
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import Pipeline

    features = np.zeros((4, n_features))
    path = str(planted)
    emit = VotingRegressor([("path", DummyClassifier(strategy="constant", constant=path))])
    emit.estimators_ = [emit.estimators[0][1].fit(features, [path] * len(features))]
    # A scalar column selector hands the vectorizer a 1-D column of paths.
    read = ColumnTransformer(
        [("read", CountVectorizer(input="filename", vocabulary=["pos"]), 0)])
    counts = np.asarray(read.fit_transform(emit.transform(features)), dtype=np.float64)
    model = Pipeline([("emit", emit), ("read", read),
                      ("count", LinearRegression(fit_intercept=False).fit(counts, counts[:, 0]))])
    return write(dest, sio.dumps(model))


def skops_with_function(dest: Path, func: object, n_features: int = N_FEATURES,
                        where: str = "FunctionTransformer") -> Path:
    """A fitted regression model holding the callable ``func``: as a ``FunctionTransformer``
    step, or as ``TransformedTargetRegressor(func=..., inverse_func=...)`` (``where="target"``).
    """
    import skops.io as sio
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    rng = np.random.default_rng(0)
    features, target = rng.random((50, n_features)), rng.random(50) + 1.0
    if where == "target":
        model = TransformedTargetRegressor(LinearRegression(), func=func, inverse_func=func,
                                           check_inverse=False)
    else:
        model = make_pipeline(FunctionTransformer(func), LinearRegression())
    return write(dest, sio.dumps(model.fit(features, target)))


def stale_atime(path: Path) -> int:
    """Set ``path``'s access time well before its modification time, so that the next read
    moves it (relatime updates atime when it is older than mtime); returns the atime set."""
    info = path.stat()
    os.utime(path, ns=(info.st_mtime_ns - 10**12, info.st_mtime_ns))
    return path.stat().st_atime_ns


def reads_are_recorded(folder: Path) -> bool:
    """Whether the filesystem under ``folder`` records reads in atime (not mounted noatime)."""
    probe = write(folder / "atime-probe", b"probe")
    before = stale_atime(probe)
    probe.read_bytes()
    return probe.stat().st_atime_ns != before
