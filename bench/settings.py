"""Settings for the benchmarks: the test settings, pointed at the benchmark's own PostgreSQL
database and Redis db (both from the environment ``bench.common.bench_env`` builds), plus a
URLconf that adds an authenticated no-op view to measure the framework's floor."""

import os

os.environ.setdefault("LOG_LEVEL", "WARNING")

from mlsd_site.test_settings import *  # noqa: E402, F403

ROOT_URLCONF = "bench.urls"
# The benchmarks drive real workers through the broker, never tasks inline.
CELERY_TASK_ALWAYS_EAGER = False
