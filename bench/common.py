"""What every benchmark shares: the services it needs, its own database, the machine it ran
on, timing statistics, a process-tree memory sampler and the results file.

Nothing here imports Django at module level: a benchmark calls ``django_setup`` once it has
chosen its database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
VAR_DIR = Path(os.environ.get("MLSD_BENCH_VAR", ROOT / "var" / "bench"))
QUICK = os.environ.get("BENCH_QUICK", "0") == "1"
PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5432"))
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
TEMPLATE_DB = os.environ.get("BENCH_TEMPLATE_DB", "mlsd_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
PYTHON = sys.executable
# Each benchmark runs in a process of its own: its results count from the process's start.
PROCESS_STARTED = time.perf_counter()
PROCESS_STARTED_AT = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# --- the servers a benchmark starts ------------------------------------------------------------


def server_start(command: list[str], *, env: dict[str, str], port: int, log_path: Path,
                 append: bool = False, any_answer: bool = False) -> subprocess.Popen[bytes]:
    """Start a web server (``command``) in a session of its own, its output in ``log_path``,
    and wait up to 60 s for ``/healthz`` on ``port`` to answer 200 (with ``any_answer``, any
    HTTP status: a server run without workers answers 503)."""
    log_file = log_path.open("a" if append else "w")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file,
                               stderr=subprocess.STDOUT, start_new_session=True)
    name = Path(command[2]).name if len(command) > 2 else command[0]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited; see {log_path}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return process
        except urllib.error.HTTPError:
            if any_answer:
                return process
            time.sleep(0.2)
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{name} did not answer /healthz within 60 s")


def server_stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's session, SIGKILL after 30 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# --- services and databases ------------------------------------------------------------------


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def services_check() -> None:
    """Exit with a clear message when PostgreSQL or Redis is not there."""
    missing = []
    if not _port_open(PG_HOST, PG_PORT):
        missing.append(f"PostgreSQL on {PG_HOST}:{PG_PORT} (trust auth for user {PG_USER})")
    if not _port_open("127.0.0.1", 6379):
        missing.append("Redis on 127.0.0.1:6379")
    if missing:
        sys.exit("make bench needs " + " and ".join(missing) + ". Start them (see .ci/run for "
                 "the commands) and run it again.")


def database_url(name: str) -> str:
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def _admin_execute(*statements: str) -> None:
    import psycopg

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres",
                         autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def _quoted(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a database name: {name!r}")
    return f'"{name}"'


def database_drop(name: str) -> None:
    _admin_execute(f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)")


def template_refresh() -> None:
    """(Re)create the template database: migrated, with the catalogue loaded. Each benchmark
    clones it, so the migrations run once per ``make bench``."""
    database_drop(TEMPLATE_DB)
    _admin_execute(f"CREATE DATABASE {_quoted(TEMPLATE_DB)}")
    env = bench_env(TEMPLATE_DB, VAR_DIR / "template")
    for command in (["migrate", "--noinput"], ["load_catalogue"]):
        subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)


def database_clone(name: str) -> str:
    """A fresh database ``name`` copied from the template (made first if this run has not)."""
    if os.environ.get("BENCH_TEMPLATE_READY") != "1":
        template_refresh()
        os.environ["BENCH_TEMPLATE_READY"] = "1"
    database_drop(name)
    _admin_execute(f"CREATE DATABASE {_quoted(name)} TEMPLATE {_quoted(TEMPLATE_DB)}")
    return database_url(name)


def bench_env(db_name: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a process (this one, a worker, gunicorn) of one benchmark."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url(db_name),
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "MLSD_VAR_DIR": str(data_dir / "var"),
        "MEDIA_ROOT": str(data_dir / "media"),
        "PRIVATE_DATA_ROOT": str(data_dir / "private"),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **extra,
    }
    env.pop("MLSD_REQUIRE_SERVICES", None)
    return env


def django_setup(db_name: str, data_dir: Path) -> dict[str, str]:
    """Clone the template into ``db_name``, point this process at it and set Django up.
    Returns the environment to give the benchmark's other processes."""
    database_clone(db_name)
    env = bench_env(db_name, data_dir)
    os.environ.update(env)
    import django

    django.setup()
    return env


