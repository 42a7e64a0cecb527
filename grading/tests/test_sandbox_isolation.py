"""The sandbox from the inside: what a hostile model could reach, tried by code running as the
child under the real bubblewrap (``sandbox_probe``), and the refusal to score when bubblewrap
cannot isolate it.

CI runs this file twice (``.ci/run``): as root, as ``make run`` does on a developer's
machine, and as an unprivileged user, as the Docker image's workers run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pytest

from conftest import skip_or_fail
from grading.engine.errors import FailureReason, ScoringError
from grading.engine.sandbox import (
    Isolation,
    SandboxLimits,
    network_isolation_available,
    run_in_sandbox,
    runner,
    sandbox_isolation,
)
from grading.engine.sandbox.isolation import REPO_ROOT
from grading.engine.sandbox.limits import NOBODY
from grading.tests import hostile
from grading.tests.sandbox_probe import CONTRACT, dumps, failed, probe_child

SANDBOX_LOGGER = "grading.engine.sandbox"


@pytest.fixture(scope="module")
def in_force():
    """The isolation the probes run under: bubblewrap, or the test fails saying why."""
    isolation = sandbox_isolation(SandboxLimits())
    if isolation.missing:
        pytest.fail(f"bubblewrap is not usable here: {isolation.missing}")
    return isolation


def _can_connect(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def test_the_child_reaches_no_network(in_force, monkeypatch, tmp_path):
    # PostgreSQL and Redis listen here (CI starts them): the child's failure to reach them is
    # the sandbox's doing, not an absent service.
    for port in (5432, 6379):
        if not _can_connect(port):
            skip_or_fail(f"nothing listens on 127.0.0.1:{port}, so this proves nothing")
    seen = probe_child(monkeypatch, tmp_path, """
import socket
def connect(host, port):
    with socket.create_connection((host, port), timeout=3):
        return "connected"
