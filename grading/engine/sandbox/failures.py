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


def _error_from_status(status: dict[str, Any], limits: SandboxLimits) -> ScoringError:
    kind = status.get("kind")
    detail = _sanitize(status.get("message", ""))
    code = status.get("code")
    if kind == "rejected" and isinstance(code, str) and code in RejectionCode:
        # The child's static checks (ONNX graph, skops allow-list) refused the file; their
        # messages are ours, with capped attacker-chosen names, so keep them whole.
        return ArtifactRejected(RejectionCode(code), _sanitize(status.get("message", ""), 2000))
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


def _sandbox_unavailable_error() -> ScoringError:
    # Ours, so internal_error: the submission fails without using the candidate's quota.
    return ScoringError(
        FailureReason.INTERNAL_ERROR,
        "Scoring is paused: the server cannot isolate models safely right now. This "
        "submission did not count against your quota; please submit it again later.",
        "sandbox_unavailable",
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
