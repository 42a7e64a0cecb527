"""Hostile artifacts through the whole pipeline with a real worker: each is refused at
upload (no quota used) or ends failed with its reason (its quota used: only our own failures
give it back); nothing is read that should not be, the worker lives, the leaderboard is
unchanged, and an honest model then scores on the same worker."""

import time
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from grading.models import Leaderboard, LeaderboardEntry, QuotaUsage, Submission
from grading.services.submissions import SubmissionRefused, submission_create
from grading.tests import hostile
from interviews.models import CaseStudy
from interviews.tests.factories import candidate

pytestmark = [pytest.mark.services, pytest.mark.slow]

SLUG = "food-delivery-time"  # one float32 input of 11 columns, a regression output
LIMITS = {
    "CELERY_VISIBILITY_TIMEOUT": "30",
    "CELERY_TASK_TIME_LIMIT": "25",
    "CELERY_TASK_SOFT_TIME_LIMIT": "20",
    # A skops child spends 3-4 s of CPU importing skops, scikit-learn and scipy before it
    # can refuse a file, more on a busy machine: the CPU limit must leave room for that.
    "SANDBOX_CPU_SECONDS": "8",
    "SANDBOX_WALL_SECONDS": "14",
    "SANDBOX_MEMORY_MB": "1024",
}


@pytest.fixture
def eleven_features(monkeypatch):
    # The builders make 3-feature models; this case study's contract has 11 columns.
    monkeypatch.setattr(hostile, "N_FEATURES", 11)
    monkeypatch.setattr(hostile, "WEIGHTS", np.full((11, 1), 0.01, dtype=np.float32))


# (builder, expected failure reason in the worker): what only running the model shows.
WORKER_CASES = {
    "memory hog": (lambda d: hostile.memory_hog_onnx(d / "m.onnx"), "resource_limit"),
    "endless loop": (lambda d: hostile.infinite_loop_onnx(d / "m.onnx"), "timeout"),
    "NaN outputs": (lambda d: hostile.shifted_onnx(d / "m.onnx", float("nan")),
                    "invalid_output"),
    "infinite outputs": (lambda d: hostile.shifted_onnx(d / "m.onnx", float("inf")),
                         "invalid_output"),
    "wrong number of rows": (lambda d: hostile.wrong_rows_onnx(d / "m.onnx"),
                             "invalid_output"),
    # Issue 13: regression outputs of 1e200.
    "regression outputs of 1e200": (lambda d: hostile.huge_regression_onnx(d / "m.onnx"),
                                     "invalid_output"),
}
PLANTED = "labels.npy"  # the file the skops model would read, in its case's folder
# What each message must name, so a refusal for another reason does not pass.
NAMED = {
    "skops reading a file": "CountVectorizer",
    "skops FunctionTransformer": "numpy.log1p",
    "skops callable parameter": "numpy.log1p",
    "ONNX of empty nodes": "without an operator type",
    "regression outputs of 1e200": "1e+200",
}
# Refused at upload (no quota used): by the sniff, or by the static checks' child (issue 14).
UPLOAD_CASES = {
    "pickle as .onnx": lambda d: d.joinpath("m.onnx").write_bytes(
        hostile.malicious_pickle(d / "pwned")) and d / "m.onnx",
    "joblib (zlib) pickle": lambda d: hostile.zlib_pickle(d / "pwned", d / "m.joblib"),
    "zip bomb": lambda d: hostile.zip_bomb(d / "m.skops"),
    "truncated ONNX": lambda d: hostile.truncated(hostile.good_onnx(d / "g.onnx"),
                                                   d / "m.onnx"),
    "empty file": lambda d: d.joinpath("m.onnx").write_bytes(b"") or d / "m.onnx",
    "external data path": lambda d: hostile.external_data_onnx(d / "m.onnx"),
    "custom operator domain": lambda d: hostile.custom_op_onnx(d / "m.onnx"),
    "wrong input names": lambda d: hostile.wrong_input_names_onnx(d / "m.onnx"),
    "skops naming posix.system": lambda d: hostile.skops_posix_system(d / "m.skops"),
    # Issue 13: a skops model that opens a file (a stand-in for the held-out labels) when it
    # predicts, passing skops' default trust; skops models holding functions; a graph of a
    # million empty nodes (once walked in the worker itself).
    "skops reading a file": lambda d: hostile.skops_file_reader(
        d / "m.skops", hostile.write(d / PLANTED, b"pos neg pos"), hostile.N_FEATURES),
    "skops FunctionTransformer": lambda d: hostile.skops_with_function(
        d / "m.skops", np.log1p, hostile.N_FEATURES),
    "skops callable parameter": lambda d: hostile.skops_with_function(
        d / "m.skops", np.log1p, hostile.N_FEATURES, where="target"),
    "ONNX of empty nodes": lambda d: hostile.empty_nodes_onnx(d / "m.onnx"),
}


