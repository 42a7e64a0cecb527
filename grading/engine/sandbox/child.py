"""Sandbox child: load one candidate model, predict, time single requests and the load
test's requests (``grading.engine.serving``), report.

Started by ``grading.engine.sandbox.runner`` as::

    python -I -c <bootstrap> <repo_root> <job_dir>

(``-I`` ignores PYTHONPATH and does not put the cwd on sys.path, so ``-m
grading.engine.sandbox.child`` cannot find the package; the bootstrap inserts
``repo_root`` and calls ``main``.) Also runnable as ``python -m
grading.engine.sandbox.child <repo_root> <job_dir>`` from the repository root.

The job directory (also the cwd) holds ``job.json``, ``features/`` (a .npy file per
column) and ``model.onnx`` / ``model.skops`` -- never labels. A job whose ``mode`` is
``check`` (the upload's checks, ``grading.engine.sandbox.checks``) has no features and runs
only the static checks below. The child writes
``predictions.npy`` and ``status.json`` there. Imports: stdlib, numpy,
``grading.engine.contract`` and ``grading.engine.serving`` (its package
``grading.engine.sandbox`` imports nothing until a public name is used); then, for an ONNX
model, onnx (``grading.engine.onnx_checks``) and onnxruntime, for a skops model skops and
scikit-learn (``grading.engine.skops_checks``, ``grading.engine.skops_model``; + pandas
only for models trained on DataFrames).

The static checks of the untrusted file run here, under the child's limits, not in the
worker: the ONNX graph walk, and the skops allow-list (read from ``schema.json`` before
skops builds anything). A refusal is reported as status ``rejected`` with its
``RejectionCode`` and candidate message. Never unpickles: every np.load uses
allow_pickle=False.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from grading.engine.contract import InputContract, slice_feeds
from grading.engine.errors import ArtifactRejected, RejectionCode
from grading.engine.serving import measure_service_times

STATUS_FILE = "status.json"
PREDICT_BATCH_ROWS = 65_536
PREDICTIONS_FILE = "predictions.npy"

# Substrings that mean "ran out of memory" in onnxruntime / numpy / C++ errors.
_MEMORY_HINTS = (
    "bad_alloc",
    "failed to allocate",
    "unable to allocate",
    "cannot allocate memory",
    "out of memory",
    "memoryerror",
)


class ChildFailure(Exception):
    """A failure with a status ``kind`` the parent knows how to map."""

    def __init__(self, kind: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.extra = extra


def _is_memory_error(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    text = f"{type(exc).__name__}: {exc}".lower()
    return any(hint in text for hint in _MEMORY_HINTS)


def _classify(exc: BaseException, kind: str) -> ChildFailure:
    if isinstance(exc, ChildFailure):
        return exc
    if isinstance(exc, ArtifactRejected):
        # Our own checks refused the file: the parent rebuilds this very refusal.
        return ChildFailure("rejected", exc.message, code=exc.code)
    if _is_memory_error(exc):
        return ChildFailure("memory", str(exc)[:2000])
    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        return ChildFailure("file_too_large", "file size limit exceeded")
    return ChildFailure(kind, f"{type(exc).__name__}: {exc}"[:2000])


def _write_status(payload: dict[str, Any]) -> None:
    # Write then rename, so the parent never reads half a status file.
    tmp = Path(STATUS_FILE + ".tmp")
    tmp.write_text(json.dumps(payload))
    os.replace(tmp, STATUS_FILE)


def _load_features(contract: InputContract) -> tuple[dict[str, np.ndarray], int]:
    """The feature columns; a string column arrives dictionary-encoded (``c<i>`` int32 codes,
    ``c<i>_values`` the distinct values) and becomes an object array of ``str`` that shares
    one Python string per distinct value."""
    columns: dict[str, np.ndarray] = {}
    folder = Path("features")
    for i, name in enumerate(contract.names):
        # Read, not mapped: a mapping would hold a descriptor per column against
        # RLIMIT_NOFILE for the whole run.
        column = np.load(folder / f"c{i}.npy", allow_pickle=False)
        values_file = folder / f"c{i}_values.npy"
        if values_file.exists():
            values = np.load(values_file, allow_pickle=False).astype(object)
            if column.size and (column.min() < 0 or column.max() >= len(values)):
                raise ChildFailure("internal", f"feature codes of {name!r} out of range")
            column = values[column]
        columns[name] = column
    n_rows = len(next(iter(columns.values())))
    return columns, n_rows


def _onnx_predictor(
    job: dict[str, Any], contract: InputContract, columns: dict[str, np.ndarray],
    timings: dict[str, float] | None = None,
) -> Callable[..., np.ndarray]:
    from grading.engine.artifacts import ArtifactLimits
    from grading.engine.onnx_checks import inspect_onnx_bytes

    model_bytes = Path("model.onnx").read_bytes()
    # The graph walk of the untrusted file, under this process's limits. Raises
    # ArtifactRejected (external data, custom domains, inputs or outputs off the contract).
    plan = inspect_onnx_bytes(
        model_bytes, contract, ArtifactLimits(max_file_bytes=int(job["max_file_bytes"])))
    layout, output = plan.layout, plan.output

    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only; warnings would flood the capped stderr
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    # No register_custom_ops_library, CPU provider only. Load from bytes, not a path:
    # there is no model directory for external-data paths to be resolved against.
    loading = time.perf_counter()
    try:
        session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # any load failure is the model's fault
        raise _classify(exc, "load_failed") from exc
    if timings is not None:
        timings["load_seconds"] = time.perf_counter() - loading
    del model_bytes
    # Double-check against onnxruntime's own view of the graph.
    session_inputs = {i.name for i in session.get_inputs()}
    if session_inputs != {name for name, _ in layout.inputs}:
        raise ChildFailure("input_mismatch", "model inputs differ from the checked layout")
    if output.name not in {o.name for o in session.get_outputs()}:
        raise ChildFailure("output_mismatch", "model output missing")
    feeds = contract.feeds(columns, layout, strings_ready=True)

    def run(batch: dict[str, np.ndarray]) -> np.ndarray:
        (value,) = session.run([output.name], batch)
        if output.kind == "zipmap":
            return _zipmap_to_array(value)
        return np.asarray(value)

    def predict(rows: int | None, start: int = 0) -> np.ndarray:
        """All rows (``None``), or one request: ``rows`` rows from ``start``."""
        if rows is not None:
            if start:
                return run({name: value[start:start + rows] for name, value in feeds.items()})
            return run(slice_feeds(feeds, rows))
        # In batches: the runtime's intermediate tensors stay the size of one batch however
        # many rows are scored, so memory does not grow with the held-out split.
        total = len(next(iter(feeds.values())))
        parts = [run({name: value[start:start + PREDICT_BATCH_ROWS]
                      for name, value in feeds.items()})
                 for start in range(0, total, PREDICT_BATCH_ROWS)]
        return np.concatenate(parts) if len(parts) != 1 else parts[0]

    return predict


def _zipmap_to_array(value: Any) -> np.ndarray:
    """skl2onnx ZipMap output (list of {class: prob}) -> [N, n_classes], classes sorted."""
    if not isinstance(value, list):
        raise ChildFailure("bad_output", "probability output is not a list of maps")
    if not value:
        return np.zeros((0, 2))
    keys = sorted(value[0].keys())
    return np.array([[row[k] for k in keys] for row in value], dtype=np.float64)


def _load_skops(timings: dict[str, float] | None = None) -> Any:
    """The model in ``model.skops``, if every type it names is on the allow-list.

    Raises ``ArtifactRejected`` (a refused type, callable or parameter; an inconsistent tree)
    or ``ChildFailure("load_failed")``."""
    from grading.engine.skops_checks import skops_check_archive, skops_policy
    from grading.engine.skops_model import skops_check_model

    policy = skops_policy()
    data = Path("model.skops").read_bytes()
    # Before skops builds anything: every node of schema.json against the allow-list.
    skops_check_archive(data, policy)
    import skops.io as sio

    loading = time.perf_counter()
    try:
        # Exactly the allowed types as trusted (never get_untrusted_types' output: that is
        # how a hostile file gets posix.system constructed). skops' own audit then refuses
        # anything the walk above could have missed.
        model = sio.loads(data, trusted=policy.trusted)
    except Exception as exc:
        if type(exc).__name__ == "UntrustedTypesFoundException":
            found = (str(exc).splitlines() or [""])[0][:300]
            raise ArtifactRejected(
                RejectionCode.SKOPS_TYPE_REFUSED, f"skops refused your file. {found}"
            ) from exc
        raise _classify(exc, "load_failed") from exc
    if timings is not None:
        timings["load_seconds"] = time.perf_counter() - loading
    del data
    try:
        skops_check_model(model)
    except ArtifactRejected:
        raise
    except Exception as exc:  # a model too odd to check is the file's fault
        raise _classify(exc, "load_failed") from exc
    return model


def _skops_predictor(
    contract: InputContract, columns: dict[str, np.ndarray],
    timings: dict[str, float] | None = None,
) -> Callable[..., np.ndarray]:
    model = _load_skops(timings)
    needs_frame = hasattr(model, "feature_names_in_") or not contract.all_numeric
    if needs_frame:
        # The model was fitted on a DataFrame (e.g. a ColumnTransformer selecting by name).
        import pandas as pd

        features: Any = pd.DataFrame({name: columns[name] for name in contract.names})
    else:
        features = np.column_stack(
            [np.asarray(columns[name], dtype=np.float64) for name in contract.names]
        )
    if contract.task_type == "binary":
        if not hasattr(model, "predict_proba"):
            raise ChildFailure(
                "output_mismatch", "a binary classifier must implement predict_proba"
            )
        classes = getattr(model, "classes_", None)
        if classes is not None and len(classes) != 2:
            raise ChildFailure(
                "output_mismatch", f"the classifier has {len(classes)} classes, expected 2"
            )
        method = model.predict_proba
    else:
        method = model.predict

    def predict(rows: int | None, start: int = 0) -> np.ndarray:
        batch = features if rows is None else features[start:start + rows]
        return np.asarray(method(batch))

    return predict


def _percentile_ms(samples: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples) * 1000.0, q))


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Load, predict, benchmark; write predictions. Raises ``ChildFailure``."""
    contract = InputContract.from_dict(job["contract"])
    columns, n_rows = _load_features(contract)
    loaded: dict[str, float] = {}
    if job["format"] == "onnx":
        predict = _onnx_predictor(job, contract, columns, loaded)
    elif job["format"] == "skops":
        predict = _skops_predictor(contract, columns, loaded)
    else:
        raise ChildFailure("internal", f"unknown format {job['format']!r}")

    try:
        raw = predict(None)
    except Exception as exc:
        raise _classify(exc, "run_failed") from exc
    try:
        predictions = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ChildFailure("bad_output", "predictions are not numeric") from exc

    # Latency: one user's request (the first request_rows rows), repeated.
    request_rows = max(1, min(int(job["request_rows"]), n_rows))
    timings: list[float] = []
    try:
        for _ in range(int(job["latency_repeats"])):
            start = time.perf_counter()
            predict(request_rows)
            timings.append(time.perf_counter() - start)
    except Exception as exc:
        raise _classify(exc, "run_failed") from exc

    # The load test's service times (``grading.engine.serving``): request i is the
    # request_rows rows from a start that walks through the split, so requests differ.
    starts = max(n_rows - request_rows, 0) + 1
    try:
        service = measure_service_times(
            lambda i: predict(request_rows, (i * request_rows) % starts),
            max_requests=int(job.get("load_test_requests", 0)),
            seconds=float(job.get("load_test_seconds", 0.0)),
        ) if int(job.get("load_test_requests", 0)) > 0 else []
    except Exception as exc:
        raise _classify(exc, "run_failed") from exc

    try:
        np.save(PREDICTIONS_FILE, predictions, allow_pickle=False)
    except Exception as exc:
        raise _classify(exc, "internal") from exc
    return {
        "status": "ok",
        "n_rows": n_rows,
        "latency_p50_ms": _percentile_ms(timings, 50) if timings else 0.0,
        "latency_p99_ms": _percentile_ms(timings, 99) if timings else 0.0,
        "load_seconds": loaded.get("load_seconds"),
        "service_seconds": [round(seconds, 7) for seconds in service],
    }


