"""Settings for mlsd-mock, read from the environment.

Defaults run with no servers at all: a SQLite file and kombu's filesystem broker under
``var/``, so ``make run`` works on a bare machine. Production sets the variables below.
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from kombu import Exchange, Queue

from mlsd_site.channel_layers import redis_channel_layer

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("MLSD_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for a development key).")
    SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
if not DEBUG and (not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS):
    raise ImproperlyConfigured("Set ALLOWED_HOSTS to the site's host names (never '*').")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "channels",
    "mlsd_site",
    "interviews",
    "grading",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "mlsd_site.middleware.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # After the CSP middleware, so it runs before it on the response: ws(s)://<host>.
    "mlsd_site.middleware.WebSocketConnectSrcMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so that a locked-out login never reaches the view.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "mlsd_site.urls"
WSGI_APPLICATION = "mlsd_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mlsd_site.roles.role_context",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'mlsd.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server and the Celery worker share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache holds the rate-limit counters (mlsd_site/ratelimit.py). Production points
# CACHE_URL at Redis, which every web process shares. Without it, each process counts in its
# own memory, shared by its threads: right for `make run` (one web process) and the tests;
# behind several gunicorn workers each would allow the whole limit.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL,
         "KEY_PREFIX": "mlsd"}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "mlsd"}
    )
}

# Live interviews push events through a Channels layer: Redis whenever CHANNEL_LAYER_URL is
# set (CI, compose, production: web processes on several machines then serve one room), else
# one process's memory, right for `make run`, which serves everything from one process.
CHANNEL_LAYER_URL = os.environ.get("CHANNEL_LAYER_URL", "")
# Keys and groups under this prefix: two deployments (or test runs) sharing one Redis
# database never wake each other's pages.
CHANNEL_LAYER_PREFIX = os.environ.get("CHANNEL_LAYER_PREFIX", "mlsd-live")
CHANNEL_LAYERS = {
    "default": (
        redis_channel_layer(CHANNEL_LAYER_URL, CHANNEL_LAYER_PREFIX)
        if CHANNEL_LAYER_URL
        else {"BACKEND": "channels.layers.InMemoryChannelLayer"}
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# E-mail (Django 6.1's MAILERS): sign-up sends a verification link (mlsd_site/accounts.py).
# `make run` (DEBUG=1) prints messages on the console; otherwise they go out over SMTP.
_EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS = {
    "default": {
        "BACKEND": _EMAIL_BACKEND,
        "OPTIONS": {
            "host": os.environ.get("EMAIL_HOST", "localhost"),
            "port": env_int("EMAIL_PORT", 587),
            "username": os.environ.get("EMAIL_HOST_USER", ""),
            "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", True),
            "use_ssl": env_bool("EMAIL_USE_SSL", False),
            "timeout": env_int("EMAIL_TIMEOUT", 10),
        } if _EMAIL_BACKEND.endswith(".smtp.EmailBackend")
        # One file per message, for a test that reads what a worker process sent.
        else {"file_path": os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))}
        if _EMAIL_BACKEND.endswith(".filebased.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "mlsd-mock <noreply@localhost>")
# Links in e-mails sent outside a request (booking reminders from Celery beat) start here.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")
# Scheduling: calendar invitations' UIDs end in this domain; reminders go out this many
# minutes before a booking starts.
SCHEDULING_CALENDAR_DOMAIN = os.environ.get(
    "SCHEDULING_CALENDAR_DOMAIN", urlsplit(SITE_URL).hostname or "localhost")
SCHEDULING_REMINDER_MINUTES = env_int("SCHEDULING_REMINDER_MINUTES", 60)
# How long a sign-up's verification link works.
EMAIL_VERIFICATION_MAX_AGE_HOURS = env_int("EMAIL_VERIFICATION_MAX_AGE_HOURS", 48)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Held-out labels live here: outside MEDIA_ROOT and STATIC_ROOT, never served.
PRIVATE_DATA_ROOT = Path(os.environ.get("PRIVATE_DATA_ROOT", VAR_DIR / "private"))
# The dataset secret: every random draw of a case study's data (held-out labels and the
# public/private split included) derives from it, so the public repository cannot rebuild
# them. At least 32 random characters (`secrets.token_hex(32)`), the same for the web server
# and every worker, never committed. MLSD_DATASET_SECRET wins over MLSD_DATASET_SECRET_FILE;
# in development the file defaults to var/dataset-secret, which `make run` creates. Without
# one the site runs but no dataset is built or rebuilt (`check --deploy` reports it).
DATASET_SECRET_FILE = os.environ.get("MLSD_DATASET_SECRET_FILE", "") or (
    str(VAR_DIR / "dataset-secret") if DEBUG else "")
DATASET_SECRET = os.environ.get("MLSD_DATASET_SECRET", "").strip()
if not DATASET_SECRET and DATASET_SECRET_FILE and Path(DATASET_SECRET_FILE).is_file():
    DATASET_SECRET = Path(DATASET_SECRET_FILE).read_text(encoding="utf-8").strip()
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "mlsd_site.staticfiles.ModuleAwareStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Uploads: the model artifact limit is the product's; Django's own limits stay close to it.
# 20 MiB, and every page and message states it in MiB ("20 MiB").
MODEL_UPLOAD_MAX_BYTES = env_int("MODEL_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Security. Production turns these on with MLSD_HTTPS=1 (check --deploy passes with it).
HTTPS = env_bool("MLSD_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("MLSD_BEHIND_PROXY", False) else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Content Security Policy (Django 6): no inline script or style without the nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    # Style attributes only (no <style> elements, no scripts): diagram SVGs carry them.
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Interviews: saves that reach the server this many seconds after the deadline are still
# accepted (the last keystrokes in flight); later ones are refused.
INTERVIEW_SAVE_GRACE_SECONDS = env_int("INTERVIEW_SAVE_GRACE_SECONDS", 5)
# Revisions kept per answer, so that a script cannot fill the database through autosave while
# replay still moves: the first ANSWER_REVISIONS_ALL saves each keep a revision; after that a
# save replaces the answer's last revision when both fall in the same
# ANSWER_REVISION_STRETCH_SECONDS of the interview (replay keeps one every few seconds and
# every pause); once an answer has ANSWER_REVISIONS_MAX, every save replaces the last one.
# The answer itself always takes the save.
ANSWER_REVISIONS_ALL = env_int("ANSWER_REVISIONS_ALL", 200)
ANSWER_REVISION_STRETCH_SECONDS = env_int("ANSWER_REVISION_STRETCH_SECONDS", 5)
ANSWER_REVISIONS_MAX = env_int("ANSWER_REVISIONS_MAX", 1000)

# Rate limits (mlsd_site/ratelimit.py): "<count>/<period>" with a period of s, m, h or d and
# an optional number ("120/m", "5/10s"); "off" lifts one. Each endpoint counts per user and
# IP address ("user"; before log-in, the name the form posts) and per IP address alone
# ("ip", shared by everyone behind one NAT). A fast typist autosaves about once a second per
# step, with bursts on blur and tab switches; a script meets the limit within a minute.
# Behind a reverse proxy (MLSD_BEHIND_PROXY=1, exactly one, which appends the address it saw
# to X-Forwarded-For) the client is that address; otherwise REMOTE_ADDR.
BEHIND_PROXY = env_bool("MLSD_BEHIND_PROXY", False)
RATE_LIMITS = {
    name: {
        "user": os.environ.get(f"RATELIMIT_{name.upper()}", user),
        "ip": os.environ.get(f"RATELIMIT_{name.upper()}_IP", ip),
    }
    for name, user, ip in (
        ("autosave", "180/m", "1200/m"),
        ("preview", "60/m", "600/m"),
        ("question", "20/m", "200/m"),
        ("upload", "20/h", "100/h"),
        ("signup", "5/h", "20/h"),
        ("login", "10/m", "60/m"),
        ("verify", "5/h", "20/h"),
        # Every request with a personal access token (grading/api/auth.py), per token.
        ("api", "120/m", "600/m"),
    )
}

# Login rate limiting (django-axes): lock an account/IP pair after repeated failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "0.25"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Lock-outs key on the client's address as the rate limits see it: with MLSD_BEHIND_PROXY=1
# the one the proxy appended to X-Forwarded-For, otherwise REMOTE_ADDR.
AXES_CLIENT_IP_CALLABLE = "mlsd_site.ratelimit.client_ip"

# Celery. The default broker is kombu's filesystem transport: a real worker, no server.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
else:
    # The hard time limit of a task stays below this, so a running task is never redelivered
    # to a second worker while the first is still working on it.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# Two queues, each consumed by its own worker process: "scoring" takes the model scoring jobs
# (up to the hard time limit each); the default queue takes everything else (the interview
# deadline sweep, the stuck-submission sweep). A worker started without -Q consumes both.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "default")
SCORING_QUEUE = os.environ.get("SCORING_QUEUE", "scoring")
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name)
    for name in (CELERY_TASK_DEFAULT_QUEUE, SCORING_QUEUE)
]
CELERY_TASK_ROUTES = {"grading.score_submission": {"queue": SCORING_QUEUE}}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 900)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 840)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {
    "requeue-stuck-submissions": {
        "task": "grading.requeue_stuck_submissions",
        "schedule": float(os.environ.get("SCORING_SWEEP_SECONDS", "60")),
    },
    # Submits interview sessions whose deadline (plus the save grace) has passed.
    "interview-deadline-sweep": {
        "task": "interviews.submit_overdue_sessions",
        "schedule": float(os.environ.get("INTERVIEW_SWEEP_SECONDS", "30")),
    },
    # Sends each booking's reminder once, SCHEDULING_REMINDER_MINUTES before it starts.
    "booking-reminders": {
        "task": "interviews.send_booking_reminders",
        "schedule": float(os.environ.get("BOOKING_REMINDER_SWEEP_SECONDS", "60")),
    },
    # Records each booking as held or a no-show once its slot is over.
    "booking-attendance": {
        "task": "interviews.settle_booking_attendance",
        "schedule": 300.0,
    },
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Each worker process records itself (hostname, queues) every WORKER_HEARTBEAT_SECONDS from
# its main process, busy or not; /healthz lists a worker while its last record is younger
# than WORKER_ALIVE_SECONDS.
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 30)
WORKER_ALIVE_SECONDS = env_int("WORKER_ALIVE_SECONDS", 3 * WORKER_HEARTBEAT_SECONDS)

# Scoring pipeline. A submission is tried at most SCORING_MAX_ATTEMPTS times (a worker lost
# mid-job counts as an attempt); the sweep re-enqueues one queued for longer than
# SCORING_QUEUED_TIMEOUT or running for longer than SCORING_RUNNING_TIMEOUT (which must
# exceed the task's hard time limit, so a live job is never sent twice).
SCORING_MAX_ATTEMPTS = env_int("SCORING_MAX_ATTEMPTS", 3)
# The sandbox a model runs in: its wall clock stays below the task's soft time limit.
# SANDBOX_MEMORY_MB is the model's resident memory, in MiB (measured, see
# grading/engine/sandbox/memory.py).
SANDBOX_MEMORY_MB = env_int("SANDBOX_MEMORY_MB", 1536)
SANDBOX_CPU_SECONDS = env_int("SANDBOX_CPU_SECONDS", 60)
SANDBOX_WALL_SECONDS = env_int("SANDBOX_WALL_SECONDS", 120)
# The model runs under bubblewrap (its own user, mount, PID, network, IPC and UTS namespaces;
# grading/engine/sandbox/). A worker that cannot start it refuses to score, unless the
# development-only switch SANDBOX_ALLOW_WEAK_ISOLATION=1 lets it run the model without,
# with a WARNING on every job; that switch is refused with DEBUG=0.
SANDBOX_BWRAP_PATH = os.environ.get("SANDBOX_BWRAP_PATH", "bwrap")
# The warm sandbox: each scoring process keeps the next job's sandboxed child started and
# imported (grading/engine/sandbox/warm.py); SANDBOX_WARM=0 starts one cold child per job.
SANDBOX_WARM = env_bool("SANDBOX_WARM", True)
SANDBOX_ALLOW_WEAK_ISOLATION = env_bool("SANDBOX_ALLOW_WEAK_ISOLATION", False)
if SANDBOX_ALLOW_WEAK_ISOLATION and not DEBUG:
    raise ImproperlyConfigured(
        "SANDBOX_ALLOW_WEAK_ISOLATION=1 is for development only (DEBUG=1): in production a "
        "worker that cannot isolate models must refuse to score them.")
SCORING_QUEUED_TIMEOUT = env_int("SCORING_QUEUED_TIMEOUT", 300)
SCORING_RUNNING_TIMEOUT = env_int("SCORING_RUNNING_TIMEOUT", CELERY_TASK_TIME_LIMIT + 60)
# The serving cost per million predictions is priced from one CPU core-hour (USD): about
# half a 2-vCPU general-purpose cloud instance's hourly price.
try:
    GRADING_PRICE_PER_CORE_HOUR_USD = float(
        os.environ.get("GRADING_PRICE_PER_CORE_HOUR_USD", "0.05"))
except ValueError:
    GRADING_PRICE_PER_CORE_HOUR_USD = -1.0
if not 0 < GRADING_PRICE_PER_CORE_HOUR_USD < 1e6:
    raise ImproperlyConfigured(
        "GRADING_PRICE_PER_CORE_HOUR_USD must be a positive number of US dollars, e.g. 0.05.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
