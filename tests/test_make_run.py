"""`make run` from the repository: sets up, serves the home page, lets the demo candidate
log in, starts two real Celery workers (one per queue), stops on Ctrl-C, and works a second
time.

It runs with the embedded defaults (SQLite and the filesystem broker) in a fresh data
folder, exactly as a newcomer's first run does.
"""

import http.cookiejar
import json
import os
import re
import signal
import socket
import stat
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_make_run(var_dir: Path, port: int, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE",
                        "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "MLSD_HTTPS",
                        "MLSD_DATASET_SECRET", "MLSD_DATASET_SECRET_FILE"}}
    env["MLSD_VAR_DIR"] = str(var_dir)
    return subprocess.Popen(
        ["make", "run", f"PORT={port}"], cwd=ROOT, env=env, start_new_session=True,
        stdout=log.open("w"), stderr=subprocess.STDOUT,
    )


def workers_ready(log: Path) -> bool:
    """Both worker processes of this run logged that they are ready, each on its queue."""
    output = log.read_text()
    return all(re.search(rf"{queue}@\S+ ready\.", output) for queue in ("default", "scoring"))


def wait_for_worker(base: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                body = json.load(response)
                per_queue = body.get("workers_per_queue", {})
                if (per_queue.get("default", 0) >= 1 and per_queue.get("scoring", 0) >= 1
                        and workers_ready(log)):
                    return body
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail("the app or its worker did not come up:\n" + log.read_text()[-3000:])


def log_in(base: str, username: str, password: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"{base}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token}
    ).encode()
    request = urllib.request.Request(f"{base}/accounts/login/", data=data,
                                     headers={"Referer": f"{base}/accounts/login/"})
    return opener.open(request).read().decode()


def stop(proc: subprocess.Popen) -> int:
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
    return proc.wait(timeout=60)


def test_make_run_serves_the_site_with_a_worker_and_runs_again(tmp_path):
    var_dir = tmp_path / "var"
    for attempt in (1, 2):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = tmp_path / f"make-run-{attempt}.log"
        proc = start_make_run(var_dir, port, log)
        try:
            health = wait_for_worker(base, proc, log)
            assert health["database"] == "ok"
            assert sorted(worker["queues"] for worker in health["workers"]) == [
                ["default"], ["scoring"]]
            with urllib.request.urlopen(base + "/", timeout=5) as response:
                assert response.status == 200
                assert "Video Recommendation" in response.read().decode()
            page = log_in(base, "candidate", "candidate-demo-pass")
            assert 'data-testid="who"' in page and "candidate" in page
        finally:
            code = stop(proc)
        output = log.read_text()
        assert "username: candidate" in output
        assert "Stopped." in output
        assert code in (0, 2, -signal.SIGINT), output[-2000:]
        # Ctrl-C stopped the worker too: nothing from this run is left listening.
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert "5 unchanged" in (tmp_path / "make-run-2.log").read_text()
    # The first run made a dataset secret only its owner reads; the second reused it, so the
    # data of the first run was still its own.
    secret = var_dir / "dataset-secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600 and len(secret.read_text().strip()) == 64
    assert "Created a dataset secret" in (tmp_path / "make-run-1.log").read_text()
    assert (tmp_path / "make-run-2.log").read_text().count("data already built") == 5