def leaderboard_snapshot() -> list[tuple]:
    return list(LeaderboardEntry.objects.order_by("pk").values_list(
        "display_name", "public_primary", "private_primary", "submission_id"))


def wait_until_final(submissions, worker, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(Submission.objects.get(pk=s.pk).is_final for s in submissions):
            return
        assert worker.poll() is None, worker.log_path.read_text()[-3000:]
        time.sleep(0.5)


def test_hostile_artifacts_fail_with_their_reason_and_nothing_else_changes(
        eleven_features, scored, tmp_path, celery_workers):
    scored(SLUG, candidate(username="honest"), public=6.0, private=6.1)
    before = leaderboard_snapshot()
    worker = celery_workers(env=LIMITS, concurrency=1)
    user = candidate(username="mallory")
    case_study = CaseStudy.objects.get(slug=SLUG)
    Leaderboard.objects.filter(case_study=case_study).update(daily_quota=50)

    refused = {}
    for name, build in UPLOAD_CASES.items():
        folder = tmp_path / name.replace(" ", "-").replace(".", "")
        folder.mkdir()
        path = Path(build(folder))
        if (folder / PLANTED).exists():  # before the upload: its checks must not read it
            planted, reads_recorded = folder / PLANTED, hostile.reads_are_recorded(folder)
            planted_atime = hostile.stale_atime(planted)
        with pytest.raises(SubmissionRefused) as info:
            submission_create(candidate=user, case_study=case_study,
                                       upload=SimpleUploadedFile(path.name, path.read_bytes()))
        refused[name] = info.value.message
        assert not (folder / "pwned").exists()

    assert not QuotaUsage.objects.filter(candidate=user).exists()  # refusals cost nothing

    submitted = {}
    for name, (build, _) in WORKER_CASES.items():
        folder = tmp_path / name.replace(" ", "-").replace(".", "")
        folder.mkdir()
        path = Path(build(folder))
        submitted[name] = submission_create(
            candidate=user, case_study=case_study,
            upload=SimpleUploadedFile(path.name, path.read_bytes()))

    wait_until_final(submitted.values(), worker)
    outcomes = {name: Submission.objects.get(pk=s.pk) for name, s in submitted.items()}
    observed = {name: (s.status, s.failure_reason) for name, s in outcomes.items()}
    expected = {name: ("failed", reason) for name, (_, reason) in WORKER_CASES.items()}
    assert observed == expected, worker.log_path.read_text()[-3000:]
    for submission in outcomes.values():
        assert submission.failure_message and "Traceback" not in submission.failure_message
        assert "/tmp" not in submission.failure_message
        assert submission.attempts == 1  # a hostile file never costs a retry
        assert not submission.quota_refunded  # and costs its quota slot: no free re-runs
    for name, word in NAMED.items():
        message = refused[name] if name in refused else outcomes[name].failure_message
        assert word in message, (name, message)
    if reads_recorded:  # on a noatime mount only the refusal shows that nothing ran
        assert planted.stat().st_atime_ns == planted_atime, "the planted file was read"
    assert QuotaUsage.objects.get(candidate=user).used == len(WORKER_CASES)

    assert worker.poll() is None  # the worker lived through all of them
    assert leaderboard_snapshot() == before
    assert set(refused) == set(UPLOAD_CASES)

    # ... and still scores an honest model.
    path = hostile.good_onnx(tmp_path / "good.onnx")
    honest = submission_create(candidate=user, case_study=case_study,
                               upload=SimpleUploadedFile(path.name, path.read_bytes()))
    wait_until_final([honest], worker, seconds=120)
    honest.refresh_from_db()
    assert honest.status == Submission.Status.SCORED, honest.failure_message
    assert worker.poll() is None
