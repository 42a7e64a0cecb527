"""The warm sandbox (``grading.engine.sandbox.warm``): after a job, the next job's child is
already started under the same isolation, and a job run on it sees nothing of the one before.

CI runs this file twice (``.ci/run``): as root and as an unprivileged user.
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path

import numpy as np
import pytest

from grading.engine.sandbox import SandboxLimits, run_in_sandbox, sandbox_isolation
from grading.engine.sandbox.warm import spare_discard, spare_waiting
from grading.tests import hostile
from grading.tests.sandbox_probe import CONTRACT, dumps, probe_child

SANDBOX_LOGGER = "grading.engine.sandbox"


@pytest.fixture(autouse=True)
def no_spare_around():
    """Each test starts with no spare waiting, and leaves none."""
    isolation = sandbox_isolation(SandboxLimits())
    if isolation.missing:
        pytest.fail(f"bubblewrap is not usable here: {isolation.missing}")
    spare_discard()
    yield
    spare_discard()


def _score(tmp_path: Path, limits: SandboxLimits) -> None:
    features = tmp_path / "features.npz"
    rows = np.random.default_rng(1).normal(size=(40, 3)).astype(np.float32)
    np.savez(features, **{name: rows[:, i] for i, name in enumerate("abc")})
    model = tmp_path / "good.onnx"
    if not model.exists():
        hostile.good_onnx(model)
    result = run_in_sandbox(model, None, features, CONTRACT, limits)
    np.testing.assert_allclose(result.predictions, hostile.expected_good_scores(rows),
                               atol=1e-6)


def _runs(caplog) -> list[str]:
    """The ``warm=`` word of every ``sandbox run:`` line logged so far."""
    return [record.getMessage().rsplit("warm=", 1)[1] for record in caplog.records
            if record.getMessage().startswith("sandbox run:")]


def test_the_next_job_runs_on_a_child_started_when_the_last_one_ended(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=SANDBOX_LOGGER)
    limits = SandboxLimits(latency_repeats=2, load_test_requests=0)
    _score(tmp_path, limits)
    spare = spare_waiting()
    assert spare is not None and spare.alive()
    assert os.listdir(spare.job_dir) == []  # nothing of a job until the job comes
    first = spare.proc.pid

    _score(tmp_path, limits)
    assert _runs(caplog) == ["no", "yes"]
    assert not spare.job_dir.exists()  # its folder went with its job
    after = spare_waiting()
    assert after is not None and after.alive() and after.proc.pid != first


def test_a_warm_job_sees_nothing_the_job_before_it_left(tmp_path, caplog, monkeypatch):
    """The same probe twice, the second on the spare started after the first: the process,
    the files in /tmp and in its folder that the first one left are not there."""
    caplog.set_level(logging.INFO, logger=SANDBOX_LOGGER)
    code = """
import subprocess
attempt("pids", lambda: sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
attempt("tmp", lambda: sorted(os.listdir("/tmp")))
attempt("folder", lambda: sorted(os.listdir(".")))
attempt("uid", os.getuid)
# What a hostile job could leave for the next: a process, a file in /tmp, one in its folder.
attempt("leave a process", lambda: subprocess.Popen(["/usr/bin/sleep", "60"],
                                                    start_new_session=True).pid)
attempt("leave a file", lambda: open("/tmp/left-behind", "w").write("x"))
attempt("leave another", lambda: open("left-behind", "w").write("x"))
"""
    first = probe_child(monkeypatch, tmp_path, code)
    assert first["leave a process"][0] == "ok" and first["leave a file"][0] == "ok", dumps(first)
    second = probe_child(monkeypatch, tmp_path, code)
    assert _runs(caplog) == ["no", "yes"]
    assert second["pids"] == ["ok", [1, 2]], dumps(second)
    # /tmp as the first job found it (empty, or the folders that lead to the code when the
    # checkout lives under the host's /tmp), without what it left there.
    assert second["tmp"] == first["tmp"] and "left-behind" not in second["tmp"][1], dumps(second)
    assert second["folder"] == ["ok", ["features", "job.json", "model.onnx"]], dumps(second)
    assert second["uid"] == first["uid"] and second["host uid"] == first["host uid"]


def test_a_spare_that_died_is_replaced_by_a_cold_start_of_the_job(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=SANDBOX_LOGGER)
    limits = SandboxLimits(latency_repeats=2, load_test_requests=0)
    _score(tmp_path, limits)
    spare = spare_waiting()
    assert spare is not None
    os.killpg(spare.proc.pid, signal.SIGKILL)
    spare.proc.wait()
    _score(tmp_path, limits)  # scored all the same
    assert _runs(caplog) == ["no", "no"]


def test_a_job_under_other_limits_does_not_take_the_spare(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=SANDBOX_LOGGER)
    _score(tmp_path, SandboxLimits(latency_repeats=2, load_test_requests=0))
    spare = spare_waiting()
    assert spare is not None
    _score(tmp_path, SandboxLimits(latency_repeats=2, load_test_requests=0, cpu_seconds=9))
    assert _runs(caplog) == ["no", "no"]
    assert spare.proc.poll() is not None  # killed, not left waiting
    assert spare_waiting() is not None and spare_waiting() is not spare


def test_with_the_warm_sandbox_off_no_child_is_left_waiting(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=SANDBOX_LOGGER)
    limits = SandboxLimits(latency_repeats=2, load_test_requests=0, warm=False)
    _score(tmp_path, limits)
    _score(tmp_path, limits)
    assert _runs(caplog) == ["no", "no"]
    assert spare_waiting() is None


def test_a_scoring_worker_process_starts_its_first_jobs_child(settings, tmp_path, caplog):
    from grading.tasks import _start_warm_sandbox

    caplog.set_level(logging.INFO, logger=SANDBOX_LOGGER)
    _start_warm_sandbox()
    spare = spare_waiting()
    assert spare is not None and spare.alive()
    settings.SANDBOX_WARM = False
    spare_discard()
    _start_warm_sandbox()
    assert spare_waiting() is None


def test_a_job_on_another_thread_leaves_no_child_waiting(tmp_path, caplog):
    """A child dies with the thread that started it: a threaded server's request thread
    ends after its request, so only the main thread keeps a spare."""
    import threading

    caplog.set_level(logging.INFO, logger=SANDBOX_LOGGER)
    limits = SandboxLimits(latency_repeats=2, load_test_requests=0)
    errors: list[BaseException] = []

    def job() -> None:
        try:
            _score(tmp_path, limits)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=job)
    thread.start()
    thread.join()
    assert not errors, errors
    assert _runs(caplog) == ["no"] and spare_waiting() is None
