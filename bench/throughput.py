"""Worker throughput: N small submissions uploaded at once, drained by 1 and by 2 real Celery
worker processes on Redis and PostgreSQL; submissions per minute, and none lost.

The submissions go through ``grading.services.submission_create`` (format sniff, quota,
storage, enqueue on commit), exactly like the upload view. The floor is the same job run
back to back in this process with no broker (``submission_score``): the rate a worker would
reach if the pipeline cost nothing, times the number of workers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import timedelta
from typing import Any

from bench import common
from bench.common import QUICK, Results, log, median
from bench.models import model_path

NAME = "throughput"
DB_NAME = "mlsd_bench_throughput"
DATA_DIR = common.VAR_DIR / "throughput"
SLUG = "ad-click-prediction"
SUBMISSIONS = 20 if QUICK else 100
PER_CANDIDATE = 5  # the default daily quota
FLOOR_JOBS = 3 if QUICK else 5
WORKER_COUNTS = (1, 2)
DRAIN_TIMEOUT = 600.0


def start_workers(count: int, env: dict[str, str], tag: str) -> list[subprocess.Popen[bytes]]:
    workers = []
    for i in range(count):
        log_file = (DATA_DIR / f"worker-{tag}-{i}.log").open("w")
        workers.append(subprocess.Popen(
            [common.PYTHON, "-m", "celery", "-A", "mlsd_site", "worker", "--loglevel=INFO",
             "--concurrency=1", "--pool=prefork", "--prefetch-multiplier=1",
             "--without-mingle", "--without-gossip", "-n", f"bench-{tag}-{i}@%h"],
            cwd=common.ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True))
    return workers


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()


def wait_ready(workers: list[subprocess.Popen[bytes]], tag: str, timeout: float = 90.0) -> None:
    from grading.models import WorkerHeartbeat

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if WorkerHeartbeat.objects.filter(hostname__startswith=f"bench-{tag}-").count() >= len(
                workers):
            return
        if any(w.poll() is not None for w in workers):
            raise RuntimeError(f"a worker exited early; see {DATA_DIR}/worker-{tag}-*.log")
        time.sleep(0.2)
    raise RuntimeError(f"workers not ready after {timeout:.0f} s")


def candidates(tag: str, count: int) -> list[Any]:
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    return [user_model.objects.create_user(f"bench-{tag}-{i}", password=None)
            for i in range(count)]


def drain(case_study: Any, model: bytes, workers: int, env: dict[str, str]) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db.models import Max, Min
    from django.utils import timezone
    from redis import Redis

    from grading.models import Submission
    from grading.services.submissions import submission_create

    Redis.from_url(common.REDIS_URL).flushdb()
    tag = f"w{workers}"
    people = candidates(tag, -(-SUBMISSIONS // PER_CANDIDATE))
    processes = start_workers(workers, env, tag)
    try:
        wait_ready(processes, tag)
        log(f"{workers} worker(s) ready; uploading {SUBMISSIONS} submissions")
        started = timezone.now()
        clock = time.perf_counter()
        ids = []
        for i in range(SUBMISSIONS):
            upload = SimpleUploadedFile("model.onnx", model)
            submission = submission_create(
                candidate=people[i // PER_CANDIDATE], case_study=case_study, upload=upload)
            ids.append(submission.pk)
        enqueue_seconds = time.perf_counter() - clock
        queued = Submission.objects.filter(pk__in=ids)
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while time.monotonic() < deadline:
            if queued.filter(status__in=["scored", "failed"]).count() == len(ids):
                break
            if any(p.poll() is not None for p in processes):
                raise RuntimeError(f"a worker died; see {DATA_DIR}/worker-{tag}-*.log")
            time.sleep(0.2)
        stats = queued.aggregate(last=Max("finished_at"), first_start=Min("started_at"))
        rows = list(queued.values("status", "attempts", "started_at", "finished_at",
                                  "enqueued_at"))
    finally:
        stop_workers(processes)
    scored = sum(r["status"] == "scored" for r in rows)
    failed = sum(r["status"] == "failed" for r in rows)
    final = [r for r in rows if r["finished_at"] and r["started_at"]]
    last = stats["last"] or started + timedelta(seconds=DRAIN_TIMEOUT)
    seconds = (last - started).total_seconds()
    return {
        "workers": workers,
        "submissions": len(ids),
        "scored": scored,
        "failed": failed,
        "lost": len(ids) - scored - failed,
        "max_attempts": max((r["attempts"] for r in rows), default=0),
        "enqueue_seconds": enqueue_seconds,
        "drain_seconds": seconds,
        "per_minute": scored / seconds * 60 if seconds > 0 else 0.0,
        "job_seconds_median": median([
            (r["finished_at"] - r["started_at"]).total_seconds() for r in final]),
        "wait_seconds_median": median([
            (r["started_at"] - r["enqueued_at"]).total_seconds() for r in final]),
        "first_start_after_seconds": (stats["first_start"] - started).total_seconds()
        if stats["first_start"] else None,
    }


def floor_job_seconds(case_study: Any, model: bytes) -> list[float]:
    from bench.scoring import queued_submission, run_job

    candidate = candidates("floor", 1)[0]
    run_job(queued_submission(case_study, candidate, model).pk)  # warm up
    return [run_job(queued_submission(case_study, candidate, model).pk)
            for _ in range(FLOOR_JOBS)]


def main() -> None:
    common.services_check()
    env = common.django_setup(DB_NAME, DATA_DIR)
    from grading.services.datasets import dataset_build
    from interviews.models import CaseStudy

    case_study = CaseStudy.objects.get(slug=SLUG)
    dataset, built = dataset_build(case_study=case_study, size="tiny")
    model = model_path(SLUG, "example").read_bytes()
    log(f"floor: {FLOOR_JOBS} jobs in process on {dataset.heldout_rows} held-out rows")
    floor_runs = floor_job_seconds(case_study, model)
    floor_job = median(floor_runs)
    runs = [drain(case_study, model, count, env) for count in WORKER_COUNTS]

    results = Results(NAME, "Worker throughput")
    rows = []
    for run in runs:
        floor_rate = 60.0 / floor_job * run["workers"]
        none_lost = run["lost"] == 0 and run["failed"] == 0
        results.figure(
            label=f"{run['submissions']} submissions drained by {run['workers']} worker(s)",
            value=run["per_minute"], unit="submissions/min", floor=floor_rate,
            floor_label=f"{run['workers']} × 60 s / in-process job time (no broker)",
            target="none lost (all scored)", met=none_lost,
            note=f"{run['scored']} scored, {run['failed']} failed, {run['lost']} lost")
        rows.append([run["workers"], run["submissions"], f"{run['enqueue_seconds']:.1f}",
                     f"{run['drain_seconds']:.1f}", f"{run['per_minute']:.0f}",
                     f"{floor_rate:.0f}", f"{run['per_minute'] / floor_rate:.2f}",
                     f"{run['job_seconds_median']:.2f}", run["scored"], run["failed"],
                     run["lost"], run["max_attempts"]])
    one, two = runs[0], runs[-1]
    results.figure(label="2 workers against 1", value=two["per_minute"], unit="submissions/min",
                   floor=one["per_minute"], floor_label="1 worker, same run",
                   target="(none: 2 cores, so at most 2)")
    results.table(
        "Draining the queue",
        ["workers", "submissions", "upload s", "drain s", "per min", "floor per min",
         "ratio", "job s in worker (median)", "scored", "failed", "lost", "max attempts"],
        rows,
        note=f"Case study {SLUG}, tiny held-out split ({dataset.heldout_rows} rows), the "
             "page-example model; uploads through `submission_create` while the workers "
             "run; drain = first upload to the last `finished_at`. Floor job: "
             f"{floor_job:.3f} s (median of {FLOOR_JOBS}).")
    results.details = {"floor_job_seconds": floor_runs, "runs": runs, "slug": SLUG,
                       "heldout_rows": dataset.heldout_rows, "built_rows": built.n_heldout}
    results.write()
    from django.db import connections

    connections.close_all()
    common.database_drop(DB_NAME)


if __name__ == "__main__":
    main()
