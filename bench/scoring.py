"""Scoring overhead, growth, confidence-interval cost and peak memory.

For each case study and each held-out size (10k, 100k and the whole >= 1M "bench" split; 10k
and the ~100k "default" split with ``BENCH_QUICK=1``):

* **floor**: the same ONNX model in this process, one thread like the sandbox, on feeds
  already built in memory: ``session.run`` plus one ``grading.engine.metrics`` computation of the
  primary metric on the whole split (scikit-learn's time for the same metric is recorded
  beside it where scikit-learn has it), plus the serving load test's requests run back to
  back (``grading.engine.serving.measure_service_times``, the same requests and stopping rule
  as the child's), which also stands alone as the load test's own floor;
* **job**: ``grading.services.submission_score`` on a queued submission, i.e. what a worker
  runs for one task: lock and attempt, held-out load, artifact copy, ``score_artifact``
  (checks, sandbox, validation, every metric on three splits, intervals, per-slice values,
  plots) and the database write with the leaderboard refresh.

Floors and jobs alternate, so both see the same noise; figures are medians. The jobs run
as a worker's do, on the warm sandbox (``grading.engine.sandbox.warm``): each job's child was
started when the job before it ended. One more job runs with wrappers around each phase (and
``bench.child_probe`` as the sandbox child, itself on a spare started by the run before it)
for the breakdown; at the largest size a model that misses its target is profiled under
pyinstrument (``bench/results/profiles/``), and one job runs in a separate process whose
whole process tree's memory is sampled.

The sandbox's fixed cost per job is measured apart: ``run_in_sandbox`` on 1,000 rows, warm
(a pause between jobs, as a worker's other work gives the spare time to import) and cold.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from bench import common
from bench.common import QUICK, Results, log, median
from bench.models import model_path

NAME = "scoring"
DB_NAME = "mlsd_bench_scoring"
DATA_DIR = common.VAR_DIR / "scoring"
SUBSET_SEED = 8
# (label, rows); None is the whole split.
SIZES = [("10k", 10_000), ("100k", None)] if QUICK else [
    ("10k", 10_000), ("100k", 100_000), ("1M", None)]
SOURCE_SIZE = "default" if QUICK else "bench"
MODELS = ("example",) if QUICK else ("example", "reasonable")
REPEATS = 2 if QUICK else 3
CI_REPEATS = 3 if QUICK else 5
OVERHEAD_TARGET = 1.5  # job / floor at 1M rows
FIXED_COST_TARGET = 0.1  # seconds of sandbox per job beyond the model's own work
FIXED_ROWS = 1_000
FIXED_REPEATS = 5 if QUICK else 9
CI_TARGET = 2.0  # interval cost in primary-metric computations
MiB = 1024 * 1024


# --- held-out subsets ------------------------------------------------------------------------


@dataclass
class HeldoutRows:
    label: str
    features: pd.DataFrame
    labels: np.ndarray
    groups: np.ndarray | None
    slices: np.ndarray
    public: np.ndarray
    scenarios: dict[str, np.ndarray]  # scenario-slice row masks (``grading.datasets.scenarios``)

    @property
    def rows(self) -> int:
        return len(self.labels)

    @property
    def data_bytes(self) -> int:
        arrays = [self.labels, self.slices, self.public]
        if self.groups is not None:
            arrays.append(self.groups)
        return int(self.features.memory_usage(deep=True).sum()) + sum(a.nbytes for a in arrays)


def heldout_rows(built: Any, label: str, rows: int | None) -> HeldoutRows:
    """``rows`` held-out rows of ``built`` (all when None): a seeded random choice of whole
    groups (or of rows, for ungrouped tasks) in their original order, so every time slice
    and both the public and the private part stay represented."""
    total = built.n_heldout
    if rows is None or rows >= total:
        index = np.arange(total)
    else:
        rng = np.random.default_rng(SUBSET_SEED)
        groups = built.heldout_groups
        if groups is None:
            index = np.sort(rng.choice(total, size=rows, replace=False))
        else:
            _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
            order = rng.permutation(len(counts))
            take = int(np.searchsorted(np.cumsum(counts[order]), rows)) + 1
            chosen = np.zeros(len(counts), dtype=bool)
            chosen[order[:take]] = True
            index = np.flatnonzero(chosen[inverse.reshape(-1)])
    groups = None if built.heldout_groups is None else np.asarray(built.heldout_groups)[index]
    return HeldoutRows(
        label=label,
        features=built.heldout_features.iloc[index].reset_index(drop=True),
        labels=np.asarray(built.heldout_labels)[index],
        groups=groups,
        slices=np.asarray(built.heldout_slices)[index],
        public=np.asarray(built.heldout_public, dtype=bool)[index],
        scenarios={name: np.asarray(mask, dtype=bool)[index]
                   for name, mask in built.heldout_scenarios.items()},
    )


def dataset_for(case_study: Any, rows: HeldoutRows) -> Any:
    """A ``Dataset`` row whose held-out files are ``rows``, active for ``case_study``."""
    from grading.datasets import GENERATOR_VERSIONS
    from grading.models import Dataset
    from grading.services.datasets import (
        FINGERPRINT_FILE,
        _write_heldout,
        dataset_activate,
        dataset_directory,
        dataset_secret,
    )

    fingerprint = hashlib.sha256(
        f"bench {case_study.slug} {rows.label} {rows.rows}".encode()).hexdigest()
    # The workers' secret, so they accept the files written here as this dataset's.
    dataset, _ = Dataset.objects.update_or_create(
        case_study=case_study, generator_version=GENERATOR_VERSIONS[case_study.slug],
        size=f"bench-{rows.label}", data_version=1,
        defaults={"fingerprint": fingerprint, "train_rows": 0, "heldout_rows": rows.rows,
                  "public_rows": int(rows.public.sum()), "is_active": False,
                  "dataset_id": f"bench-{rows.label}", "key_id": dataset_secret().key_id})
    directory = dataset_directory(dataset)
    # Fresh files, so no sandbox columns cached from an earlier run's rows survive.
    shutil.rmtree(directory / "heldout", ignore_errors=True)
    _write_heldout(SimpleNamespace(
        heldout_features=rows.features, heldout_labels=rows.labels,
        heldout_groups=rows.groups, heldout_slices=rows.slices,
        heldout_public=rows.public, heldout_scenarios=rows.scenarios),
        directory / "heldout")
    (directory / FINGERPRINT_FILE).write_text(fingerprint)
    dataset_activate(dataset=dataset)
    return dataset


# --- the floor ---------------------------------------------------------------------------------


def _sklearn_primary(key: str) -> Callable[[np.ndarray, np.ndarray], float] | None:
    from sklearn import metrics as skm

    def normalized_entropy(y: np.ndarray, p: np.ndarray) -> float:
        base = float(np.mean(y))
        return skm.log_loss(y, p) / -(base * math.log(base) + (1 - base) * math.log1p(-base))

    return {
        "log_loss": skm.log_loss,
        "normalized_entropy": normalized_entropy,
        "roc_auc": skm.roc_auc_score,
        "rmse": skm.root_mean_squared_error,
        "mae": skm.mean_absolute_error,
    }.get(key)


class Floor:
    """onnxruntime in this process on feeds built beforehand, plus the primary metric."""

    def __init__(self, path: Path, task: Any, rows: HeldoutRows) -> None:
        import onnxruntime as ort

        from grading.engine.artifacts import ArtifactLimits
        from grading.engine.onnx_checks import inspect_onnx_bytes

        data = path.read_bytes()
        plan = inspect_onnx_bytes(data, task.contract, ArtifactLimits())
        options = ort.SessionOptions()  # as grading.engine.sandbox.child: one thread, no spinning
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self.session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        self.output = plan.output
        columns = {name: rows.features[name].to_numpy() for name in task.contract.names}
        self.feeds = task.contract.feeds(columns, plan.layout)
        self.task, self.rows = task, rows
        self.predictions: np.ndarray | None = None

    def serve(self) -> float:
        """The serving load test's requests back to back in this process: what the child
        times, without the sandbox (``grading.engine.sandbox.child.run_job``)."""
        from grading.engine.sandbox import SandboxLimits
        from grading.engine.sandbox.child import _zipmap_to_array
        from grading.engine.serving import measure_service_times

        limits = SandboxLimits()
        rows = self.task.request_rows
        starts = max(len(self.rows.labels) - rows, 0) + 1

        def request(i: int) -> np.ndarray:
            start = (i * rows) % starts
            (value,) = self.session.run(
                [self.output.name], {k: v[start:start + rows] for k, v in self.feeds.items()})
            return _zipmap_to_array(value) if self.output.kind == "zipmap" else value

        begin = time.perf_counter()
        measure_service_times(request, max_requests=limits.load_test_requests,
                              seconds=limits.load_test_seconds)
        return time.perf_counter() - begin

    def run(self) -> tuple[float, float]:
        """(prediction seconds, primary-metric seconds)."""
        from grading.engine import metrics
        from grading.engine.sandbox.child import _zipmap_to_array

        start = time.perf_counter()
        (value,) = self.session.run([self.output.name], self.feeds)
        value = _zipmap_to_array(value) if self.output.kind == "zipmap" else np.asarray(value)
        predictions = value[:, 1] if value.ndim == 2 and value.shape[1] == 2 else value.ravel()
        predicted = time.perf_counter()
        metrics.compute(self.task.primary_metric, self.rows.labels, predictions,
                        self.rows.groups)
        done = time.perf_counter()
        self.predictions = predictions.astype(np.float64)
        return predicted - start, done - predicted

    def sklearn_seconds(self) -> float | None:
        fn = _sklearn_primary(self.task.primary_metric)
        if fn is None or self.predictions is None:
            return None
        seconds, _ = common.timed(lambda: fn(self.rows.labels, self.predictions))
        return seconds


# --- one job, as a worker runs it --------------------------------------------------------------


def queued_submission(case_study: Any, candidate: Any, model: bytes) -> Any:
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from grading.models import Submission

    submission = Submission(uuid=uuid.uuid4(), case_study=case_study, candidate=candidate,
                            original_filename="model.onnx", artifact_format="onnx",
                            artifact_bytes=len(model), enqueued_at=timezone.now())
    submission.artifact.save("model.bin", ContentFile(model), save=False)
    submission.save()
    return submission


def run_job(submission_id: int) -> float:
    from grading.models import Submission
    from grading.services.submissions import submission_score

    gc.collect()
    start = time.perf_counter()
    outcome = submission_score(submission_id=submission_id)
    seconds = time.perf_counter() - start
    if outcome != "scored":
        failed = Submission.objects.get(pk=submission_id)
        raise RuntimeError(f"scoring {submission_id}: {outcome}: {failed.failure_message}")
    return seconds


# --- the breakdown -------------------------------------------------------------------------------


class Recorder:
    """Wraps module attributes with timers; ``restore`` puts the originals back."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self.marks: dict[str, float] = {}
        self.probe: dict[str, Any] = {}
        self._undo: list[tuple[Any, str, Any]] = []

    def replace(self, owner: Any, name: str, value: Any) -> None:
        self._undo.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    def wrap(self, owner: Any, name: str, phase: str | Callable[..., str]) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                key = phase(*args, **kwargs) if callable(phase) else phase
                self.spent[key] += time.perf_counter() - start

        self.replace(owner, name, wrapper)

    def mark_before(self, owner: Any, name: str, mark: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            self.marks[mark] = time.time()
            return original(*args, **kwargs)

        self.replace(owner, name, wrapper)

    def mark_after(self, owner: Any, name: str, mark: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return original(*args, **kwargs)
            finally:
                self.marks[mark] = time.time()

        self.replace(owner, name, wrapper)

    def restore(self) -> None:
        while self._undo:
            owner, name, original = self._undo.pop()
            setattr(owner, name, original)


@contextlib.contextmanager
def instrumented() -> Iterator[Recorder]:
    from bench import child_probe
    from grading.engine import metrics, scoring
    from grading.engine.sandbox import runner as sandbox  # the module whose names the run calls
    from grading.services import submissions as services

    recorder = Recorder()
    wrap = recorder.wrap
    wrap(services, "heldout_load", "heldout_load")
    wrap(services, "score_artifact", "score_artifact")
    wrap(services, "score_report_save", "db_write")
    wrap(scoring, "sniff_format", "checks_outside")
    wrap(scoring, "run_in_sandbox", "run_in_sandbox")
    wrap(scoring, "evaluate_predictions", "evaluate")
    wrap(scoring, "plots_for", "plots")
    # The ONNX graph walk and the skops allow-list now run in the child (part of run_child).
    for name in ("read_artifact", "sniff_bytes"):
        wrap(sandbox, name, "checks")
    wrap(sandbox, "_write_features", "features_out")
    wrap(sandbox, "_run_child", "run_child")
    wrap(sandbox, "_read_child_file", "predictions_in")
    wrap(sandbox, "contract_validate_predictions", "predictions_in")
    wrap(scoring, "_split_metrics", "metrics")
    wrap(scoring, "_split_interval", "interval")
    wrap(scoring, "_split_per_slice", "per_slice")
    wrap(metrics, "slice_codes", "per_slice")
    # The child runs from "go" (a spare started by the job before has imported by then).
    recorder.mark_before(sandbox, "_go", "popen")
    wrap(sandbox, "_spare_start", "spare_start")
    recorder.mark_after(sandbox, "_wait", "reaped")
    read_status = sandbox._read_status

    def read_status_and_probe(job_dir: Path) -> Any:
        probe = Path(job_dir) / child_probe.PROBE_FILE
        if probe.exists():
            recorder.probe = json.loads(probe.read_text())
        return read_status(job_dir)

    recorder.replace(sandbox, "_read_status", read_status_and_probe)
    recorder.replace(sandbox, "_BOOTSTRAP", child_probe.BOOTSTRAP)
    # The probe child imports bench.child_probe, and under bubblewrap the child sees no more
    # of the repository than grading/: this run also shows it bench/, read-only.
    from grading.engine.sandbox import isolation

    mounts, bench_dir = isolation._read_only_mounts(), str(Path(child_probe.__file__).parent)
    recorder.replace(isolation, "_read_only_mounts",
                     lambda: (*mounts, "--ro-bind", bench_dir, bench_dir))
    try:
        yield recorder
    finally:
        recorder.restore()


PHASES = [
    ("bookkeeping", "lock, attempt count, artifact copy"),
    ("heldout_load", "held-out load (parquet, npy)"),
    ("checks", "artifact checks (sniff, ONNX graph)"),
    ("features_out", "features out: parent writes a .npy per column"),
    ("sandbox_start", "child start, from go (a cold child: namespaces, interpreter, imports)"),
    ("child_imports", "child imports left after go (numpy, onnxruntime)"),
    ("features_in", "features in: child reads the .npy files"),
    ("model_load", "model load (InferenceSession)"),
    ("feeds", "feeds: columns to onnxruntime inputs"),
    ("predict", "predict, all rows (the floor's part)"),
    ("latency", "latency benchmark (50 single requests)"),
    ("load_test", "serving load test (up to 1,000 single requests)"),
    ("predictions_out", "predictions out: child writes .npy"),
    ("child_exit", "child exit and reap"),
    ("child_other", "child, other"),
    ("predictions_in", "predictions in + validation"),
    ("sandbox_other", "sandbox folder, files, clean-up"),
    ("spare_start", "next job's child started (its imports run meanwhile)"),
    ("metrics", "metrics, 3 splits (primary + secondary; includes the shared sort)"),
    ("interval", "confidence intervals, 2 splits"),
    ("per_slice", "per-slice values, 2 splits"),
    ("plots", "plots, 2 splits"),
    ("evaluate_other", "evaluation, other"),
    ("db_write", "database write + leaderboard refresh"),
    ("other", "other"),
]


def breakdown(recorder: Recorder, total: float) -> dict[str, float]:
    """Seconds per phase of one instrumented job; they add up to ``total``."""
    spent, marks = recorder.spent, recorder.marks
    probe = recorder.probe
    child_marks, spans = probe.get("marks", {}), probe.get("spans", {})

    def span(name: str) -> float:
        return sum(end - begin for begin, end in spans.get(name, []))

    out: dict[str, float] = {}
    out["heldout_load"] = spent["heldout_load"]
    out["db_write"] = spent["db_write"]
    out["bookkeeping"] = total - spent["score_artifact"] - spent["heldout_load"] - spent[
        "db_write"]
    out["checks"] = spent["checks"] + spent["checks_outside"]
    out["features_out"] = spent["features_out"]
    child_wall = marks.get("reaped", 0.0) - marks.get("popen", 0.0)
    if child_marks:
        out["sandbox_start"] = child_marks["start"] - marks["popen"]
        out["child_imports"] = child_marks["onnxruntime_imported"] - child_marks["start"]
        for name in ("features_in", "model_load", "feeds", "predict", "latency", "load_test",
                     "predictions_out"):
            out[name] = span(name)
        out["child_exit"] = marks["reaped"] - child_marks["end"]
        out["child_other"] = child_wall - sum(out[k] for k in (
            "sandbox_start", "child_imports", "features_in", "model_load", "feeds", "predict",
            "latency", "load_test", "predictions_out", "child_exit"))
    else:
        out["child_other"] = child_wall
    out["predictions_in"] = spent["predictions_in"]
    out["spare_start"] = spent["spare_start"]
    out["sandbox_other"] = (spent["run_in_sandbox"] - spent["checks"] - spent["features_out"]
                            - child_wall - spent["predictions_in"] - spent["spare_start"])
    for name in ("metrics", "interval", "per_slice", "plots"):
        out[name] = spent[name]
    out["evaluate_other"] = spent["evaluate"] - sum(
        spent[k] for k in ("metrics", "interval", "per_slice", "plots"))
    accounted = sum(out.values())
    out["other"] = total - accounted
    return {key: out.get(key, 0.0) for key, _ in PHASES}


# --- confidence-interval cost -----------------------------------------------------------------


def interval_cost(task: Any, rows: HeldoutRows, predictions: np.ndarray) -> dict[str, Any]:
    """Seconds of ``confidence_interval`` over seconds of ``compute`` for the primary metric on
    each part of the split (as the scorer computes them), medians of alternating runs."""
    from grading.engine import metrics

    out: dict[str, Any] = {}
    for part, mask in (("public", rows.public), ("private", ~rows.public)):
        labels, preds = rows.labels[mask], predictions[mask]
        groups = None if rows.groups is None else rows.groups[mask]
        metric_s, interval_s = [], []
        args = (task.primary_metric, labels, preds, groups)
        for _ in range(CI_REPEATS):
            metric_s.append(common.timed(lambda a=args: metrics.compute(*a))[0])
            interval_s.append(common.timed(lambda a=args: metrics.confidence_interval(*a))[0])
        interval = metrics.confidence_interval(task.primary_metric, labels, preds, groups)
        out[part] = {"metric_seconds": median(metric_s), "interval_seconds": median(interval_s),
                     "ratio": median(interval_s) / median(metric_s), "method": interval.method,
                     "rows": int(mask.sum())}
    return out


# --- memory, in a process of its own -----------------------------------------------------------


def memory_job(submission_id: int, env: dict[str, str]) -> dict[str, Any]:
    """Score ``submission_id`` in a fresh process (like a worker's pool process) while sampling
    the resident memory of it and its sandbox child."""
    command = [common.PYTHON, "-m", "bench.scoring", "--score-one", str(submission_id)]
    process = subprocess.Popen(command, cwd=common.ROOT, env=env, stdout=subprocess.PIPE,
                               text=True)
    sampler = common.TreePeak(process.pid)
    with sampler.sampling():
        stdout, _ = process.communicate(timeout=900)
    if process.returncode != 0:
        raise RuntimeError(f"memory job failed ({process.returncode}): {stdout[-2000:]}")
    usage = json.loads(stdout.strip().splitlines()[-1])
    return {
        "peak_tree_mib": sampler.peak_total / MiB,
        "peak_worker_mib": max(sampler.peak_root, usage["worker_hwm_bytes"]) / MiB,
        "peak_child_mib": sampler.peak_children / MiB,
        "job_seconds": usage["seconds"],
        "samples": sampler.samples,
    }


def score_one(submission_id: int) -> None:
    """``--score-one``: set Django up (the environment names the database) and score.

    Reports this process's own peak (VmHWM), not ``getrusage``: Linux carries ru_maxrss
    across exec, so a process forked from a big parent would report the parent's size."""
    import django

    django.setup()
    seconds = run_job(submission_id)
    status = Path("/proc/self/status").read_text().splitlines()
    hwm_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    print(json.dumps({"seconds": seconds, "worker_hwm_bytes": hwm_kib * 1024}))


# --- the benchmark -----------------------------------------------------------------------------


def _profile(submission_ids: tuple[int, int], name: str) -> str | None:
    """Profile the second of two jobs: the first leaves it a warm spare, as the timed jobs
    have (the memory job ran elsewhere, the instrumented one left a spare of the probe)."""
    try:
        from pyinstrument import Profiler
    except ImportError:
        return None
    first, submission_id = submission_ids
    run_job(first)
    profiler = Profiler(interval=0.002)
    profiler.start()
    run_job(submission_id)
    profiler.stop()
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    directory = common.RESULTS_DIR / "profiles"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"scoring-{name}{'-quick' if QUICK else ''}.txt"
    path.write_text(text)
    return str(path.relative_to(common.ROOT))


def fixed_cost(path: Path, task: Any, rows: HeldoutRows) -> dict[str, float]:
    """The sandbox's own cost per job: ``run_in_sandbox`` on ``FIXED_ROWS`` rows with no load
    test and one latency request, so the model's work is next to nothing. Warm: half a second
    between jobs, as a worker's evaluation and database write give the spare to import; cold:
    ``SandboxLimits.warm`` off. Medians."""
    import dataclasses

    from grading.engine.sandbox import run_in_sandbox
    from grading.selectors.datasets import sandbox_limits_for

    features = rows.features.head(FIXED_ROWS)
    out: dict[str, float] = {}
    for warm in (True, False):
        limits = dataclasses.replace(sandbox_limits_for(task), warm=warm, load_test_requests=0,
                                     latency_repeats=1)
        run_in_sandbox(path, "onnx", features, task.contract, limits)  # leaves a spare (warm)
        runs = []
        for _ in range(FIXED_REPEATS):
            time.sleep(0.5)
            start = time.perf_counter()
            run_in_sandbox(path, "onnx", features, task.contract, limits)
            runs.append(time.perf_counter() - start)
        out["warm" if warm else "cold"] = median(runs)
    return out


def bench_case(slug: str, env: dict[str, str], candidate: Any) -> dict[str, Any]:
    from grading.datasets import build_dataset
    from grading.selectors.datasets import scoring_task_for
    from grading.services.datasets import dataset_secret
    from interviews.models import CaseStudy

    case_study = CaseStudy.objects.get(slug=slug)
    task = scoring_task_for(case_study)
    paths = {kind: model_path(slug, kind) for kind in MODELS}
    log(f"{slug}: building the {SOURCE_SIZE} dataset")
    built = build_dataset(slug, secret=dataset_secret(), size=SOURCE_SIZE)
    case: dict[str, Any] = {"primary_metric": task.primary_metric, "sizes": {}}
    for label, wanted in SIZES:
        rows = heldout_rows(built, label, wanted)
        dataset_for(case_study, rows)
        largest = label == SIZES[-1][0]
        size: dict[str, Any] = {"rows": rows.rows, "data_mib": rows.data_bytes / MiB,
                                "models": {}}
        if label == SIZES[0][0]:
            case["fixed_cost"] = fixed_cost(paths["example"], task, rows)
            log(f"{slug}: sandbox fixed cost warm {case['fixed_cost']['warm']:.3f}s, "
                f"cold {case['fixed_cost']['cold']:.3f}s")
        for kind, path in paths.items():
            model = path.read_bytes()
            floor = Floor(path, task, rows)
            floor.run()  # warm up: first-run allocations are not the floor
            if label == SIZES[0][0]:  # and a worker is long-lived: imports are done
                run_job(queued_submission(case_study, candidate, model).pk)
            predict_s, metric_s, serve_s, job_s = [], [], [], []
            for _ in range(REPEATS):
                p, m = floor.run()
                predict_s.append(p)
                metric_s.append(m)
                serve_s.append(floor.serve())
                job_s.append(run_job(queued_submission(case_study, candidate, model).pk))
            floor_s = [p + m + v for p, m, v in zip(predict_s, metric_s, serve_s, strict=True)]
            entry: dict[str, Any] = {
                "model_bytes": len(model),
                "floor_seconds": median(floor_s), "floor_predict_seconds": median(predict_s),
                "floor_metric_seconds": median(metric_s),
                "floor_serve_seconds": median(serve_s),
                "floor_metric_sklearn_seconds": floor.sklearn_seconds(),
                "job_seconds": median(job_s), "job_runs": job_s, "floor_runs": floor_s,
            }
            entry["ratio"] = entry["job_seconds"] / entry["floor_seconds"]
            # Twice: the first leaves a spare started with the probe for the second, which is
            # the one kept (warm, as the timed jobs).
            for _ in range(2):
                submission = queued_submission(case_study, candidate, model)
                with instrumented() as recorder:
                    total = run_job(submission.pk)
            entry["instrumented_seconds"] = total
            entry["breakdown"] = breakdown(recorder, total)
            if largest:
                entry["interval_cost"] = interval_cost(task, rows, floor.predictions)
                log(f"{slug} {label} {kind}: memory")
                entry["memory"] = memory_job(
                    queued_submission(case_study, candidate, model).pk, env)
                if entry["ratio"] > OVERHEAD_TARGET:  # a miss: where its time went
                    entry["profile"] = _profile(
                        (queued_submission(case_study, candidate, model).pk,
                         queued_submission(case_study, candidate, model).pk), f"{slug}-{kind}")
            size["models"][kind] = entry
            log(f"{slug} {label} ({rows.rows} rows) {kind}: floor {entry['floor_seconds']:.3f}s"
                f" job {entry['job_seconds']:.3f}s ratio {entry['ratio']:.1f}")
            del floor
        case["sizes"][label] = size
        del rows
        gc.collect()
    del built
    gc.collect()
    return case


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def report(cases: dict[str, dict[str, Any]]) -> Results:
    results = Results(NAME, "Scoring overhead, growth and memory")
    largest = SIZES[-1][0]
    target_label = largest if not QUICK else None
    overhead_rows, growth_rows, memory_rows, interval_rows = [], [], [], []
    fixed_rows = []
    for slug, case in cases.items():
        fixed = case["fixed_cost"]
        fixed_rows.append([slug, f"{fixed['warm']:.3f}", f"{fixed['cold']:.3f}",
                           _yes(fixed["warm"] <= FIXED_COST_TARGET)])
        results.figure(
            label=f"sandbox fixed cost per job, warm, {slug} ({FIXED_ROWS:,} rows)",
            value=fixed["warm"], unit="s", floor=fixed["cold"],
            floor_label="the same job on a cold child", ratio=fixed["warm"] / fixed["cold"],
            target=f"≤ {FIXED_COST_TARGET} s", met=fixed["warm"] <= FIXED_COST_TARGET)
        for kind in MODELS:
            times = []
            for label, _ in SIZES:
                size = case["sizes"][label]
                entry = size["models"][kind]
                times.append((size["rows"], entry["job_seconds"], entry["floor_seconds"]))
                checked = label == target_label
                met = entry["ratio"] <= OVERHEAD_TARGET if checked else None
                overhead_rows.append([
                    slug, kind, f"{size['rows']:,}", _fmt(entry["floor_predict_seconds"]),
                    _fmt(entry["floor_metric_seconds"]), _fmt(entry["floor_seconds"]),
                    _fmt(entry["job_seconds"]), f"{entry['ratio']:.1f}",
                    f"≤ {OVERHEAD_TARGET}" if checked else "", _yes(met)])
                if checked or (QUICK and label == largest):
                    results.figure(
                        label=f"scoring job, {slug}, {kind} model, {size['rows']:,} rows",
                        value=entry["job_seconds"], unit="s", floor=entry["floor_seconds"],
                        floor_label="onnxruntime predict + primary metric + load test's "
                                    "requests, in process",
                        target=f"≤ {OVERHEAD_TARGET} × floor" if checked else "(1M rows only)",
                        met=met)
                    served = entry["breakdown"]["load_test"]
                    serve_met = (served <= OVERHEAD_TARGET * entry["floor_serve_seconds"]
                                 if checked else None)
                    results.figure(
                        label=f"serving load test in the sandbox, {slug}, {kind} model",
                        value=served, unit="s", floor=entry["floor_serve_seconds"],
                        floor_label="the same requests back to back in process",
                        target=f"≤ {OVERHEAD_TARGET} × floor" if checked else "(1M rows only)",
                        met=serve_met)
            if len(times) > 1:
                (n_small, t_small, _), (n_big, t_big, _) = times[-2], times[-1]
                exponent = math.log(t_big / t_small) / math.log(n_big / n_small)
                growth_rows.append([slug, kind] + [_fmt(t) for _, t, _ in times] + [
                    f"{t_big / n_big * 1e6:.2f}", f"{exponent:.2f}", _yes(exponent <= 1.1)])
                results.figure(
                    label=f"scoring growth exponent {n_small:,}→{n_big:,} rows, {slug}, {kind}",
                    value=exponent, unit="", floor=1.0, floor_label="linear",
                    ratio=exponent, target="≤ 1.1 (about linear)", met=exponent <= 1.1)
            entry = case["sizes"][largest]["models"][kind]
            memory = entry["memory"]
            data_mib = case["sizes"][largest]["data_mib"]
            memory_rows.append([
                slug, kind, f"{case['sizes'][largest]['rows']:,}", f"{data_mib:.0f}",
                f"{memory['peak_worker_mib']:.0f}", f"{memory['peak_child_mib']:.0f}",
                f"{memory['peak_tree_mib']:.0f}", f"{memory['peak_tree_mib'] / data_mib:.1f}"])
            results.figure(
                label=f"peak memory (worker + sandbox child), {slug}, {kind}, "
                      f"{case['sizes'][largest]['rows']:,} rows",
                value=memory["peak_tree_mib"], unit="MiB", floor=data_mib,
                floor_label="held-out split in memory (features, labels, groups)",
                target="(none: measured)")
            if kind == "example":
                cost = entry["interval_cost"]
                worst = max(cost.values(), key=lambda c: c["ratio"])
                for part, c in cost.items():
                    interval_rows.append([
                        slug, case["primary_metric"], c["method"], part, f"{c['rows']:,}",
                        f"{c['metric_seconds'] * 1000:.1f}",
                        f"{c['interval_seconds'] * 1000:.1f}", f"{c['ratio']:.2f}",
                        _yes(c["ratio"] <= CI_TARGET)])
                results.figure(
                    label=f"confidence interval, {slug} ({case['primary_metric']}, "
                          f"{worst['method']})",
                    value=worst["interval_seconds"], unit="s", floor=worst["metric_seconds"],
                    floor_label="one primary-metric computation on the same rows",
                    target=f"≤ {CI_TARGET} computations", met=worst["ratio"] <= CI_TARGET)
    results.table(
        "Scoring job against its floor",
        ["case study", "model", "rows", "floor predict s", "floor metric s", "floor s",
         "job s", "job / floor", "target", "met?"],
        overhead_rows,
        note="Medians of alternating runs. Floor: onnxruntime (one thread, like the sandbox) "
             "on feeds already in memory plus one `grading.engine.metrics` computation of the "
             "primary metric, plus the serving load test's requests back to back (floor s "
             "includes them). Job: `grading.services.submissions.submission_score`, what a "
             "worker runs per task, on the warm sandbox.")
    results.table(
        "The sandbox's fixed cost per job",
        ["case study", "warm s", "cold s", f"warm ≤ {FIXED_COST_TARGET} s?"], fixed_rows,
        note=f"`run_in_sandbox` on {FIXED_ROWS:,} rows of the example model, no load test, one "
             "latency request: job folder, features out, child, predictions in. Warm: the child "
             "was started when the job before ended (0.5 s before, as a worker's evaluation "
             f"and database write give it); cold: started for the job. Medians of "
             f"{FIXED_REPEATS}.")
    results.table(
        "Growth of the scoring job with held-out rows",
        ["case study", "model"] + [f"{label} s" for label, _ in SIZES]
        + ["s per 1M rows (largest)", "exponent (last two sizes)", "≤ 1.1?"],
        growth_rows,
        note="Exponent b in time ∝ rows^b between the two largest sizes: 1 is linear, below 1 "
             "means fixed costs still weigh.")
    results.table(
        "Confidence interval cost, in primary-metric computations",
        ["case study", "primary", "method", "part", "rows", "metric ms", "interval ms",
         "ratio", "≤ 2?"], interval_rows)
    results.table(
        "Peak resident memory while scoring the largest split",
        ["case study", "model", "rows", "held-out data MiB", "worker peak MiB",
         "sandbox child peak MiB", "worker + child peak MiB", "peak / data"], memory_rows,
        note="Sampled every 10 ms over the process tree of a fresh process that runs one job "
             "(the worker's own peak is also read from its VmHWM). The sandbox's limit is "
             "RLIMIT_AS 1536 MiB of address space.")
    phase_rows = []
    slugs = list(cases)
    for key, label in PHASES:
        row = [label]
        for slug in slugs:
            entry = cases[slug]["sizes"][largest]["models"]["example"]
            seconds = entry["breakdown"][key]
            row.append(f"{seconds:.3f} ({seconds / entry['instrumented_seconds'] * 100:.0f} %)")
        phase_rows.append(row)
    phase_rows.append(["**total (instrumented run)**"] + [
        f"{cases[s]['sizes'][largest]['models']['example']['instrumented_seconds']:.3f}"
        for s in slugs])
    phase_rows.append(["floor (predict + 1 primary metric + load test)"] + [
        f"{cases[s]['sizes'][largest]['models']['example']['floor_seconds']:.3f}"
        for s in slugs])
    results.table(
        f"Where the job's time goes ({largest} rows, example model), seconds (share)",
        ["phase", *slugs], phase_rows,
        note="One run with timers around each phase; the sandbox child is "
             "`bench.child_probe`, which runs `grading.engine.sandbox.child.main` unchanged and "
             "notes when each phase starts and ends.")
    results.details = {"sizes": SIZES, "models": MODELS, "repeats": REPEATS, "cases": cases}
    return results


def _yes(met: bool | None) -> str:
    return "" if met is None else ("yes" if met else "**no**")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--score-one", type=int)
    parser.add_argument("--cases", default="", help="comma-separated case-study slugs")
    parser.add_argument("--sizes", default="", help="comma-separated labels, e.g. 1M")
    args = parser.parse_args()
    if args.sizes:
        SIZES[:] = [s for s in SIZES if s[0] in args.sizes.split(",")]
    if args.score_one is not None:
        score_one(args.score_one)
        return
    common.services_check()
    env = common.django_setup(DB_NAME, DATA_DIR)
    from django.contrib.auth import get_user_model

    from grading.datasets import CASE_SLUGS

    candidate = get_user_model().objects.create_user("bench-scorer", password=None)
    slugs = [s for s in args.cases.split(",") if s] or list(CASE_SLUGS)
    cases = {slug: bench_case(slug, env, candidate) for slug in slugs}
    report(cases).write()
    from django.db import connections

    connections.close_all()
    common.database_drop(DB_NAME)
    for name in ("private", "media"):  # ~0.5 GB of held-out files and artifacts
        shutil.rmtree(DATA_DIR / name, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
