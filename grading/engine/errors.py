"""Scoring failures that can be shown to candidates.

Pure Python (no Django): the Celery task maps these onto submission rows.
Every ``message`` is written for the candidate: plain English, no stack traces,
no server paths. Operator-facing detail goes to logs, never into ``message``.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ArtifactRejected", "FailureReason", "RejectionCode", "ScoringError"]


class FailureReason(StrEnum):
    """Coarse failure category stored on the submission."""

    INVALID_ARTIFACT = "invalid_artifact"
    INVALID_OUTPUT = "invalid_output"
    RESOURCE_LIMIT = "resource_limit"
    TIMEOUT = "timeout"
    INTERNAL_ERROR = "internal_error"


class RejectionCode(StrEnum):
    """Fine-grained reason an artifact was refused (the ``code`` of ``ArtifactRejected``)."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    NOT_A_FILE = "not_a_file"
    PICKLE = "pickle"
    JOBLIB = "joblib"
    COMPRESSED = "compressed"
    NUMPY = "numpy"
    ZIP_NOT_SKOPS = "zip_not_skops"
    ZIP_BOMB = "zip_bomb"
    TRUNCATED = "truncated"
    UNKNOWN_FORMAT = "unknown_format"
    FORMAT_MISMATCH = "format_mismatch"
    CUSTOM_OPERATOR = "custom_operator"
    EXTERNAL_DATA = "external_data"
    INPUT_MISMATCH = "input_mismatch"
    OUTPUT_MISMATCH = "output_mismatch"
    INVALID_GRAPH = "invalid_graph"
    UNTRUSTED_TYPES = "untrusted_types"
    SKOPS_TYPE_REFUSED = "skops_type_refused"
    SKOPS_PARAMETER_REFUSED = "skops_parameter_refused"
    SKOPS_MODEL_INVALID = "skops_model_invalid"
    LOAD_FAILED = "load_failed"
    RUN_FAILED = "run_failed"


class ScoringError(Exception):
    """A scoring run failed for a reason we can explain to the candidate.

    ``code`` is an optional finer-grained, machine-readable detail (for example
    ``"cpu_limit"`` vs ``"wall_clock"`` for a timeout); ``message`` is shown to
    the candidate verbatim.
    """

    def __init__(self, reason: FailureReason, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.reason = FailureReason(reason)
        self.message = message
        self.code = code

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(reason={self.reason!s}, code={self.code!r}, message={self.message!r})"


class ArtifactRejected(ScoringError):
    """The uploaded file was refused before or while loading it (reason ``invalid_artifact``).

    ``ArtifactRejected(code, message)``: ``code`` is a ``RejectionCode`` saying
    *why* (pickle, zip bomb, custom operator, ...); ``reason`` is always
    ``FailureReason.INVALID_ARTIFACT``.
    """

    def __init__(self, code: RejectionCode | str, message: str) -> None:
        super().__init__(FailureReason.INVALID_ARTIFACT, message, code=str(code))
