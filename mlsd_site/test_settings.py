"""Test overrides: fast hashing, a test-only key, and the real services when asked for.

With ``MLSD_REQUIRE_SERVICES=1`` (CI) the suite runs on PostgreSQL and Redis and a test
that would skip for lack of them fails instead.
"""

import os

os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-used-anywhere-else-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("MLSD_HTTPS", "0")
# Committed, so it protects nothing: the tests' server builds its data with it on purpose.
os.environ.setdefault("MLSD_DATASET_SECRET",
                      "test-only-dataset-secret-not-used-anywhere-else-0123456789")

if os.environ.get("MLSD_REQUIRE_SERVICES") == "1":
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mlsd")
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")

from mlsd_site.settings import *  # noqa: E402, F403
from mlsd_site.settings import STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
AXES_ENABLED = os.environ.get("AXES_ENABLED", "1") == "1"

# WhiteNoise warns about a missing STATIC_ROOT on every request; tests use the finders.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
WHITENOISE_USE_FINDERS = True

# Unit tests run tasks inline; the real-worker tests switch this off for their duration.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "1") == "1"
CELERY_TASK_EAGER_PROPAGATES = True
