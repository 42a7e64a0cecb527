"""The input/output contract between a task's held-out data and a candidate's model.

Imported by both the grading worker and the sandbox child, so it must stay
light: stdlib + numpy only (pandas DataFrames are accepted by duck typing,
never imported here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from grading.engine.errors import ArtifactRejected, FailureReason, RejectionCode, ScoringError

__all__ = [
    "FEATURE_DTYPES",
    "PROBABILITY_SLACK",
    "REGRESSION_OUTPUT_BOUND",
    "TASK_TYPES",
    "IOSpec",
    "InputContract",
    "InputLayout",
    "OutputPlan",
    "contract_validate_predictions",
    "select_output",
    "slice_feeds",
]

FEATURE_DTYPES = frozenset({"float32", "int64", "string"})
TASK_TYPES = frozenset({"binary", "ranking", "regression"})
NUMERIC_DTYPES = frozenset({"float32", "int64"})
# Probabilities a hair outside [0, 1] are float rounding, not a broken model.
PROBABILITY_SLACK = 1e-6
#: Regression predictions must lie in [-REGRESSION_OUTPUT_BOUND, REGRESSION_OUTPUT_BOUND]. No
#: target we score comes near it (delivery minutes are in the tens), and below it every metric,
#: interval and plot stays finite: a squared error of (2e9)^2 summed over a billion rows is
#: ~4e27, far from float64's 1.8e308. Above it (1e200 squares to inf) RMSE would not be finite.
REGRESSION_OUTPUT_BOUND = 1e9

# Input element types we accept per contract dtype, for layout (b).
_PER_COLUMN_INPUT_TYPES: dict[str, frozenset[str]] = {
    "float32": frozenset({"float32", "float64"}),
    "int64": frozenset({"int64"}),
    "string": frozenset({"string"}),
}
_FLOAT_TYPES = frozenset({"float32", "float64", "float16"})
# skl2onnx's names for a classifier's probability output (zipmap off / on).
_PROBABILITY_NAMES = ("probabilities", "output_probability")
_MAX_NAMES_IN_MESSAGE = 20


class _ColumnSource(Protocol):
    """Anything indexable by column name: a pandas DataFrame or a dict of arrays."""

    def __getitem__(self, key: str, /) -> Any: ...


@dataclass(frozen=True)
class IOSpec:
    """A model input or output as declared in the graph, independent of onnx/onnxruntime.

    ``kind`` is ``"tensor"``, ``"sequence_map"`` (skl2onnx ZipMap output) or
    ``"other"``; ``elem_type`` is a numpy-ish name (``"float32"``, ``"int64"``,
    ``"string"``, ...) or ``None``; ``shape`` is ``None`` when undeclared, else
    one entry per dimension (``None`` for a symbolic/unknown dimension).
    """

    name: str
    kind: str
    elem_type: str | None
    shape: tuple[int | None, ...] | None


@dataclass(frozen=True)
class InputLayout:
    """How the feature columns map onto a model's inputs.

    ``kind == "single_tensor"``: ``inputs`` holds one ``(input_name, "float32")``
    and the columns are stacked in contract order. ``kind == "per_column"``:
    one ``(column_name, dtype)`` per contract column, each fed as ``[N, 1]``.
    """

    kind: str
    inputs: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "inputs": [list(i) for i in self.inputs]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InputLayout:
        inputs = tuple((str(n), str(t)) for n, t in data["inputs"])
        return cls(kind=str(data["kind"]), inputs=inputs)


@dataclass(frozen=True)
class OutputPlan:
    """Which model output holds the score. ``kind`` is ``"tensor"`` or ``"zipmap"``."""

    name: str
    kind: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OutputPlan:
        return cls(name=str(data["name"]), kind=str(data["kind"]))


def _names(names: Sequence[str]) -> str:
    """Render attacker-controlled names for a message: capped count and length."""
    shown = [repr(n[:60]) for n in names[:_MAX_NAMES_IN_MESSAGE]]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _shape_str(shape: tuple[int | None, ...] | None) -> str:
    if shape is None:
        return "unknown shape"
    return "[" + ", ".join("N" if d is None else str(d) for d in shape) + "]"


@dataclass(frozen=True)
class InputContract:
    """Feature columns (in order) and task type that a submitted model must accept.

    ``columns``: ``(name, dtype)`` pairs with dtype in ``{"float32", "int64", "string"}``;
    ``task_type``: ``"binary"``, ``"ranking"`` or ``"regression"``.
    Raises ``ValueError`` on construction if either is malformed.
    """

    columns: tuple[tuple[str, str], ...]
    task_type: str

    def __post_init__(self) -> None:
        # Normalise lists (e.g. from JSON) to tuples so the dataclass stays hashable.
        object.__setattr__(self, "columns", tuple((str(n), str(t)) for n, t in self.columns))
        if not self.columns:
            raise ValueError("an input contract needs at least one column")
        names = [n for n, _ in self.columns]
        if len(set(names)) != len(names):
            raise ValueError("column names must be unique")
        bad = [t for _, t in self.columns if t not in FEATURE_DTYPES]
        if bad:
            raise ValueError(f"unsupported column dtypes: {bad}")
        if self.task_type not in TASK_TYPES:
            raise ValueError(f"unsupported task type: {self.task_type!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.columns)

    @property
    def all_numeric(self) -> bool:
        return all(t in NUMERIC_DTYPES for _, t in self.columns)

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [list(c) for c in self.columns], "task_type": self.task_type}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InputContract:
        return cls(columns=tuple(tuple(c) for c in data["columns"]), task_type=data["task_type"])

    def _expected_inputs_text(self) -> str:
        per_col = ", ".join(f"{n!r} ({t}, shape [N, 1])" for n, t in self.columns[:20])
        text = f"one input per column: {per_col}"
        if self.all_numeric:
            text = (
                f"either a single float32 input of shape [N, {len(self.columns)}] "
                f"with the columns in order {list(self.names)[:20]}, or {text}"
            )
        return text

    def match_inputs(self, inputs: Sequence[IOSpec]) -> InputLayout:
        """Decide which accepted layout a model's (non-initializer) inputs follow.

        Raises ``ArtifactRejected`` (code ``input_mismatch``) when they follow neither.
        """
        names = self.names

        def reject(problem: str) -> ArtifactRejected:
            return ArtifactRejected(
                RejectionCode.INPUT_MISMATCH,
                f"Your model's inputs do not match this task: {problem}. "
                f"This task expects {self._expected_inputs_text()}.",
            )

        if not inputs:
            raise reject("the model declares no inputs")
        for spec in inputs:
            if spec.kind != "tensor":
                raise reject(f"input {spec.name[:60]!r} is not a tensor")
            # The batch dimension must be free: we score every held-out row in one call.
            if spec.shape and spec.shape[0] is not None:
                raise reject(
                    f"input {spec.name[:60]!r} has a fixed first dimension ({spec.shape[0]}); "
                    "declare it as None so any number of rows can be scored"
                )

        # One input named after a column, shaped [N, 1], is layout (b) with (maybe) missing
        # columns; any other lone input is layout (a).
        lone = inputs[0] if len(inputs) == 1 else None
        single_candidate = lone is not None and not (
            lone.name in names
            and (len(names) == 1 or (lone.shape is not None and lone.shape[1:] == (1,)))
        )
        if single_candidate:
            spec = inputs[0]
            if not self.all_numeric:
                raise reject(
                    f"it has a single input {spec.name[:60]!r}, but this task has string "
                    "columns, so it needs one input per column"
                )
            if spec.elem_type != "float32":
                raise reject(
                    f"the single input {spec.name[:60]!r} is {spec.elem_type}, not float32"
                )
            if spec.shape is not None and (
                len(spec.shape) != 2 or spec.shape[1] not in (None, len(names))
            ):
                raise reject(
                    f"the single input {spec.name[:60]!r} has shape {_shape_str(spec.shape)}, "
                    f"not [N, {len(names)}]"
                )
            return InputLayout(kind="single_tensor", inputs=((spec.name, "float32"),))

        by_name = {s.name: s for s in inputs}
        missing = [n for n in names if n not in by_name]
        extra = [s.name for s in inputs if s.name not in names]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing inputs {_names(missing)}")
            if extra:
                parts.append(f"unexpected inputs {_names(extra)}")
            raise reject("; ".join(parts))
        layout: list[tuple[str, str]] = []
        for name, dtype in self.columns:
            spec = by_name[name]
            if spec.elem_type not in _PER_COLUMN_INPUT_TYPES[dtype]:
                raise reject(
                    f"input {name!r} is {spec.elem_type}, expected "
                    f"{' or '.join(sorted(_PER_COLUMN_INPUT_TYPES[dtype]))}"
                )
            if spec.shape is not None and (len(spec.shape) != 2 or spec.shape[1] not in (None, 1)):
                raise reject(f"input {name!r} has shape {_shape_str(spec.shape)}, not [N, 1]")
            layout.append((name, str(spec.elem_type)))
        return InputLayout(kind="per_column", inputs=tuple(layout))

    def feeds(self, frame: _ColumnSource, layout: InputLayout, *, strings_ready: bool = False
              ) -> dict[str, np.ndarray]:
        """Build the onnxruntime input dict from ``frame`` (DataFrame or name -> array mapping).

        ``strings_ready``: string columns given as object arrays already hold ``str`` only
        (the sandbox child decodes them so), so they are used as they are.
        Raises ``KeyError`` if a contract column is missing from ``frame``.
        """
        if layout.kind == "single_tensor":
            ((input_name, _),) = layout.inputs
            matrix = np.column_stack(
                [np.asarray(frame[name], dtype=np.float32).reshape(-1) for name in self.names]
            )
            return {input_name: np.ascontiguousarray(matrix, dtype=np.float32)}
        if layout.kind != "per_column":
            raise ValueError(f"unknown input layout {layout.kind!r}")
        feeds: dict[str, np.ndarray] = {}
        for name, input_type in layout.inputs:
            column = np.asarray(frame[name]).reshape(-1, 1)
            if input_type == "string":
                # onnxruntime wants Python str objects for string tensors.
                ready = strings_ready and column.dtype == object
                feeds[name] = column if ready else column.astype(str).astype(object)
            else:
                feeds[name] = np.ascontiguousarray(column, dtype=np.dtype(input_type))
        return feeds

    def validate_predictions(self, raw: np.ndarray, n_rows: int) -> np.ndarray:
        """Shortcut for ``contract_validate_predictions(raw, n_rows, self.task_type)``."""
        return contract_validate_predictions(raw, n_rows, self.task_type)


def slice_feeds(feeds: Mapping[str, np.ndarray], n_rows: int) -> dict[str, np.ndarray]:
    """The first ``n_rows`` rows of every input (one user's request in the latency benchmark)."""
    return {name: value[:n_rows] for name, value in feeds.items()}


def select_output(outputs: Sequence[IOSpec], task_type: str) -> OutputPlan:
    """Pick the model output that carries the score for ``task_type``.

    Binary: a probability output (float ``[N, 2]`` or a ZipMap sequence of maps),
    else a single float output ``[N]``/``[N, 1]`` read as P(y=1).
    Regression/ranking: exactly one float output ``[N]``/``[N, 1]``.
    Raises ``ArtifactRejected`` (code ``output_mismatch``) otherwise.
    """
    found = (
        ", ".join(
            f"{o.name[:60]!r} ({o.elem_type or o.kind}, {_shape_str(o.shape)})"
            for o in outputs[:20]
        )
        or "none"
    )

    def is_float_tensor(o: IOSpec) -> bool:
        return o.kind == "tensor" and o.elem_type in _FLOAT_TYPES

    def is_column(o: IOSpec) -> bool:
        return is_float_tensor(o) and (
            o.shape is None or len(o.shape) == 1 or (len(o.shape) == 2 and o.shape[1] in (None, 1))
        )

    if task_type == "binary":
        proba = [o for o in outputs if o.kind == "sequence_map"] + [
            o
            for o in outputs
            if is_float_tensor(o) and o.shape is not None and len(o.shape) == 2 and o.shape[1] == 2
        ]
        if len(proba) > 1:
            named = [o for o in proba if o.name in _PROBABILITY_NAMES]
            proba = named[:1] if len(named) == 1 else proba
        if len(proba) == 1:
            chosen = proba[0]
            return OutputPlan(chosen.name, "zipmap" if chosen.kind == "sequence_map" else "tensor")
        if not proba:
            columns = [o for o in outputs if is_column(o)]
            if len(columns) == 1:
                return OutputPlan(columns[0].name, "tensor")
        raise ArtifactRejected(
            RejectionCode.OUTPUT_MISMATCH,
            "We could not find the probability output of your binary classifier. Expected "
            "one output of probabilities (float [N, 2], as skl2onnx produces, optionally with "
            "zipmap) or one float output [N] / [N, 1] holding P(y=1). "
            f"Your model's outputs: {found}.",
        )
    columns = [o for o in outputs if is_column(o)]
    if len(columns) == 1:
        return OutputPlan(columns[0].name, "tensor")
    raise ArtifactRejected(
        RejectionCode.OUTPUT_MISMATCH,
        f"A {task_type} model must have exactly one float output of shape [N] or [N, 1]. "
        f"Your model's outputs: {found}.",
    )


def _invalid_output(message: str, code: str) -> ScoringError:
    return ScoringError(FailureReason.INVALID_OUTPUT, message, code=code)


def contract_validate_predictions(raw: np.ndarray, n_rows: int, task_type: str) -> np.ndarray:
    """Turn a model's raw output into a float64 score vector of length ``n_rows``.

    Binary outputs may be ``[N]``, ``[N, 1]`` (P(y=1)) or ``[N, 2]`` (column 1 is
    P(y=1)); probabilities within ``PROBABILITY_SLACK`` of [0, 1] are clipped.
    Raises ``ScoringError`` with reason ``invalid_output`` for a non-numeric dtype,
    wrong shape, wrong row count, NaN/inf, probabilities outside [0, 1], or regression
    values beyond ``REGRESSION_OUTPUT_BOUND``.
    """
    if not isinstance(raw, np.ndarray) or raw.dtype.kind not in "biuf":
        raise _invalid_output("Your model's predictions are not numbers.", "dtype")
    if raw.ndim == 2 and raw.shape[1] == 1:
        scores = raw[:, 0]
    elif raw.ndim == 2 and raw.shape[1] == 2 and task_type == "binary":
        scores = raw[:, 1]
    elif raw.ndim == 1:
        scores = raw
    else:
        expected = "[N], [N, 1] or [N, 2]" if task_type == "binary" else "[N] or [N, 1]"
        raise _invalid_output(
            f"Your model's predictions have shape {list(raw.shape)}; expected {expected}.",
            "shape",
        )
    if scores.shape[0] != n_rows:
        raise _invalid_output(
            f"Your model returned {scores.shape[0]} predictions for {n_rows} input rows.",
            "row_count",
        )
    scores = scores.astype(np.float64)
    bad = ~np.isfinite(scores)
    if bad.any():
        n_nan = int(np.isnan(scores).sum())
        n_inf = int(bad.sum()) - n_nan
        raise _invalid_output(
            f"Your model's predictions contain {n_nan} NaN and {n_inf} infinite values "
            f"out of {n_rows}; every prediction must be a finite number.",
            "non_finite",
        )
    if task_type == "binary":
        low = float(scores.min()) if scores.size else 0.0
        high = float(scores.max()) if scores.size else 0.0
        if low < -PROBABILITY_SLACK or high > 1.0 + PROBABILITY_SLACK:
            raise _invalid_output(
                "A binary classifier must output probabilities between 0 and 1; your model's "
                f"outputs range from {low:.6g} to {high:.6g}. Export predict_proba, not "
                "decision_function or raw scores.",
                "probability_range",
            )
        scores = np.clip(scores, 0.0, 1.0)
    elif task_type == "regression":
        outside = int((np.abs(scores) > REGRESSION_OUTPUT_BOUND).sum())
        if outside:
            raise _invalid_output(
                f"A regression model must predict values between {-REGRESSION_OUTPUT_BOUND:g} "
                f"and {REGRESSION_OUTPUT_BOUND:g}; {outside} of your model's {n_rows} "
                f"predictions are outside that range (they range from {scores.min():.6g} to "
                f"{scores.max():.6g}).",
                "out_of_range",
            )
    return np.ascontiguousarray(scores)
