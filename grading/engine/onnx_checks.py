"""Static checks on an ONNX model before onnxruntime ever sees it.

Everything here reads the protobuf as data. The checks walk the whole untrusted graph, so
they run inside the sandbox child (``grading.engine.sandbox.child``), under its memory, CPU
and wall-clock limits, never in the worker: a file of a million empty nodes costs seconds and
hundreds of MB to parse and walk. The worker only sniffs the file's outline
(``artifacts.sniff_bytes``). We do not call ``onnx.checker`` or shape inference: more C++ code
fed with hostile input, for checks onnxruntime makes itself when it loads the model.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError, Message

from grading.engine.artifacts import DEFAULT_LIMITS, ArtifactLimits, mib_text, read_artifact
from grading.engine.contract import InputContract, InputLayout, IOSpec, OutputPlan, select_output
from grading.engine.errors import ArtifactRejected, RejectionCode

__all__ = ["ALLOWED_DOMAINS", "OnnxPlan", "check_onnx", "inspect_onnx", "inspect_onnx_bytes"]

# The standard operator sets. Anything else (com.microsoft contrib ops, custom
# domains) could need a custom-op library or exercise less-hardened kernels.
ALLOWED_DOMAINS = frozenset({"", "ai.onnx", "ai.onnx.ml"})

_ELEM_TYPES: dict[int, str] = {
    onnx.TensorProto.FLOAT: "float32",
    onnx.TensorProto.DOUBLE: "float64",
    onnx.TensorProto.FLOAT16: "float16",
    onnx.TensorProto.INT64: "int64",
    onnx.TensorProto.INT32: "int32",
    onnx.TensorProto.STRING: "string",
    onnx.TensorProto.BOOL: "bool",
}


@dataclass(frozen=True)
class OnnxPlan:
    """What the sandbox child needs to run a checked model: input layout and score output."""

    layout: InputLayout
    output: OutputPlan


def _not_utf8() -> ArtifactRejected:
    return ArtifactRejected(
        RejectionCode.TRUNCATED,
        "Your ONNX file contains names that are not valid UTF-8 text; it is corrupted. "
        "Please export it again.",
    )


def _messages(root: Message) -> Iterator[Message]:
    """Every protobuf sub-message of ``root`` (subgraphs, functions, attributes...).

    Depth first, holding one iterator per level, so memory stays the depth of the graph,
    not its size. Raises ``ArtifactRejected`` if a string field is not valid UTF-8:
    onnx.proto is proto2, so Python protobuf hands such fields back as ``bytes``, which
    would confuse every name comparison downstream.
    """
    stack: list[Iterator[Message]] = [iter((root,))]
    while stack:
        message = next(stack[-1], None)
        if message is None:
            stack.pop()
            continue
        yield message
        singles: list[Message] = []
        for field, value in message.ListFields():
            if field.type == field.TYPE_STRING:
                values = [value] if isinstance(value, str | bytes) else value
                if any(isinstance(v, bytes) for v in values):
                    raise _not_utf8()
                continue
            if field.type != field.TYPE_MESSAGE:
                continue
            if isinstance(value, Message):
                singles.append(value)
            else:  # repeated message field (onnx.proto has no map fields)
                stack.append(iter(value))
        if singles:
            stack.append(iter(singles))


def _check_domains_and_external_data(model: onnx.ModelProto) -> None:
    custom: set[str] = set()
    for message in _messages(model):
        if isinstance(message, onnx.TensorProto):
            # An external tensor names a file path that onnxruntime would open;
            # a hostile model points it at /etc/passwd or the database.
            if message.data_location == onnx.TensorProto.EXTERNAL or len(message.external_data) > 0:
                raise ArtifactRejected(
                    RejectionCode.EXTERNAL_DATA,
                    "Your ONNX model stores weights in external files. We only accept "
                    "self-contained models: save it with all tensors inside the .onnx file "
                    "(onnx.save_model(model, path, save_as_external_data=False)).",
                )
        elif isinstance(message, onnx.NodeProto) and not message.op_type:
            # onnxruntime skips such nodes, so a file of a million of them loads: refuse it
            # as the invalid graph it is.
            raise ArtifactRejected(
                RejectionCode.INVALID_GRAPH,
                "Your ONNX graph has a node without an operator type, so it is not a valid "
                "ONNX model. Export it again (onnx.checker.check_model finds such problems).",
            )
        if (
            isinstance(message, onnx.NodeProto | onnx.FunctionProto | onnx.OperatorSetIdProto)
            and message.domain not in ALLOWED_DOMAINS
        ):
            custom.add(message.domain)
    if custom:
        shown = ", ".join(sorted(repr(d[:60]) for d in custom)[:10])
        raise ArtifactRejected(
            RejectionCode.CUSTOM_OPERATOR,
            f"Your ONNX model uses custom operator domains ({shown}). Only the standard "
            "ONNX operators (domains '', 'ai.onnx' and 'ai.onnx.ml') are allowed.",
        )


def _io_spec(value_info: onnx.ValueInfoProto) -> IOSpec:
    kind = value_info.type.WhichOneof("value")
    if kind == "tensor_type":
        tensor = value_info.type.tensor_type
        shape: tuple[int | None, ...] | None = None
        if tensor.HasField("shape"):
            shape = tuple(
                d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim
            )
        return IOSpec(value_info.name, "tensor", _ELEM_TYPES.get(tensor.elem_type, "other"), shape)
    if kind == "sequence_type":
        element = value_info.type.sequence_type.elem_type
        if element.WhichOneof("value") == "map_type":
            return IOSpec(value_info.name, "sequence_map", None, None)
    return IOSpec(value_info.name, "other", None, None)


def parse_model(data: bytes) -> onnx.ModelProto:
    """Parse ONNX bytes. Raises ``ArtifactRejected`` (code ``truncated``) if they do not parse."""
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise ArtifactRejected(
            RejectionCode.TRUNCATED,
            "This file looks like an ONNX model but it is truncated or corrupted.",
        ) from exc
    if not model.HasField("graph"):
        raise ArtifactRejected(
            RejectionCode.TRUNCATED, "This ONNX file has no graph; it is truncated or corrupted."
        )
    return model


def inspect_onnx_bytes(
    data: bytes, contract: InputContract, limits: ArtifactLimits = DEFAULT_LIMITS
) -> OnnxPlan:
    """Check ONNX bytes against the contract and return how to feed and read the model.

    Raises ``ArtifactRejected`` for: oversized files, unparsable protobuf, custom
    operator domains, external data, inputs that match neither accepted layout,
    and outputs with no recognisable score.
    """
    if len(data) > limits.max_file_bytes:
        raise ArtifactRejected(
            RejectionCode.TOO_LARGE,
            f"The ONNX model is larger than the {mib_text(limits.max_file_bytes)} limit.",
        )
    model = parse_model(data)
    _check_domains_and_external_data(model)
    graph = model.graph
    # Old exporters list initializers as graph inputs too; those are weights, not features.
    initializers = {t.name for t in graph.initializer} | {
        s.values.name for s in graph.sparse_initializer
    }
    inputs = [_io_spec(v) for v in graph.input if v.name not in initializers]
    layout = contract.match_inputs(inputs)
    output = select_output([_io_spec(v) for v in graph.output], contract.task_type)
    return OnnxPlan(layout=layout, output=output)


def inspect_onnx(
    path: str | os.PathLike[str],
    contract: InputContract,
    limits: ArtifactLimits = DEFAULT_LIMITS,
) -> OnnxPlan:
    """``inspect_onnx_bytes`` for a file. Raises ``ArtifactRejected``."""
    return inspect_onnx_bytes(read_artifact(Path(path), limits), contract, limits)


def check_onnx(
    path: str | os.PathLike[str],
    contract: InputContract,
    limits: ArtifactLimits = DEFAULT_LIMITS,
) -> None:
    """Validate an ONNX file against ``contract``; return nothing or raise ``ArtifactRejected``.

    Refuses: files over the size limit, custom operator domains, external data,
    inputs matching neither layout, outputs without a usable score.
    """
    inspect_onnx(path, contract, limits)
