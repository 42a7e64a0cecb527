"""One sandboxed run: check the artifact, write the job folder (model bytes, the contract's
feature columns, ``job.json``), start the child under the isolation of ``isolation``, wait
with a wall-clock kill, and read back and validate what it wrote."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import math
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from grading.engine.artifacts import ArtifactFormat, read_artifact, sniff_bytes
from grading.engine.contract import InputContract, contract_validate_predictions
from grading.engine.errors import ArtifactRejected, FailureReason, RejectionCode, ScoringError
from grading.engine.sandbox.failures import (
    _MEMORY_HINTS,
    _allocation_error,
    _error_from_signal,
    _error_from_status,
    _file_size_error,
    _internal_error,
    _memory_error,
    _sandbox_unavailable_error,
    _timeout_error,
)
from grading.engine.sandbox.features import FeatureColumns, _write_features
from grading.engine.sandbox.isolation import (
    JOB_DIR_INSIDE,
    REPO_ROOT,
    SandboxIsolation,
    _bounding_set_drop,
    _capability_drop_available,
    _make_preexec,
    bwrap_command,
    network_isolation_available,
    sandbox_isolation,
)
from grading.engine.sandbox.limits import Isolation, MiB, SandboxLimits
from grading.engine.sandbox.memory import MemoryWatch
from grading.engine.sandbox.warm import Spare, spare_keep, spare_take, spare_waiting

if TYPE_CHECKING:
    import pandas as pd

# One logger for the whole sandbox, named as before the package split, so that log settings
# and filters keep matching.
logger = logging.getLogger("grading.engine.sandbox")

# -I ignores PYTHONPATH and keeps the cwd off sys.path, so "-m grading.engine.sandbox.child"
# could not find the package. This bootstrap puts the repo root on sys.path first.
_BOOTSTRAP = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from grading.engine.sandbox.child import exit_now, main; exit_now(main(sys.argv[2:]))"
)
# What every child runs first: the imports a job needs, then a wait for ``go`` on stdin
# (``child.warm_up``). A cold child gets ``go`` at once; a spare (``warm``) when its job comes.
_WARM_UP = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from grading.engine.sandbox.child import warm_up; warm_up()\n"
)
# An upload's static checks (``checks``) load no runtime: they only wait for ``go``.
_CHECKS_WAIT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from grading.engine.sandbox.child import warm_up; warm_up(imports=False)\n"
)


@dataclass(frozen=True)
class SandboxResult:
    """Validated predictions (float64, one per row; P(y=1) for binary), latency, the
    peak resident memory the parent measured (None where /proc could not show it), the
    model's load time in the child, and the load test's service times (seconds per
    request, served back to back: ``grading.engine.serving``)."""

    predictions: np.ndarray
    latency_p50_ms: float
    latency_p99_ms: float
    isolated_network: bool
    peak_memory_bytes: int | None = None
    load_seconds: float | None = None
    service_seconds: tuple[float, ...] = ()


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


def _tail(handle: Any, cap: int) -> str:
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(max(0, size - cap))
    return handle.read(cap).decode("utf-8", "replace")


# --- the run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ChildExit:
    """How the child ended: ``timed_out`` / ``over_memory`` when we killed it (wall clock,
    resident memory), its wait status, and what it used (``peak_memory_bytes`` and
    ``memory_measured`` from the ``MemoryWatch``; CPU the larger of /proc's and wait4's)."""

    timed_out: bool
    over_memory: bool
    wait_status: int
    cpu_seconds: float
    peak_memory_bytes: int
    memory_measured: bool


# How often the parent looks at the child: waits for its exit, reads its memory.
_TICK_SECONDS = 0.02


def _wait(proc: subprocess.Popen[bytes], deadline: float, memory_limit: int) -> _ChildExit:
    """Wait for the child until ``deadline``, reading its process tree's resident memory at
    every tick; kill its process group on timeout or once the memory is over
    ``memory_limit`` bytes. The group is SIGKILLed while the child is still an unreaped
    zombie, so its pgid cannot have been reused."""
    timed_out = False
    watch = MemoryWatch(root=proc.pid, limit_bytes=memory_limit)
    try:
        while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            if watch.poll():
                break
            if time.monotonic() >= deadline:
                timed_out = True
                break
            time.sleep(_TICK_SECONDS)
    finally:
        # Runs on every path (even if waitid fails): no sandbox process may outlive us.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # also kills stray grandchildren
    _, wait_status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(wait_status)
    # Under bubblewrap wait4 sees only bubblewrap (its monitor exits without reaping the
    # child), so /proc's reading of the tree is the one that counts there.
    return _ChildExit(
        timed_out=timed_out, over_memory=watch.over_limit, wait_status=wait_status,
        cpu_seconds=max(usage.ru_utime + usage.ru_stime, watch.cpu_seconds),
        peak_memory_bytes=watch.peak_bytes, memory_measured=watch.measured,
    )


def run_in_sandbox(
    artifact_path: str | os.PathLike[str],
    fmt: ArtifactFormat | None,
    features_path: str | os.PathLike[str] | pd.DataFrame | FeatureColumns,
    contract: InputContract,
    limits: SandboxLimits | None = None,
) -> SandboxResult:
    """Validate the artifact, run it in a sandboxed child, return validated predictions.

    ``fmt`` is the format the caller expects (``None``: whatever the content is);
    the content is sniffed and checked again here regardless. ``features_path`` is a
    .parquet/.csv/.npz file (or a DataFrame) with at least the contract columns, or
    ``FeatureColumns`` written for the contract; only those columns reach the child.

    Raises ``ScoringError``: ``invalid_artifact`` (``ArtifactRejected``) for refused
    files and load failures, ``invalid_output`` for bad predictions,
    ``resource_limit`` for memory/file-size limits, ``timeout`` for wall-clock or
    CPU limits, ``internal_error`` for our own failures -- code ``sandbox_unavailable``,
    before any work, when ``limits.isolation`` is ``REQUIRED`` and this host cannot give
    the child bubblewrap's namespaces (``sandbox_isolation`` says what is missing).
    """
    limits = limits or SandboxLimits()
    try:
        limits = _limits_for(sandbox_isolation(limits), limits)
        return _validate_and_run(artifact_path, fmt, features_path, contract, limits)
    except ScoringError:
        raise
    except Exception as exc:
        # A bug of ours (or a case we did not foresee) must not reach the candidate as a
        # stack trace: log it for operators, report an internal error.
        logger.exception("sandbox: unexpected error")
        raise _internal_error() from exc


def _limits_for(isolation: SandboxIsolation, limits: SandboxLimits) -> SandboxLimits:
    """``limits`` for the isolation in force; raises ``ScoringError`` (internal_error, code
    sandbox_unavailable) when the policy requires more than this host gives."""
    if isolation.missing:
        if limits.isolation is Isolation.REQUIRED:
            logger.error("sandbox: refusing to run a model, isolation unavailable: %s",
                         isolation.missing)
            raise _sandbox_unavailable_error()
        if limits.isolation is Isolation.ALLOW_WEAK:
            logger.warning("sandbox: running a model WITHOUT the required isolation "
                           "(allowed for development only): %s", isolation.missing)
        return limits
    # Under bubblewrap the child always has its own network namespace: no probe for the
    # plain child's one.
    return dataclasses.replace(limits, isolate_network=False)


def _validate_and_run(
    artifact_path: str | os.PathLike[str],
    fmt: ArtifactFormat | None,
    features_path: str | os.PathLike[str] | pd.DataFrame | FeatureColumns,
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
    # Only the sniff runs here: the ONNX graph walk and the skops allow-list read the whole
    # untrusted file, so they run in the child, under its memory, CPU and wall-clock limits
    # (a 2 MB file of empty ONNX nodes cost this process 2.4 s and 355 MB to walk).
    job: dict[str, Any] = {
        "format": detected.value,
        "contract": contract.to_dict(),
        "request_rows": limits.request_rows,
        "latency_repeats": limits.latency_repeats,
        "load_test_requests": limits.load_test_requests,
        "load_test_seconds": limits.load_test_seconds,
        "max_file_bytes": limits.artifact.max_file_bytes,
    }

    isolate_net = limits.isolate_network and network_isolation_available()
    if limits.isolate_network and not isolate_net and limits.require_network_isolation:
        logger.error("sandbox: network isolation required but unavailable")
        raise _internal_error()
    drop_caps = _capability_drop_available()

    key = _spare_key(limits, isolate_net, drop_caps)
    spare = spare_take(key) if limits.warm else None
    job_dir = spare.job_dir if spare else Path(tempfile.mkdtemp(prefix="mlsd-sandbox-"))
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
        return _run_child(job_dir, n_rows, contract, limits, isolate_net, drop_caps, spare)
    finally:
        if spare is not None:
            spare.discard()  # ended by now; closes its files
        shutil.rmtree(job_dir, ignore_errors=True)
        if limits.warm:
            _spare_start(key, limits, isolate_net, drop_caps)


def warm_sandbox_start(limits: SandboxLimits | None = None) -> bool:
    """Start a spare child for the first job of ``limits`` (a scoring worker's process, as it
    starts), unless one is waiting, ``limits.warm`` is off or the host gives no bubblewrap
    (the job then refuses or runs cold, as it would have). True if a spare is waiting."""
    limits = limits or SandboxLimits()
    if not limits.warm:
        return False
    try:
        limits = _limits_for(sandbox_isolation(limits), limits)
    except ScoringError:
        return False  # refused: the job will say so
    isolate_net = limits.isolate_network and network_isolation_available()
    key = _spare_key(limits, isolate_net, _capability_drop_available())
    spare = spare_take(key)
    if spare is not None:
        spare_keep(spare)
        return True
    _spare_start(key, limits, isolate_net, _capability_drop_available())
    return spare_waiting() is not None


def _spare_key(limits: SandboxLimits, isolate_net: bool, drop_caps: bool) -> tuple[object, ...]:
    """What a child's start depends on (``_launch``): a spare serves only jobs of its key."""
    isolation = sandbox_isolation(limits, max_age=math.inf)
    return (
        isolation, isolate_net, drop_caps, _WARM_UP + _BOOTSTRAP, limits.address_space_limit,
        limits.cpu_seconds, limits.max_file_bytes, limits.max_open_files,
        limits.max_processes, limits.run_as_uid, limits.run_as_gid,
    )