attempt("postgres", lambda: connect("127.0.0.1", 5432))
attempt("redis", lambda: connect("127.0.0.1", 6379))
attempt("outside", lambda: connect("1.1.1.1", 53))
attempt("interfaces", lambda: [name for _, name in socket.if_nameindex()])
""")
    assert failed(seen["postgres"]) and failed(seen["redis"]), dumps(seen)
    assert failed(seen["outside"]), dumps(seen)
    assert seen["interfaces"] == ["ok", ["lo"]]


@pytest.fixture
def planted(tmp_path):
    """Secret files the child must not read, readable by this process (and by anyone: only
    the sandbox's mounts stand in their way): one in a folder standing in for
    PRIVATE_DATA_ROOT, one in the repository's ``var/`` when this user may write there."""
    private = tmp_path / "private" / "heldout"
    private.mkdir(parents=True)
    secrets = [private / "labels.npy"]
    var_secret = REPO_ROOT / "var" / f"planted-{uuid.uuid4().hex}.secret"
    if os.access(var_secret.parent, os.W_OK):
        secrets.append(var_secret)
    for path in secrets:
        path.write_text("held-out labels: 1 0 1 1 0\n")
        path.chmod(0o644)
    yield secrets
    var_secret.unlink(missing_ok=True)


def test_the_child_reads_no_file_outside_its_folder(in_force, monkeypatch, tmp_path, planted):
    # What the worker can read and a model must not: the planted secrets, the code's settings
    # and entry points, the data folder, the rest of the virtualenv.
    targets = [*planted, REPO_ROOT / "mlsd_site" / "settings.py", REPO_ROOT / "manage.py",
               Path(sys.prefix) / "bin" / "pip", Path("/etc/passwd")]
    targets = [path for path in targets if path.is_file()]
    for path in targets:
        path.read_bytes()  # this process can: the child's failure is the sandbox's doing
    folders = [REPO_ROOT / "var", planted[0].parent, REPO_ROOT / "mlsd_site"]
    seen = probe_child(monkeypatch, tmp_path, f"""
for path in {json.dumps([str(p) for p in targets])}:
    attempt("read " + path, lambda path=path: open(path, "rb").read(64))
for path in {json.dumps([str(p) for p in folders])}:
    attempt("list " + path, lambda path=path: os.listdir(path))
attempt("repo", lambda: sorted(os.listdir({str(REPO_ROOT)!r})))
attempt("root", lambda: sorted(os.listdir("/")))
attempt("own folder", lambda: sorted(os.listdir(".")))
""")
    for path in targets:
        assert failed(seen[f"read {path}"]), dumps(seen)
    for path in folders:
        assert failed(seen[f"list {path}"]), dumps(seen)
    # Of the repository only the code it runs (and the virtualenv's interpreter parts).
    assert seen["repo"][1] in (["grading"], [".venv", "grading"]), dumps(seen)
    assert set(seen["root"][1]) <= {"usr", "lib", "lib64", "lib32", "libx32", "etc",
                                          "proc", "dev", "tmp", "job", *REPO_ROOT.parts[1:2],
                                          *Path(sys.base_prefix).parts[1:2]}, dumps(seen)
    assert seen["own folder"][1] == ["features", "job.json", "model.onnx"]


def test_of_the_repository_only_the_code_is_mounted():
    from grading.engine.sandbox import isolation

    args = isolation._read_only_mounts()
    sources = [Path(args[i + 1]) for i, arg in enumerate(args) if arg == "--ro-bind"]
    in_repo = [path for path in sources if REPO_ROOT in path.parents]
    code = {REPO_ROOT / "grading" / "__init__.py", REPO_ROOT / "grading" / "engine"}
    assert code <= set(in_repo)
    # Anything else of the checkout is the virtualenv's interpreter parts, never var/.
    assert all(path in code or Path(sys.prefix) in path.parents for path in in_repo), in_repo
    assert REPO_ROOT not in sources


def test_a_checkout_inside_usr_is_hidden_but_for_its_code(monkeypatch):
    from grading.engine.sandbox import isolation

    monkeypatch.setattr(isolation, "REPO_ROOT", Path("/usr/share"))  # stands for /usr/src/app
    args = list(isolation._read_only_mounts.__wrapped__())
    assert args[args.index("--tmpfs") + 1] == "/usr/share"
    assert args.index("--tmpfs") > args.index("/usr")  # over the /usr bind, not under it


def test_the_child_sees_no_other_process(in_force, monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "do-not-leak")
    monkeypatch.setenv("DATABASE_URL", "postgres://do-not-leak")
    worker = os.getpid()
    seen = probe_child(monkeypatch, tmp_path, f"""
attempt("worker environ", lambda: open("/proc/{worker}/environ", "rb").read(200))
attempt("signal the worker", lambda: os.kill({worker}, 0))
attempt("pids", lambda: sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
attempt("environ", lambda: sorted(os.environ))
""")
    assert failed(seen["worker environ"]) and failed(seen["signal the worker"]), dumps(seen)
    assert "ProcessLookupError" in seen["signal the worker"][1]
    # Its own PID namespace: bubblewrap's init and the child, nothing of the host.
    assert seen["pids"][1] == [1, 2], dumps(seen)
    assert "SECRET_KEY" not in seen["environ"][1] and "DATABASE_URL" not in seen["environ"][1]


def test_the_child_cannot_change_the_code_it_runs(in_force, monkeypatch, tmp_path):
    child = REPO_ROOT / "grading" / "engine" / "sandbox" / "child.py"
    before = hashlib.sha256(child.read_bytes()).hexdigest()
    new_module = REPO_ROOT / "grading" / "engine" / f"planted_{uuid.uuid4().hex}.py"
    site_packages = Path(np.__file__).parents[1]
    seen = probe_child(monkeypatch, tmp_path, f"""
attempt("append child.py", lambda: open({str(child)!r}, "a").write("import os"))
attempt("new module", lambda: open({str(new_module)!r}, "w").write("import os"))
attempt("site-packages", lambda: open({str(site_packages / "planted.pth")!r}, "w").write("x"))
attempt("interpreter", lambda: open(sys.executable, "ab").write(b"x"))
attempt("root", lambda: open("/planted", "w").write("x"))
attempt("own folder", lambda: open("written-by-the-child", "w").write("ok"))
attempt("tmp", lambda: open("/tmp/scratch", "w").write("ok"))
""")
    for name in ("append child.py", "new module", "site-packages", "interpreter", "root"):
        assert failed(seen[name]), dumps(seen)
    assert seen["own folder"] == ["ok", 2] and seen["tmp"] == ["ok", 2], dumps(seen)
    assert hashlib.sha256(child.read_bytes()).hexdigest() == before
    assert not new_module.exists() and not (site_packages / "planted.pth").exists()


def _searchable_by_anyone(path: Path) -> bool:
    return all(folder.stat().st_mode & stat.S_IXOTH for folder in [path, *path.parents])


def test_the_child_runs_as_an_unprivileged_uid(in_force, monkeypatch, tmp_path):
    seen = probe_child(monkeypatch, tmp_path, """
attempt("uid", os.getuid)
attempt("capabilities", lambda: [line.split()[1] for line in open("/proc/self/status")
                                 if line.startswith(("CapEff", "CapPrm"))])
""")
    assert seen["uid"][0] == "ok" and seen["uid"][1] != 0, dumps(seen)
    assert seen["capabilities"][1] == ["0000000000000000"] * 2, dumps(seen)
    outside = seen["host uid"]
    if os.geteuid() != 0:
        assert outside == os.geteuid()  # the worker's own unprivileged uid, nothing else
    elif in_force.switch_uid is not None:
        assert outside == in_force.switch_uid == NOBODY  # nobody on the host too
    else:
        # nobody cannot reach the interpreter (under /root): bubblewrap starts as root and
        # setpriv drops the child to nobody -- on the host too, with no capability left.
        assert in_force.drop_uid == NOBODY and outside == NOBODY
        assert not _searchable_by_anyone(Path(sys.base_prefix)), (
            "uid 65534 can reach the interpreter, so the worker should have switched to it")


# --- failing closed -----------------------------------------------------------------------


def _score_good_model(tmp_path: Path, limits: SandboxLimits):
    features = tmp_path / "features.npz"
    rows = np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32)
    np.savez(features, **{name: rows[:, i] for i, name in enumerate("abc")})
    result = run_in_sandbox(hostile.good_onnx(tmp_path / "good.onnx"), None, features, CONTRACT,
                            limits)
    np.testing.assert_allclose(result.predictions, hostile.expected_good_scores(rows),
                               atol=1e-6)
    return result


