"""Run a candidate's model in a locked-down child process and return its predictions.

Layers, outermost first:

* static validation in this process (``artifacts.sniff_bytes``, ``onnx_checks``);
  the *validated bytes* are what the child gets, so the upload cannot be swapped
  between check and load;
* a child ``python -I`` with an empty environment (no DATABASE_URL, SECRET_KEY...),
  no inherited file descriptors, a fresh private temp dir as cwd holding only the
  model and the feature matrix (never labels), its own session/process group;
* in the child before exec: a private network namespace (no interfaces but a
  down loopback) when we can create one, rlimits on memory, CPU, file size, open
  files, core dumps, then ``no_new_privs`` and -- when we are root -- an empty
  capability bounding set, so the child cannot raise its own rlimits back;
  optionally a switch to an unprivileged uid (``SandboxLimits.run_as_uid``);
* a wall-clock timeout after which the whole process group is SIGKILLed;
* everything the child writes back (status JSON, predictions .npy) is treated as
  untrusted data: size-capped, no symlinks, ``allow_pickle=False``, validated.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import io
import json
import logging
import math
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from grading.engine.artifacts import ArtifactFormat, ArtifactLimits, read_artifact, sniff_bytes
from grading.engine.contract import InputContract, contract_validate_predictions
from grading.engine.errors import ArtifactRejected, FailureReason, RejectionCode, ScoringError
from grading.engine.onnx_checks import inspect_onnx_bytes

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SandboxLimits",
    "SandboxResult",
    "network_isolation_available",
    "run_in_sandbox",
]

logger = logging.getLogger("grading.engine.sandbox")

MiB = 1024 * 1024
REPO_ROOT = Path(__file__).resolve().parents[2]

# -I ignores PYTHONPATH and keeps the cwd off sys.path, so "-m grading.engine.sandbox_child"
# could not find the package. This bootstrap puts the repo root on sys.path first.
_BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from grading.engine.sandbox_child import exit_now, main; exit_now(main(sys.argv[2:]))"
)

# Linux prctl options (see <linux/prctl.h>).
_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_PDEATHSIG = 1

_MEMORY_HINTS = ("bad_alloc", "memoryerror", "failed to allocate", "cannot allocate memory")


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits and knobs for one sandboxed run."""

    memory_bytes: int = 1536 * MiB  # RLIMIT_AS (address space, so it covers threads' stacks)
    cpu_seconds: int = 60  # RLIMIT_CPU soft limit -> SIGXCPU
    wall_clock_seconds: float = 120.0  # parent kills the process group after this
    max_file_bytes: int = 64 * MiB  # RLIMIT_FSIZE -> EFBIG / SIGXFSZ
    max_open_files: int = 64  # RLIMIT_NOFILE
    # RLIMIT_NPROC counts *every* process of the uid, so it is only set when the
    # child runs as a dedicated uid (run_as_uid); for root the kernel ignores it.
    max_processes: int = 64
    latency_repeats: int = 50
    request_rows: int = 100  # rows in one simulated user request for the latency benchmark
    stderr_cap_bytes: int = 64 * 1024
    isolate_network: bool = True
    require_network_isolation: bool = False  # refuse to run if no network namespace
    run_as_uid: int | None = None  # needs an interpreter and repo readable by that uid
    run_as_gid: int | None = None
    artifact: ArtifactLimits = field(default_factory=ArtifactLimits)

    def __post_init__(self) -> None:
        if self.latency_repeats < 1 or self.request_rows < 1:
            raise ValueError("latency_repeats and request_rows must be at least 1")
        if self.wall_clock_seconds <= 0 or self.cpu_seconds < 1:
            raise ValueError("time limits must be positive")


@dataclass(frozen=True)
class SandboxResult:
    """Validated predictions (float64, one per row; P(y=1) for binary) and latency."""

    predictions: np.ndarray
    latency_p50_ms: float
    latency_p99_ms: float
    isolated_network: bool


# --- isolation primitives ---------------------------------------------------------------


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


@functools.cache
def _cap_last_cap() -> int:
    try:
        return int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        return 40