def _spare_start(key: tuple[object, ...], limits: SandboxLimits, isolate_net: bool,
                 drop_caps: bool) -> None:
    """Start the next job's child now (``warm``), so that it imports while the worker does
    other work. Only under bubblewrap: the plain child is for development and the
    validator. A failure here only costs the next job a cold start."""
    if key[0].bwrap is None:
        return
    if threading.current_thread() is not threading.main_thread():
        # The child dies with the *thread* that started it (PR_SET_PDEATHSIG): a spare from
        # a request thread of a threaded server would be killed when that thread ends,
        # perhaps just as a job takes it. Celery's prefork and solo pools run jobs on the
        # main thread.
        return
    job_dir = Path(tempfile.mkdtemp(prefix="mlsd-sandbox-"))
    try:
        proc, output, isolation = _launch(job_dir, limits, isolate_net, drop_caps)
    except ScoringError:
        shutil.rmtree(job_dir, ignore_errors=True)
        return
    spare_keep(Spare(key=key, proc=proc, output=output, job_dir=job_dir, isolation=isolation))


def _give_to(job_dir: Path, uid: int, gid: int) -> None:
    """Hand the whole job folder to the uid the child runs as (it reads the features and
    writes its status and predictions there)."""
    for folder, _, files in os.walk(job_dir):
        os.chown(folder, uid, gid)
        for name in files:
            os.chown(os.path.join(folder, name), uid, gid)