def _refused(tmp_path: Path, limits: SandboxLimits, caplog) -> str:
    """Score with ``limits``: it must be refused before any child starts; returns the
    ERROR the worker logged."""
    caplog.set_level(logging.INFO, logger=SANDBOX_LOGGER)
    with pytest.raises(ScoringError) as info:
        _score_good_model(tmp_path, limits)
    error = info.value
    assert error.reason == FailureReason.INTERNAL_ERROR and error.code == "sandbox_unavailable"
    assert "Scoring is paused" in error.message and "quota" in error.message
    assert not any(r.message.startswith("sandbox run:") for r in caplog.records)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("refusing to run a model" in message for message in errors), errors
    return "\n".join(errors)


def test_without_bubblewrap_scoring_refuses_and_says_what_is_missing(tmp_path, caplog):
    missing = tmp_path / "no-such-bwrap"
    logged = _refused(tmp_path, SandboxLimits(bwrap_path=str(missing)), caplog)
    assert str(missing) in logged and "apt-get install bubblewrap" in logged


def test_a_bubblewrap_that_cannot_create_namespaces_makes_scoring_refuse(tmp_path, caplog):
    # What Docker's default seccomp profile, or a kernel without unprivileged user
    # namespaces, does to bubblewrap.
    wrapper = tmp_path / "bwrap"
    wrapper.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\n"
                       "exit 1\n")
    wrapper.chmod(0o755)
    logged = _refused(tmp_path, SandboxLimits(bwrap_path=str(wrapper)), caplog)
    assert "No permissions to create new namespace" in logged


def test_the_development_switch_scores_without_isolation_and_warns_every_job(tmp_path,
                                                                            caplog):
    caplog.set_level(logging.INFO, logger=SANDBOX_LOGGER)
    limits = SandboxLimits(isolation=Isolation.ALLOW_WEAK,
                           bwrap_path=str(tmp_path / "no-such-bwrap"))
    for _ in range(2):
        result = _score_good_model(tmp_path, limits)
        assert result.isolated_network == network_isolation_available()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING
                and "WITHOUT the required isolation" in r.getMessage()]
    assert len(warnings) == 2, warnings
    runs = [r.getMessage() for r in caplog.records if r.getMessage().startswith("sandbox run:")]
    assert len(runs) == 2 and all("isolation=WEAK" in run for run in runs), runs