def _prctl(option: int, arg: int) -> None:
    if _libc().prctl(option, arg, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def _drop_capabilities() -> None:
    """Empty the bounding set so the exec'd interpreter gets no capabilities (even as root)."""
    for cap in range(_cap_last_cap() + 1):
        _prctl(_PR_CAPBSET_DROP, cap)


def _make_preexec(limits: SandboxLimits, isolate_net: bool, drop_caps: bool) -> Callable[[], None]:
    """Build the function run in the forked child just before exec.

    Runs after fork, so it only calls things already imported/loaded here
    (no imports: the import lock may be held by another thread at fork time).
    """
    libc = _libc()  # resolve in the parent
    last_cap = _cap_last_cap()
    uid, gid = limits.run_as_uid, limits.run_as_gid

    def set_limit(which: int, soft: int, hard: int | None = None) -> None:
        resource.setrlimit(which, (soft, soft if hard is None else hard))

    def preexec() -> None:
        # Network namespace first: creating it needs CAP_SYS_ADMIN, dropped below.
        if isolate_net:
            os.unshare(os.CLONE_NEWNET)
        set_limit(resource.RLIMIT_AS, limits.memory_bytes)
        # Soft limit -> SIGXCPU; the hard limit a bit later -> SIGKILL if SIGXCPU is ignored.
        set_limit(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 2)
        set_limit(resource.RLIMIT_FSIZE, limits.max_file_bytes)
        set_limit(resource.RLIMIT_NOFILE, limits.max_open_files)
        set_limit(resource.RLIMIT_CORE, 0)  # no core dumps of a process holding test data
        if uid is not None:
            set_limit(resource.RLIMIT_NPROC, limits.max_processes)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if drop_caps:
            for cap in range(last_cap + 1):
                if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                    raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")
        if uid is not None:
            os.setgroups([])
            os.setgid(gid if gid is not None else uid)
            os.setuid(uid)
        # Die with the worker: a worker killed mid-job must not leave its model running.
        # Set last, since a change of credentials clears it.
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")

    return preexec


def _probe(action: Callable[[], None]) -> bool:
    """Does ``action`` succeed in a forked child before exec? (Tried once per process.)"""
    try:
        result = subprocess.run(
            [sys.executable, "-I", "-c", "pass"],
            preexec_fn=action,
            env={"PATH": "/usr/bin:/bin"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0


@functools.cache
def network_isolation_available() -> bool:
    """Can we give the child its own empty network namespace (needs root or CAP_SYS_ADMIN)?"""
    available = hasattr(os, "unshare") and _probe(lambda: os.unshare(os.CLONE_NEWNET))
    logger.info("sandbox network isolation %s", "available" if available else "UNAVAILABLE")
    return available


@functools.cache
def _capability_drop_available() -> bool:
    if os.geteuid() != 0:
        return False  # nothing to drop that matters for rlimits
    _libc()
    _cap_last_cap()
    return _probe(_drop_capabilities)


# --- talking to the child ------------------------------------------------------------------


def _read_child_file(path: Path, max_bytes: int) -> bytes | None:
    """Read a file the child wrote: no symlinks, regular file, at most ``max_bytes``."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        return handle.read(max_bytes + 1)[:max_bytes]


def _read_status(job_dir: Path) -> dict[str, Any] | None:
    data = _read_child_file(job_dir / "status.json", 256 * 1024)
    if data is None:
        return None
    try:
        status = json.loads(data)
    except ValueError:
        return None
    return status if isinstance(status, dict) else None


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


def _tail(handle: Any, cap: int) -> str:
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(max(0, size - cap))
    return handle.read(cap).decode("utf-8", "replace")


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


# --- features --------------------------------------------------------------------------------


def _load_feature_frame(features: str | os.PathLike[str] | pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    if isinstance(features, pd.DataFrame):
        return features
    path = Path(features)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            return pd.DataFrame({k: archive[k] for k in archive.files})
    raise ValueError(f"unsupported features file type: {suffix!r}")


def _write_features(
    features: str | os.PathLike[str] | pd.DataFrame, contract: InputContract, dest: Path
) -> int:
    """Write only the contract's columns (so never a label column) into the folder ``dest``,
    one pickle-free .npy file per column: writing and reading them is several times faster
    than a .npz archive."""
    frame = _load_feature_frame(features)
    missing = [n for n in contract.names if n not in frame.columns]
    if missing:
        raise ValueError(f"features are missing contract columns {missing}")
    import pandas as pd

    dest.mkdir()
    arrays: dict[str, np.ndarray] = {}
    for i, (name, dtype) in enumerate(contract.columns):
        column = frame[name]
        if dtype == "string":
            # Dictionary-encoded: each distinct value once, and an int32 code per row. A
            # fixed-width unicode column is 4 bytes per character per row to write and read,
            # and the child would then make one Python string per row for onnxruntime.
            codes, values = pd.factorize(column, use_na_sentinel=False)
            arrays[f"c{i}"] = codes.astype(np.int32)
            arrays[f"c{i}_values"] = np.asarray(values.astype(str), dtype=np.str_)
        else:
            arrays[f"c{i}"] = column.to_numpy(dtype=np.dtype(dtype))
    for key, array in arrays.items():  # fixed-width dtypes only: loadable without pickle
        np.save(dest / f"{key}.npy", array, allow_pickle=False)
    return len(frame)


# --- the run ---------------------------------------------------------------------------------


def _wait(proc: subprocess.Popen[bytes], deadline: float) -> tuple[bool, int, float]:
    """Wait for the child until ``deadline``; kill its process group on timeout.

    Returns ``(timed_out, wait_status, cpu_seconds_used)``. The group is SIGKILLed
    while the child is still an unreaped zombie, so its pgid cannot have been reused.
    """
    timed_out = False
    try:
        while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            if time.monotonic() >= deadline:
                timed_out = True
                break
            time.sleep(0.02)
    finally:
        # Runs on every path (even if waitid fails): no sandbox process may outlive us.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # also kills stray grandchildren
    _, wait_status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(wait_status)
    return timed_out, wait_status, usage.ru_utime + usage.ru_stime


def run_in_sandbox(
    artifact_path: str | os.PathLike[str],
    fmt: ArtifactFormat | None,
    features_path: str | os.PathLike[str] | pd.DataFrame,
    contract: InputContract,
    limits: SandboxLimits | None = None,
) -> SandboxResult:
    """Validate the artifact, run it in a sandboxed child, return validated predictions.

    ``fmt`` is the format the caller expects (``None``: whatever the content is);
    the content is sniffed and checked again here regardless. ``features_path`` is a
    .parquet/.csv/.npz file (or a DataFrame) with at least the contract columns;
    only those columns reach the child.

    Raises ``ScoringError``: ``invalid_artifact`` (``ArtifactRejected``) for refused
    files and load failures, ``invalid_output`` for bad predictions,
    ``resource_limit`` for memory/file-size limits, ``timeout`` for wall-clock or
    CPU limits, ``internal_error`` for our own failures.
    """
    limits = limits or SandboxLimits()
    try:
        return _validate_and_run(artifact_path, fmt, features_path, contract, limits)
    except ScoringError:
        raise
    except Exception as exc:
        # A bug of ours (or a case we did not foresee) must not reach the candidate as a
        # stack trace: log it for operators, report an internal error.
        logger.exception("sandbox: unexpected error")
        raise _internal_error() from exc


def _validate_and_run(
    artifact_path: str | os.PathLike[str],
    fmt: ArtifactFormat | None,
    features_path: str | os.PathLike[str] | pd.DataFrame,
    contract: InputContract,
    limits: SandboxLimits,
) -> SandboxResult:
    data = read_artifact(Path(artifact_path), limits.artifact)
    detected = sniff_bytes(data, limits.artifact)
    if fmt is not None and detected != ArtifactFormat(fmt):
        raise ArtifactRejected(
            RejectionCode.FORMAT_MISMATCH,
            f"The uploaded file is a {detected.value} model, not {ArtifactFormat(fmt).value}.",
        )
    job: dict[str, Any] = {
        "format": detected.value,
        "contract": contract.to_dict(),
        "request_rows": limits.request_rows,
        "latency_repeats": limits.latency_repeats,
    }
    if detected is ArtifactFormat.ONNX:
        plan = inspect_onnx_bytes(data, contract, limits.artifact)
        job["onnx"] = {"layout": plan.layout.to_dict(), "output": plan.output.to_dict()}

    isolate_net = limits.isolate_network and network_isolation_available()
    if limits.isolate_network and not isolate_net and limits.require_network_isolation:
        logger.error("sandbox: network isolation required but unavailable")
        raise _internal_error()
    drop_caps = _capability_drop_available()

    job_dir = Path(tempfile.mkdtemp(prefix="mlsd-sandbox-"))  # mode 0700
    try:
        try:
            n_rows = _write_features(features_path, contract, job_dir / "features")
        except (OSError, ValueError, KeyError) as exc:
            logger.exception("sandbox: could not prepare features")
            raise _internal_error() from exc
        # The bytes we validated, not the path: the upload cannot change under us.
        (job_dir / f"model.{detected.value}").write_bytes(data)
        del data
        (job_dir / "job.json").write_text(json.dumps(job))
        if limits.run_as_uid is not None:
            gid = limits.run_as_gid if limits.run_as_gid is not None else limits.run_as_uid
            for path in (job_dir, *job_dir.iterdir()):
                os.chown(path, limits.run_as_uid, gid)
        return _run_child(job_dir, n_rows, contract, limits, isolate_net, drop_caps)
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)


def _run_child(
    job_dir: Path,
    n_rows: int,
    contract: InputContract,
    limits: SandboxLimits,
    isolate_net: bool,
    drop_caps: bool,
) -> SandboxResult:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(job_dir),
        "TMPDIR": str(job_dir),
        "LANG": "C.UTF-8",
        # One thread everywhere: predictable CPU accounting and latency numbers.
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1",
        "VECLIB_MAXIMUM_THREADS": "1",
    }
    command = [sys.executable, "-I", "-c", _BOOTSTRAP, str(REPO_ROOT), str(job_dir)]
    started = time.monotonic()
    with tempfile.TemporaryFile() as output:  # child's stdout+stderr; read capped
        try:
            proc = subprocess.Popen(
                command,
                env=env,
                cwd=job_dir,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                close_fds=True,
                start_new_session=True,
                umask=0o077,
                # preexec_fn is required (unshare, rlimits, capabilities have no Popen
                # parameter); it only makes syscalls, and the Celery prefork worker that
                # calls us is single-threaded, so the fork-with-threads hazard does not apply.
                preexec_fn=_make_preexec(limits, isolate_net, drop_caps),  # noqa: PLW1509
            )
        except (OSError, subprocess.SubprocessError) as exc:
            logger.exception("sandbox: could not start the child")
            raise _internal_error() from exc
        timed_out, wait_status, cpu_used = _wait(proc, started + limits.wall_clock_seconds)
        stderr_text = _tail(output, limits.stderr_cap_bytes)
    elapsed = time.monotonic() - started
    logger.info(
        "sandbox run: rc=%s timed_out=%s wall=%.2fs cpu=%.2fs network_isolated=%s "
        "caps_dropped=%s uid=%s",
        proc.returncode,
        timed_out,
        elapsed,
        cpu_used,
        isolate_net,
        drop_caps,
        limits.run_as_uid if limits.run_as_uid is not None else os.geteuid(),
    )

    if timed_out:
        raise _timeout_error("wall_clock", limits)
    if os.WIFSIGNALED(wait_status):
        sig = os.WTERMSIG(wait_status)
        logger.warning(
            "sandbox child killed by signal %s; stderr tail: %s", sig, stderr_text[-2000:]
        )
        raise _error_from_signal(sig, cpu_used, stderr_text, limits)

    status = _read_status(job_dir)
    if proc.returncode != 0 or status is None or status.get("status") != "ok":
        if status is not None and status.get("status") == "error":
            error = _error_from_status(status, limits)
        elif any(h in stderr_text.lower() for h in _MEMORY_HINTS):
            error = _memory_error(limits)
        elif "file too large" in stderr_text.lower():
            error = _file_size_error(limits)
        else:
            error = _internal_error()
        log = logger.error if error.reason is FailureReason.INTERNAL_ERROR else logger.info
        log(
            "sandbox child failed (%s/%s); stderr tail: %s",
            error.reason,
            error.code,
            stderr_text[-2000:],
        )
        raise error

    # A valid result is at most [n_rows, 2] float64; allow up to 8 columns so a wrong
    # shape gets a precise message, but never read an arbitrarily large file.
    raw_bytes = _read_child_file(job_dir / "predictions.npy", n_rows * 64 + 4096)
    if raw_bytes is None:
        raise ScoringError(
            FailureReason.INVALID_OUTPUT,
            "Your model's predictions were missing or far larger than the input.",
            "shape",
        )
    try:
        raw = np.load(io.BytesIO(raw_bytes), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise _internal_error() from exc
    predictions = contract_validate_predictions(raw, n_rows, contract.task_type)
    p50, p99 = status.get("latency_p50_ms"), status.get("latency_p99_ms")
    if not all(isinstance(v, int | float) and math.isfinite(v) and v >= 0 for v in (p50, p99)):
        raise _internal_error()
    return SandboxResult(
        predictions=predictions,
        latency_p50_ms=float(p50),
        latency_p99_ms=float(p99),
        isolated_network=isolate_net,
    )
