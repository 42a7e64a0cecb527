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
    from interviews.services import catalogue_load
    from mlsd_site.roles import roles_ensure

    roles_ensure()
    return catalogue_load()


@pytest.fixture
def celery_worker_process(transactional_db, settings, require_redis, tmp_path):
    """A real Celery worker process on Redis, sharing this test's database.

    Yields the ``Popen``; the worker is killed (with its pool) afterwards. Its log is at
    ``tmp_path / "worker.log"``.
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

    Redis.from_url(broker).flushdb()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mlsd_site.test_settings",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "MLSD_VAR_DIR": str(tmp_path / "var"),
        # Uploaded artifacts are shared (the storage API); held-out data is not: the worker
        # rebuilds it from generator version and seed and checks the fingerprint.
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PRIVATE_DATA_ROOT": str(tmp_path / "worker-private"),
    }
    log = tmp_path / "worker.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "mlsd_site", "worker", "--loglevel=INFO",
         "--concurrency=1", "--pool=prefork", "--without-mingle", "--without-gossip",
         "-n", f"test-{os.getpid()}@%h"],
        env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    settings.CELERY_BROKER_URL = broker
    from mlsd_site.celery import app

    app.conf.broker_url = broker
    app.conf.task_always_eager = False
    proc.log_path = log
    try:
        yield proc
    finally:
        app.conf.task_always_eager = True
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def data_dirs(settings, tmp_path):
    """Private data and media in this test's own folders."""
    settings.PRIVATE_DATA_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings


@pytest.fixture
def tiny_dataset(catalogue, data_dirs):
    """Build the tiny dataset of a case study: ``tiny_dataset("food-delivery-time")``."""
    from grading import services
    from interviews.models import CaseStudy

    def build(slug: str):
        case_study = CaseStudy.objects.get(slug=slug)
        dataset, built = services.dataset_build(case_study=case_study, size="tiny")
        return dataset, built

    return build
