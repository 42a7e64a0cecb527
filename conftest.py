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
