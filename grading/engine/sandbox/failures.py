"""A failed child as a typed ``ScoringError``: from the status it wrote, from the signal that
killed it, or from its stderr; child-supplied text is sanitised before a candidate sees it."""

from __future__ import annotations

import re
import signal
from typing import Any

from grading.engine.errors import ArtifactRejected, FailureReason, RejectionCode, ScoringError
from grading.engine.sandbox.limits import MiB, SandboxLimits

# Substrings of a child's stderr or error that mean it ran out of memory.
_MEMORY_HINTS = ("bad_alloc", "memoryerror", "failed to allocate", "cannot allocate memory")


_PATH_RE = re.compile(r"(?<![\w.])/[^\s'\"():,]+")
# onnxruntime prefixes errors with "[ONNXRuntimeError] : 1 : FAIL : " and often with the
# C++ source location and function signature; neither helps a candidate.
_ORT_PREFIX_RE = re.compile(r"\[ONNXRuntimeError\] : \d+ : \w+ : ")
_CPP_LOCATION_RE = re.compile(r"<path>:\d+ [^()]*\([^)]*\)(?: const)? ?")


def _sanitize(text: Any, limit: int = 300) -> str:
    """Child-supplied text for a candidate message: no paths, one line, bounded."""
    cleaned = _PATH_RE.sub("<path>", str(text))
    cleaned = _CPP_LOCATION_RE.sub("", _ORT_PREFIX_RE.sub("", cleaned))
    cleaned = " ".join(cleaned.split())
    return cleaned[:limit] + ("..." if len(cleaned) > limit else "")


_TREE_HINT = (
    "Tree-based models (DecisionTree, RandomForest, GradientBoosting, HistGradientBoosting, "
    "...) need tree types that skops does not trust by default: export tree models to ONNX "
    "with skl2onnx instead."
)
_TREE_TYPE_MARKERS = ("sklearn.tree.", "_hist_gradient_boosting", "sklearn.ensemble.")


def _untrusted_message(types: Any) -> str:
    names = [_sanitize(t, 120) for t in types][:10] if isinstance(types, list) else []
    listed = ", ".join(names) if names else "unknown types"
    if any(marker in name for name in names for marker in _TREE_TYPE_MARKERS):
        hint = _TREE_HINT
    else:
        hint = "Save a plain scikit-learn model, or export it to ONNX with skl2onnx."
    return (
        f"Your skops file contains types we do not trust: {listed}. We load skops files with "
        f"skops' default trust only and never trust extra types. {hint}"
    )


def _error_from_status(status: dict[str, Any], limits: SandboxLimits) -> ScoringError:
    kind = status.get("kind")
    detail = _sanitize(status.get("message", ""))
    if kind == "untrusted_types":
        return ArtifactRejected(
            RejectionCode.UNTRUSTED_TYPES, _untrusted_message(status.get("untrusted_types"))
        )
    if kind == "load_failed":
        return ArtifactRejected(
            RejectionCode.LOAD_FAILED, f"We could not load your model: {detail}"
        )
    if kind in ("input_mismatch", "output_mismatch"):
        return ArtifactRejected(
            RejectionCode(kind), f"Your model does not fit this task's contract: {detail}"
        )
    if kind == "run_failed":
        return ArtifactRejected(
            RejectionCode.RUN_FAILED, f"Your model failed while predicting: {detail}"
        )
    if kind == "bad_output":
        return ScoringError(
            FailureReason.INVALID_OUTPUT, f"Your model's output is not usable: {detail}", "dtype"
        )
    if kind == "memory":
        return _memory_error(limits)
    if kind == "file_too_large":
        return _file_size_error(limits)
    return _internal_error()


def _memory_error(limits: SandboxLimits) -> ScoringError:
    return ScoringError(
        FailureReason.RESOURCE_LIMIT,
        f"Your model needed more than the {limits.memory_bytes // MiB} MB memory limit.",
        "memory",
    )


def _file_size_error(limits: SandboxLimits) -> ScoringError:
    return ScoringError(
        FailureReason.RESOURCE_LIMIT,
        f"Your model tried to write more than {limits.max_file_bytes // MiB} MB to disk.",
        "file_size",
    )


def _internal_error() -> ScoringError:
    return ScoringError(
        FailureReason.INTERNAL_ERROR,
        "Scoring failed because of a problem on our side. Please try again later.",
        "internal",
    )


def _timeout_error(code: str, limits: SandboxLimits) -> ScoringError:
    if code == "cpu_limit":
        text = f"Your model used more than the {limits.cpu_seconds} s CPU time limit."
    else:
        text = f"Your model did not finish within the {limits.wall_clock_seconds:g} s time limit."
    return ScoringError(FailureReason.TIMEOUT, text, code)


def _error_from_signal(
    sig: int, cpu_used: float, stderr_text: str, limits: SandboxLimits
) -> ScoringError:
    if sig == signal.SIGXCPU:
        return _timeout_error("cpu_limit", limits)
    if sig == signal.SIGKILL:
        # Not our kill (that is handled before): the kernel's hard CPU limit or the OOM killer.
        if cpu_used >= limits.cpu_seconds:
            return _timeout_error("cpu_limit", limits)
        return _memory_error(limits)
    if sig == signal.SIGXFSZ:
        return _file_size_error(limits)
    if sig in (signal.SIGSEGV, signal.SIGBUS):
        # Under RLIMIT_AS a failed allocation in C/C++ code often ends as a segfault.
        return ScoringError(
            FailureReason.RESOURCE_LIMIT,
            "The model runtime crashed while running your model, most likely because it "
            f"exceeded the {limits.memory_bytes // MiB} MB memory limit.",
            "crash",
        )
    if sig == signal.SIGABRT:
        if any(h in stderr_text.lower() for h in _MEMORY_HINTS):
            return _memory_error(limits)
        return ArtifactRejected(
            RejectionCode.RUN_FAILED,
            "The model runtime aborted while loading or running your model.",
        )
    return _internal_error()