# --- the machine -------------------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def machine_info() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem_kib = next((int(line.split()[1]) for line in _read("/proc/meminfo").splitlines()
                    if line.startswith("MemTotal")), 0)
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True, check=False).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain"], cwd=ROOT,
                                    capture_output=True, text=True, check=False).stdout.strip())
    except OSError:
        commit, dirty = "", False
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "os": platform.platform(terse=True),
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "commit": commit + ("+uncommitted" if dirty else ""),
    }


START_MACHINE = machine_info()  # at the start: the load average before the benchmark ran


def command_line() -> str:
    quick = "BENCH_QUICK=1 " if QUICK else ""
    return quick + "make bench  # " + shlex.join(["python", "-m", *_module_argv()])


def _module_argv() -> list[str]:
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return [spec.name if spec else sys.argv[0], *sys.argv[1:]]


# --- statistics --------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return float(np.median(values)) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


# --- memory of a process tree ------------------------------------------------------------------


def _rss_bytes(pid: int) -> int:
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        found += [int(c) for c in _read(str(task / "children")).split()]
    return found


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += _children(current)
    return pids


@dataclass
class TreePeak:
    """Peak resident memory of a process and its descendants, sampled every ``interval``."""

    pid: int
    interval: float = 0.01
    peak_total: int = 0
    peak_root: int = 0
    peak_children: int = 0
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = _tree(self.pid)
            sizes = {p: _rss_bytes(p) for p in pids}
            total = sum(sizes.values())
            self.peak_total = max(self.peak_total, total)
            self.peak_root = max(self.peak_root, sizes.get(self.pid, 0))
            self.peak_children = max(self.peak_children, total - sizes.get(self.pid, 0))
            self.samples += 1
            time.sleep(self.interval)

    @contextlib.contextmanager
    def sampling(self) -> Iterator[TreePeak]:
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()


# --- results ---------------------------------------------------------------------------------


@dataclass
class Figure:
    """One benchmark figure beside its floor. ``ratio`` is value / floor unless given."""

    label: str
    value: float | None
    unit: str
    floor: float | None = None
    floor_label: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""

    def __post_init__(self) -> None:
        if self.ratio is None and self.value is not None and self.floor:
            self.ratio = self.value / self.floor


@dataclass
class Results:
    name: str
    title: str
    started_at: str = PROCESS_STARTED_AT
    figures: list[Figure] = field(default_factory=list)
    tables: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    _clock: float = PROCESS_STARTED
    _machine: dict[str, Any] = field(default_factory=lambda: dict(START_MACHINE))

    def figure(self, **kwargs: Any) -> Figure:
        figure = Figure(**kwargs)
        self.figures.append(figure)
        return figure

    def table(self, title: str, columns: list[str], rows: list[list[Any]], note: str = ""
              ) -> None:
        self.tables.append({"title": title, "columns": columns, "rows": rows, "note": note})

    def write(self) -> Path:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        body = {
            "name": self.name,
            "title": self.title,
            "quick": QUICK,
            "command": command_line(),
            "started_at": self.started_at,
            "duration_seconds": round(time.perf_counter() - self._clock, 1),
            "machine": {**self._machine, "load_average_end": [
                round(v, 2) for v in os.getloadavg()]},
            "figures": [_clean(f.__dict__) for f in self.figures],
            "tables": self.tables,
            "notes": self.notes,
            "details": self.details,
        }
        suffix = "-quick" if QUICK else ""
        path = RESULTS_DIR / f"{self.name}{suffix}.json"
        path.write_text(json.dumps(body, indent=2, default=_json_default) + "\n")
        print(f"wrote {path.relative_to(ROOT)}", flush=True)
        return path


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if not k.startswith("_")}


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value)}")


def log(message: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", flush=True)
