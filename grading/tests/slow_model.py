"""A valid but slow ONNX model for fault and serving tests: it burns CPU in proportion to the
number of rows, so a batch takes seconds while a single request stays fast, plus, if asked,
a fixed amount per call, so every request is slow too (a model over its latency budget)."""

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def slow_regression_onnx(dest: Path, *, n_features: int, work_per_row: int = 1,
                         side: int = 160, work_per_call: int = 0) -> Path:
    """float input ``input`` [N, n_features] -> ``variable`` [N, 1] = row sums, after
    ``N * work_per_row + work_per_call`` multiplications of a ``side`` x ``side`` matrix."""
    eye = numpy_helper.from_array(np.eye(side, dtype=np.float32), "W")
    start = numpy_helper.from_array(np.eye(side, dtype=np.float32), "A0")
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("MatMul", ["A_in", "W"], ["A_out"])],
        "burn",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("A_in", TensorProto.FLOAT, [side, side])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("A_out", TensorProto.FLOAT, [side, side])],
        [eye],
    )
    nodes = [
        helper.make_node("Shape", ["input"], ["shape"]),
        helper.make_node("Gather", ["shape", "zero"], ["rows"], axis=0),
        helper.make_node("Mul", ["rows", "work"], ["row_trips"]),
        helper.make_node("Add", ["row_trips", "per_call"], ["trips"]),
        helper.make_node("Loop", ["trips", "true", "A0"], ["A_final"], body=body),
        helper.make_node("ReduceSum", ["A_final"], ["burned"], keepdims=0),
        helper.make_node("Mul", ["burned", "nothing"], ["zero_float"]),
        helper.make_node("ReduceSum", ["input", "axis1"], ["row_sums"], keepdims=1),
        helper.make_node("Add", ["row_sums", "zero_float"], ["variable"]),
    ]
    graph = helper.make_graph(
        nodes, "slow",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, [None, 1])],
        [start,
         numpy_helper.from_array(np.array(0, dtype=np.int64), "zero"),
         numpy_helper.from_array(np.array(work_per_row, dtype=np.int64), "work"),
         numpy_helper.from_array(np.array(work_per_call, dtype=np.int64), "per_call"),
         numpy_helper.from_array(np.array(True), "true"),
         numpy_helper.from_array(np.array(0.0, dtype=np.float32), "nothing"),
         numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    dest.write_bytes(model.SerializeToString())
    return dest