def _child_start(
    job_dir: Path, limits: SandboxLimits, isolate_net: bool, drop_caps: bool,
    prelude: str = _WARM_UP,
) -> tuple[list[str], dict[str, str], Callable[[], None], SandboxIsolation]:
    """The command, environment and pre-exec function that start the child, and the
    isolation they give it: bubblewrap when ``run_in_sandbox`` found it in force (with the
    job folder as ``/job``), else the plain child in the folder itself."""
    # The answer run_in_sandbox acted on, not a newer one.
    isolation = sandbox_isolation(limits, max_age=math.inf)
    folder = JOB_DIR_INSIDE if isolation.bwrap else str(job_dir)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": folder,
        "TMPDIR": folder,
        "LANG": "C.UTF-8",
        # One thread everywhere: predictable CPU accounting and latency numbers.
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NUMEXPR_NUM_THREADS": "1",
        "VECLIB_MAXIMUM_THREADS": "1",
    }
    python = [sys.executable, "-I", "-c", prelude + _BOOTSTRAP, str(REPO_ROOT), folder]
    if isolation.bwrap is None:
        return python, env, _make_preexec(limits, isolate_net, drop_caps), isolation
    uid = isolation.switch_uid
    gid = limits.run_as_gid if limits.run_as_gid is not None else uid
    owner = uid if uid is not None else isolation.drop_uid
    if owner is not None:
        _give_to(job_dir, owner, gid if gid is not None else owner)
    # A root worker switches to ``uid`` before bubblewrap starts, or setpriv drops the child
    # to ``drop_uid`` inside it (rlimits and no_new_privs are inherited by bubblewrap and the
    # child; the bounding set is emptied here, or by bubblewrap and setpriv).
    before_exec = _make_preexec(
        dataclasses.replace(limits, run_as_uid=uid, run_as_gid=gid),
        False,
        _bounding_set_drop(isolation),
        nproc=isolation.drop_uid is not None,
    )
    return bwrap_command(isolation, limits, job_dir, python), env, before_exec, isolation