def check_job(job: dict[str, Any]) -> dict[str, Any]:
    """The static checks alone, for an upload before it is accepted: the ONNX graph walk
    against the contract, or the skops allow-list. Loads and runs nothing. Raises
    ``ArtifactRejected``."""
    contract = InputContract.from_dict(job["contract"])
    if job["format"] == "onnx":
        from grading.engine.artifacts import ArtifactLimits
        from grading.engine.onnx_checks import inspect_onnx_bytes

        inspect_onnx_bytes(Path("model.onnx").read_bytes(), contract,
                           ArtifactLimits(max_file_bytes=int(job["max_file_bytes"])))
    elif job["format"] == "skops":
        from grading.engine.skops_checks import skops_check_archive, skops_policy

        skops_check_archive(Path("model.skops").read_bytes(), skops_policy())
    else:
        raise ChildFailure("internal", f"unknown format {job['format']!r}")
    return {"status": "ok"}


def warm_up(*, imports: bool = True) -> None:
    """Every child's first step: import what a job needs (``imports``; not for an upload's
    static checks), then wait for the parent's ``go`` on stdin. A cold child gets it at
    once; a spare (``grading.engine.sandbox.warm``) once the job has been written to its
    folder, so before ``go`` nothing untrusted has been read. Any other input (the parent
    gone, a closed pipe) ends the process."""
    if imports:
        _import_runtime()
    line = sys.stdin.buffer.readline()
    if line != b"go\n":
        os._exit(3)
    # The pipe is of no more use: stdin reads nothing from here on, as in a cold child.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)