def test_the_validators_optional_isolation_falls_back_quietly(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=SANDBOX_LOGGER)
    _score_good_model(tmp_path, SandboxLimits(isolation=Isolation.OPTIONAL,
                                              bwrap_path=str(tmp_path / "no-such-bwrap")))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_scored_run_logs_the_isolation_in_force(in_force, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=SANDBOX_LOGGER)
    result = _score_good_model(tmp_path, SandboxLimits(latency_repeats=2))
    assert result.isolated_network
    (run,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("sandbox run:")]
    assert f"isolation={in_force.describe()}" in run and "mount+pid+net+ipc+uts" in run
    # A user namespace, unless setpriv changes the uid (bubblewrap then runs as root).
    assert ("user+mount" in run) == (in_force.drop_uid is None), run
    assert f"uid={in_force.host_uid}" in run and in_force.host_uid != 0


def test_the_probe_is_cached_and_refreshed():
    limits = SandboxLimits()
    fresh = sandbox_isolation(limits, max_age=0)
    assert sandbox_isolation(limits) is fresh  # the next job within a minute: no probe
    again = sandbox_isolation(limits, max_age=0)
    assert again is not fresh and again == fresh


def test_a_child_killed_by_a_signal_under_bubblewrap_is_read_as_that_signal():
    isolation = sandbox_isolation(SandboxLimits())
    # bubblewrap exits 128 + the signal that killed the child, as a shell does.
    assert runner._exit_signal(152 << 8, isolation) == (24 if isolation.bwrap else None)
    assert runner._exit_signal(1 << 8, isolation) is None
    assert runner._exit_signal(9, isolation) == 9  # bubblewrap itself killed


# --- through the Django layer ---------------------------------------------------------------


@pytest.mark.django_db
def test_submission_score_refuses_charges_no_quota_and_logs(tiny_dataset, settings, tmp_path,
                                                             caplog):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from grading.models import QuotaUsage, Submission
    from grading.services.submissions import submission_create, submission_score
    from grading.tests.conftest import train_example_model
    from interviews.tests.factories import candidate

    dataset, built = tiny_dataset("food-delivery-time")
    user = candidate()
    # A model of this contract: the upload's static checks pass it.
    data = train_example_model(built, tmp_path / "work").read_bytes()
    submission = submission_create(candidate=user, case_study=dataset.case_study,
                                   upload=SimpleUploadedFile("model.onnx", data))
    assert QuotaUsage.objects.get(candidate=user).used == 1
    settings.SANDBOX_BWRAP_PATH = str(tmp_path / "no-such-bwrap")
    caplog.set_level(logging.INFO, logger=SANDBOX_LOGGER)

    assert submission_score(submission_id=submission.pk) == "failed"
    submission.refresh_from_db()
    assert submission.status == Submission.Status.FAILED
    assert submission.failure_reason == FailureReason.INTERNAL_ERROR
    assert "Scoring is paused" in submission.failure_message
    assert QuotaUsage.objects.get(candidate=user).used == 0 and submission.quota_refunded
    assert any(r.levelno == logging.ERROR and "no-such-bwrap" in r.getMessage()
               for r in caplog.records)


def test_a_scoring_worker_probes_the_sandbox_when_it_starts(settings, tmp_path, caplog):
    from grading import tasks

    class Queue:
        name = settings.SCORING_QUEUE

    class Consumer:
        class task_consumer:  # noqa: N801 - the attribute Celery's consumer has
            queues = [Queue()]

    settings.SANDBOX_BWRAP_PATH = str(tmp_path / "not-installed-bwrap")
    caplog.set_level(logging.INFO, logger=SANDBOX_LOGGER)
    tasks._probe_scoring_sandbox(sender=Consumer())
    assert any(r.levelno == logging.ERROR and "not-installed-bwrap" in r.getMessage()
               and "apt-get install bubblewrap" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(("debug", "refused"), [("0", True), ("1", False)])
def test_the_weak_isolation_switch_is_refused_in_production(debug, refused):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mlsd_site.settings", "DEBUG": debug,
           "SANDBOX_ALLOW_WEAK_ISOLATION": "1", "ALLOWED_HOSTS": "mlsd.example.com"}
    done = subprocess.run([sys.executable, "-c", "import django; django.setup()"], env=env,
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
                          check=False)
    assert (done.returncode != 0) == refused, done.stderr[-2000:]
    if refused:
        assert "SANDBOX_ALLOW_WEAK_ISOLATION=1 is for development only" in done.stderr