def _exit_signal(wait_status: int, isolation: SandboxIsolation) -> int | None:
    """The signal that ended the child, if one did. bubblewrap exits with 128 + the signal
    that killed the child (as a shell does); its own failures exit with 1."""
    if os.WIFSIGNALED(wait_status):
        return os.WTERMSIG(wait_status)
    code = os.WEXITSTATUS(wait_status) if os.WIFEXITED(wait_status) else 0
    if isolation.bwrap is not None and 128 < code < 128 + signal.NSIG:
        return code - 128
    return None


def _launch(
    job_dir: Path, limits: SandboxLimits, isolate_net: bool, drop_caps: bool,
    prelude: str = _WARM_UP,
) -> tuple[subprocess.Popen[bytes], IO[bytes], SandboxIsolation]:
    """Start a child on ``job_dir``: it imports, then waits for ``go`` (``child.warm_up``).
    Returns the process, the file its stdout and stderr go to, and its isolation. Raises
    ``ScoringError`` (internal) if it cannot be started."""
    command, env, preexec, isolation = _child_start(
        job_dir, limits, isolate_net, drop_caps, prelude)
    # The child's stdout+stderr, read capped; closed by the caller (or the spare).
    output = tempfile.TemporaryFile()  # noqa: SIM115
    try:
        proc = subprocess.Popen(
            command,
            env=env,
            cwd=job_dir,
            stdin=subprocess.PIPE,
            stdout=output,
            stderr=output,
            close_fds=True,
            start_new_session=True,
            umask=0o077,
            # preexec_fn is required (rlimits, capabilities and no_new_privs have no Popen
            # parameter); it only makes syscalls, and the Celery prefork worker and the
            # gunicorn sync worker (the upload's checks) that call us are
            # single-threaded, so the fork-with-threads hazard does not apply.
            preexec_fn=preexec,  # noqa: PLW1509
        )
    except (OSError, subprocess.SubprocessError) as exc:
        output.close()
        logger.exception("sandbox: could not start the child")
        raise _internal_error() from exc
    return proc, output, isolation


def _go(proc: subprocess.Popen[bytes]) -> bool:
    """Tell a waiting child to run its job; False if it is gone."""
    assert proc.stdin is not None
    try:
        proc.stdin.write(b"go\n")
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        return False
    return True


