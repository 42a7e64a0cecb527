"""Project-wide test fixtures.

``MLSD_REQUIRE_SERVICES=1`` (set by .ci/run) turns every "service not available" skip into
a failure, so CI cannot go green by skipping the PostgreSQL, Redis or browser tests.
"""

import os
import shutil
import socket

import pytest

REQUIRE_SERVICES = os.environ.get("MLSD_REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("MLSD_CHROMIUM", "/usr/bin/chromium")

# Fixtures defined in modules of their own: ``asgi_live_server`` (uvicorn serving the ASGI
# app, WebSockets included, in this process).
pytest_plugins = ["tests.asgi_server"]

# `make test PYTEST_XDIST="-n 2 --dist loadgroup"` runs the suite on two pytest-xdist workers
# (opt-in; `make test` alone is serial), each with its own test database. Whatever shares
# state outside that database -- Redis (Celery queues, the channel layer, flushes in the
# fault tests), worker processes, browsers, live servers, files under var/ that `make run`
# or the example venv build -- stays in one group, so those tests run one after another on
# one worker, while the database-only tests share the other core.
SHARED_STATE_FIXTURES = frozenset({
    "celery_workers", "celery_worker_process", "require_redis", "live_server", "browser",
    "page", "asgi_live_server",
})
SHARED_STATE_MARKERS = ("services", "e2e", "slow")


def pytest_collection_modifyitems(config, items):
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & SHARED_STATE_FIXTURES or any(
                item.get_closest_marker(name) for name in SHARED_STATE_MARKERS):
            item.add_marker(pytest.mark.xdist_group("shared-state"))


def skip_or_fail(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (MLSD_REQUIRE_SERVICES=1, so this is a failure)")
    pytest.skip(reason)


def redis_url() -> str:
    return os.environ.get("MLSD_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Each test starts with no rate-limit counts (mlsd_site/ratelimit.py): every test client
    is 127.0.0.1, so counts would otherwise carry over from test to test. Only the
    in-process cache is cleared; a Redis one (CACHE_URL) may be someone else's."""
    from django.conf import settings

    if not settings.configured:  # a plain pytest run (-p no:django), as docs/datasets.md has
        return
    from django.core.cache import cache

    if settings.CACHES["default"]["BACKEND"].endswith("LocMemCache"):
        cache.clear()


@pytest.fixture
def require_postgres(settings) -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        skip_or_fail("this test needs PostgreSQL (set DATABASE_URL or MLSD_REQUIRE_SERVICES=1)")


@pytest.fixture
def require_redis() -> str:
    if not redis_available():
        skip_or_fail("this test needs Redis on 127.0.0.1:6379")
    return redis_url()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        skip_or_fail(f"Chromium not found at {CHROMIUM}: run `make browser`")
    return CHROMIUM


@pytest.fixture
def catalogue(db):
    """The real catalogue (rubric and five case studies) loaded into the test database."""
    from interviews.services.catalogue import catalogue_load
    from mlsd_site.roles import roles_ensure

    roles_ensure()
    return catalogue_load()


def child_pids(pid: int) -> list[int]:
    """Direct children of ``pid`` (a worker's pool processes), read from /proc."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(entry))
    return children


@pytest.fixture
def celery_workers(transactional_db, settings, require_redis, tmp_path):
    """Start real Celery worker processes on Redis that share this test's database:
    ``start(queue="scoring", beat=False, concurrency=1, env=None) -> Popen`` (with
    ``.log_path``), one process per queue as in production: ``queue`` is "default" (the
    sweeps; ``beat=True`` only here) or "scoring". Every worker is killed, with its pool,
    afterwards.

    Uploaded artifacts are shared through MEDIA_ROOT (the storage API); held-out data is
    not: each worker rebuilds it from the dataset secret (this test's
    ``settings.DATASET_SECRET`` unless ``env`` gives another) and checks the fingerprint.
    """
    import signal
    import subprocess
    import sys

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        skip_or_fail("a worker process needs a database it can share: PostgreSQL")
    host = db.get("HOST") or "127.0.0.1"
    user = db.get("USER") or "postgres"
    database_url = f"postgres://{user}@{host}:{db.get('PORT') or 5432}/{db['NAME']}"
    broker = require_redis
    from redis import Redis

    # Queues of this test run's own, so two suites sharing one Redis never take each
    # other's tasks; this process routes to them too (settings and the Celery app).
    queues = {kind: f"mlsd-test-{os.getpid()}-{kind}" for kind in ("default", "scoring")}
    Redis.from_url(broker).delete(*queues.values())
    from mlsd_site.celery import app

    # Before the Django settings change: the app reads through to them.
    saved = {key: app.conf[key] for key in ("broker_url", "task_default_queue", "task_routes")}
    settings.CELERY_BROKER_URL = broker
    settings.CELERY_TASK_DEFAULT_QUEUE = queues["default"]
    settings.SCORING_QUEUE = queues["scoring"]
    app.conf.broker_url = broker
    app.conf.task_default_queue = queues["default"]
    app.conf.task_routes = {"grading.score_submission": {"queue": queues["scoring"]}}
    app.conf.task_always_eager = False
    reset_celery_routes(app)
    started: list[subprocess.Popen] = []

    def start(*, queue: str = "scoring", beat: bool = False, concurrency: int = 1,
              env: dict[str, str] | None = None) -> subprocess.Popen:
        # Beat sends the sweeps to the default queue: its worker is where it runs.
        assert queue in queues and (queue == "default" or not beat), (queue, beat)
        number = len(started) + 1
        worker_env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "mlsd_site.test_settings",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "CELERY_TASK_DEFAULT_QUEUE": queues["default"],
            "SCORING_QUEUE": queues["scoring"],
            "MLSD_VAR_DIR": str(tmp_path / f"var-{number}"),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "PRIVATE_DATA_ROOT": str(tmp_path / f"worker-private-{number}"),
            # Like SECRET_KEY, the deployment gives every worker the same one.
            "MLSD_DATASET_SECRET": settings.DATASET_SECRET,
            **(env or {}),
        }
        log = tmp_path / f"worker-{number}-{queue}.log"
        command = [sys.executable, "-m", "celery", "-A", "mlsd_site", "worker",
                   "-Q", queues[queue], "--loglevel=INFO", f"--concurrency={concurrency}",
                   "--pool=prefork", "--without-mingle", "--without-gossip",
                   "-n", f"test{number}-{queue}-{os.getpid()}@%h"]
        if beat:
            command += ["--beat", "--schedule", str(tmp_path / f"beat-{number}")]
        proc = subprocess.Popen(command, env=worker_env, stdout=log.open("w"),
                                stderr=subprocess.STDOUT, start_new_session=True)
        proc.log_path = log
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in started:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        app.conf.update(saved)
        app.conf.task_always_eager = True
        reset_celery_routes(app)


def reset_celery_routes(app) -> None:
    """Make the Celery app route by its current ``task_routes`` and default queue: it caches
    its routing table and router on first use."""
    app.amqp.flush_routes()
    app.amqp.router = app.amqp.Router()


@pytest.fixture
def celery_worker_process(celery_workers):
    """One real Celery worker process on the scoring queue (Redis), sharing this test's
    database."""
    return celery_workers(queue="scoring")


@pytest.fixture
def data_dirs(settings, tmp_path):
    """Private data and media in this test's own folders."""
    settings.PRIVATE_DATA_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings


@pytest.fixture
def tiny_dataset(catalogue, data_dirs):
    """Build the tiny dataset of a case study: ``tiny_dataset("food-delivery-time")``."""
    from grading.services.datasets import dataset_build
    from interviews.models import CaseStudy

    def build(slug: str):
        case_study = CaseStudy.objects.get(slug=slug)
        dataset, built = dataset_build(case_study=case_study, size="tiny")
        return dataset, built

    return build