def _import_runtime() -> None:
    # onnxruntime's import persists a telemetry id under $HOME/.cache: pointed where nothing
    # can be created, so the job folder stays as the parent wrote it; the warning that it
    # could not is silenced (an import error still reaches stderr: raised after the restore).
    home, saved_stderr = os.environ.get("HOME"), os.dup(2)
    os.environ["HOME"] = "/proc/mlsd-no-home"
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import onnxruntime  # noqa: F401 - imported for its cost, before the job
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(devnull)
        if home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = home
    import grading.engine.onnx_checks  # noqa: F401


def exit_now(code: int) -> NoReturn:
    """Leave without the interpreter's teardown (freeing the model and the arrays, unloading
    modules one by one): every output file is closed by now, and the parent waits for the
    exit, so this saves it tens of milliseconds per job."""
    with contextlib.suppress(BaseException):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def main(argv: list[str]) -> int:
    """Entry point. Returns 0 on success, 1 after writing an error status, 2 on misuse."""
    if len(argv) != 1:
        print("usage: grading.engine.sandbox.child <job_dir>", file=sys.stderr)
        return 2
    os.chdir(argv[0])
    try:
        job = json.loads(Path("job.json").read_text())
        _write_status(check_job(job) if job.get("mode") == "check" else run_job(job))
        return 0
    except BaseException as exc:  # noqa: BLE001 - report everything, incl. MemoryError
        failure = _classify(exc, "internal")
        # If even this fails (e.g. RLIMIT_FSIZE), the exit code and stderr still tell the parent.
        with contextlib.suppress(BaseException):
            _write_status(
                {"status": "error", "kind": failure.kind, "message": failure.message}
                | failure.extra
            )
        print(f"sandbox child failure: {failure.kind}: {failure.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    # python -m grading.engine.sandbox.child <repo_root> <job_dir>
    if len(sys.argv) >= 2 and sys.argv[1] not in sys.path:
        sys.path.insert(0, sys.argv[1])
    exit_now(main(sys.argv[2:]))