def _start_and_wait(
    job_dir: Path, limits: SandboxLimits, isolate_net: bool, drop_caps: bool,
    spare: Spare | None = None, prelude: str = _WARM_UP,
) -> tuple[_ChildExit, str, SandboxIsolation]:
    """Run the job in ``job_dir``: on ``spare`` (a child already started on that folder,
    ``warm``) when it is still waiting, else on a child started now. Wait for it under
    ``limits`` (wall clock, resident memory) and log one ``sandbox run:`` line. Returns how
    it ended, the tail of its output and the isolation it had. Raises ``ScoringError``
    (internal) if no child can be started."""
    warm = spare is not None and spare.alive()
    if warm:
        assert spare is not None
        proc, output, isolation = spare.proc, spare.output, spare.isolation
        # The job's files were written after the spare started: hand them to its uid too.
        owner = isolation.switch_uid if isolation.switch_uid is not None else isolation.drop_uid
        if owner is not None:
            gid = limits.run_as_gid if limits.run_as_gid is not None else owner
            _give_to(job_dir, owner, gid)
    else:
        proc, output, isolation = _launch(job_dir, limits, isolate_net, drop_caps, prelude)
    started = time.monotonic()
    try:
        if not _go(proc) and warm:
            # The spare died between the check and now: start this job cold instead.
            return _start_and_wait(job_dir, limits, isolate_net, drop_caps)
        ended = _wait(proc, started + limits.wall_clock_seconds, limits.memory_bytes)
        stderr_text = _tail(output, limits.stderr_cap_bytes)
    finally:
        if not warm:
            output.close()
    logger.info(
        "sandbox run: rc=%s timed_out=%s over_memory=%s wall=%.2fs cpu=%.2fs "
        "peak_rss=%s isolation=%s network_isolated=%s caps_dropped=%s uid=%s warm=%s",
        proc.returncode,
        ended.timed_out,
        ended.over_memory,
        time.monotonic() - started,
        ended.cpu_seconds,
        f"{ended.peak_memory_bytes / MiB:.0f}MiB" if ended.memory_measured else "unmeasured",
        isolation.describe() if not isolation.missing else "WEAK: " + isolation.describe(),
        isolation.bwrap is not None or isolate_net,
        drop_caps or isolation.bwrap is not None,
        isolation.host_uid if isolation.bwrap else limits.run_as_uid or os.geteuid(),
        "yes" if warm else "no",
    )
    return ended, stderr_text, isolation


def _child_status(
    job_dir: Path, ended: _ChildExit, stderr_text: str, isolation: SandboxIsolation,
    limits: SandboxLimits,
) -> dict[str, Any]:
    """The status of a child that ended well; else raises its failure as ``ScoringError``:
    over the memory limit, out of time, killed by a signal, or the error it reported."""
    peak = ended.peak_memory_bytes if ended.memory_measured else None
    if ended.over_memory:
        raise _memory_error(limits, peak)
    if ended.timed_out:
        raise _timeout_error("wall_clock", limits)
    sig = _exit_signal(ended.wait_status, isolation)
    if sig is not None:
        logger.warning(
            "sandbox child killed by signal %s; stderr tail: %s", sig, stderr_text[-2000:]
        )
        raise _error_from_signal(sig, ended.cpu_seconds, stderr_text, limits, peak)

    status = _read_status(job_dir)
    exit_code = os.waitstatus_to_exitcode(ended.wait_status)
    if exit_code != 0 or status is None or status.get("status") != "ok":
        if status is not None and status.get("status") == "error":
            error = _error_from_status(status, limits, peak)
        elif any(h in stderr_text.lower() for h in _MEMORY_HINTS):
            error = _allocation_error(limits, peak)
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
    return status


def _run_child(
    job_dir: Path,
    n_rows: int,
    contract: InputContract,
    limits: SandboxLimits,
    isolate_net: bool,
    drop_caps: bool,
    spare: Spare | None = None,
) -> SandboxResult:
    ended, stderr_text, isolation = _start_and_wait(
        job_dir, limits, isolate_net, drop_caps, spare)
    status = _child_status(job_dir, ended, stderr_text, isolation, limits)
    network_isolated = isolation.bwrap is not None or isolate_net
    peak = ended.peak_memory_bytes if ended.memory_measured else None

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
    if not all(_non_negative(v) for v in (p50, p99)):
        raise _internal_error()
    load_seconds, service = status.get("load_seconds"), status.get("service_seconds", [])
    if load_seconds is not None and not _non_negative(load_seconds):
        raise _internal_error()
    if (not isinstance(service, list) or len(service) > limits.load_test_requests
            or not all(_non_negative(v) for v in service)):
        raise _internal_error()
    return SandboxResult(
        predictions=predictions,
        latency_p50_ms=float(p50),
        latency_p99_ms=float(p99),
        isolated_network=network_isolated,
        peak_memory_bytes=peak,
        load_seconds=None if load_seconds is None else float(load_seconds),
        service_seconds=tuple(float(v) for v in service),
    )


def _non_negative(value: object) -> bool:
    """A finite number >= 0 from the child's status (bool is not a number here)."""
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0)
