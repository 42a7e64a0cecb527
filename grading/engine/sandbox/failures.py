"""A failed child as a typed ``ScoringError``: from the status it wrote, from the signal that
killed it, or from its stderr; child-supplied text is sanitised before a candidate sees it."""

from __future__ import annotations

import re
import signal
from typing import Any

from grading.engine.artifacts import mib_text
from grading.engine.errors import ArtifactRejected, FailureReason, RejectionCode, ScoringError
from grading.engine.sandbox.limits import SandboxLimits

# Substrings of a child's stderr or error that mean it ran out of memory.
_MEMORY_HINTS = ("bad_alloc", "memoryerror", "failed to allocate", "cannot allocate memory",
                 "unable to allocate", "memory allocation")


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


def _error_from_status(status: dict[str, Any], limits: SandboxLimits,
                       peak_bytes: int | None = None) -> ScoringError:
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
        # An allocation the child saw fail: over the address-space backstop.
        return _allocation_error(limits, peak_bytes)
    if kind == "file_too_large":
        return _file_size_error(limits)
    return _internal_error()


def _memory_error(limits: SandboxLimits, peak_bytes: int | None = None) -> ScoringError:
    """The model held more resident memory than ``limits.memory_bytes`` (``peak_bytes``: the
    most the parent measured, when it did)."""
    text = f"Your model needed more than the {mib_text(limits.memory_bytes)} memory limit"
    if peak_bytes:
        text += f": its resident memory reached {mib_text(peak_bytes)} and it was stopped"
    return ScoringError(FailureReason.RESOURCE_LIMIT, text + ".", "memory")


def _allocation_error(limits: SandboxLimits, peak_bytes: int | None) -> ScoringError:
    """An allocation failed: the model asked for more than the address-space backstop in one
    go (the backstop is several times the memory limit, so no model within the memory limit
    gets near it)."""
    held = f"; it held {mib_text(peak_bytes)} when it asked" if peak_bytes else ""
    return ScoringError(
        FailureReason.RESOURCE_LIMIT,
        "Your model tried to allocate far more memory than the "
        f"{mib_text(limits.memory_bytes)} memory limit (an allocation failed at the "
        f"sandbox's {mib_text(limits.address_space_limit)} cap on reserved memory{held}).",
        "memory",
    )


def _host_memory_error(limits: SandboxLimits, peak_bytes: int) -> ScoringError:
    # Killed by the kernel while within its limit: the host ran short of memory, which is
    # ours, so internal_error and the quota slot is given back.
    return ScoringError(
        FailureReason.INTERNAL_ERROR,
        "Scoring stopped because the server ran short of memory while running your model "
        f"(it held {mib_text(peak_bytes)}, within its {mib_text(limits.memory_bytes)} "
        "limit). This did not count against your quota; please submit it again later.",
        "host_memory",
    )


def _file_size_error(limits: SandboxLimits) -> ScoringError:
    return ScoringError(
        FailureReason.RESOURCE_LIMIT,
        f"Your model tried to write more than {mib_text(limits.max_file_bytes)} to disk.",
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
    sig: int, cpu_used: float, stderr_text: str, limits: SandboxLimits,
    peak_bytes: int | None = None,
) -> ScoringError:
    """The failure for a child ended by ``sig`` (not by our own kill, handled before).
    ``peak_bytes``: the resident memory the parent measured, None when it could not."""
    if sig == signal.SIGXCPU:
        return _timeout_error("cpu_limit", limits)
    if sig == signal.SIGKILL:
        # The kernel's hard CPU limit, or the OOM killer: the model's fault only if it held
        # more than its limit (we would have stopped it there) or we could not measure it.
        if cpu_used >= limits.cpu_seconds:
            return _timeout_error("cpu_limit", limits)
        if peak_bytes is not None and peak_bytes <= limits.memory_bytes:
            return _host_memory_error(limits, peak_bytes)
        return _memory_error(limits, peak_bytes)
    if sig == signal.SIGXFSZ:
        return _file_size_error(limits)
    if sig in (signal.SIGSEGV, signal.SIGBUS):
        # A failed allocation in C/C++ code (at the address-space cap) may end as a segfault.
        return ScoringError(
            FailureReason.RESOURCE_LIMIT,
            "The model runtime crashed while running your model, most likely because an "
            "allocation failed at the sandbox's "
            f"{mib_text(limits.address_space_limit)} cap on reserved memory.",
            "crash",
        )
    if sig == signal.SIGABRT:
        if any(h in stderr_text.lower() for h in _MEMORY_HINTS):
            return _allocation_error(limits, peak_bytes)
        return ArtifactRejected(
            RejectionCode.RUN_FAILED,
            "The model runtime aborted while loading or running your model.",
        )
    return _internal_error()
