"""Run the web server and two Celery workers together; Ctrl-C stops them all.

The web server is uvicorn serving the ASGI app (``mlsd_site.asgi``): the pages and the live
rooms' WebSockets from one origin and one process, so the in-memory channel layer is enough
(no Redis). WhiteNoise serves the static files from the source folders as runserver did
(with DEBUG=1 it uses the finders and picks up changes).

Used by ``make run``. One worker consumes the default queue (with beat: the interview deadline
sweep and the stuck-submission sweep), the other the scoring queue. If any process exits, the
others are stopped too, so a broken worker never hides behind a working web server.

All three get the same dataset secret (like SECRET_KEY): ``MLSD_DATASET_SECRET`` if set, else
the file ``MLSD_DATASET_SECRET_FILE`` names, else ``var/dataset-secret``, created on first use.
``--create-dataset-secret PATH`` only creates that file (``make run`` calls it before
building the data).
"""

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def dataset_secret_file(default: Path) -> Path | None:
    """The development dataset secret's file, created with 256 random bits (mode 0600) if
    it does not exist; None when MLSD_DATASET_SECRET gives the secret itself."""
    if os.environ.get("MLSD_DATASET_SECRET"):
        return None
    path = Path(os.environ.get("MLSD_DATASET_SECRET_FILE") or default)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL with mode 0600: never readable by anyone else, not even for a moment.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        print(f"Created a dataset secret in {path} (keep it: the data is built from it).",
              flush=True)
    return path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    parser.add_argument("--create-dataset-secret", type=Path, metavar="PATH",
                        help="create the dataset secret file if missing, then exit")
    args = parser.parse_args()
    if args.create_dataset_secret:
        dataset_secret_file(args.create_dataset_secret)
        return 0

    python = sys.executable
    # The queue names settings.py reads, with its defaults.
    default_queue = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "default")
    scoring_queue = os.environ.get("SCORING_QUEUE", "scoring")
    var_dir = Path(os.environ.get("MLSD_VAR_DIR", ROOT / "var"))
    environment = os.environ.copy()
    secret_file = dataset_secret_file(var_dir / "dataset-secret")
    if secret_file is not None:
        environment["MLSD_DATASET_SECRET_FILE"] = str(secret_file)
    # Two processes rather than one consuming both queues: a worker's pool slots serve any of
    # its queues, so one process could have every slot taken by 15-minute scoring jobs while
    # an interview deadline sweep waits. Gossip and mingle (the workers' chatter with each
    # other through the broker) are off: nothing here uses them.
    worker = [python, "-m", "celery", "-A", "mlsd_site", "worker", "--loglevel=INFO",
              "--without-gossip", "--without-mingle"]
    commands = {
        # Django has no lifespan events; a typed answer is at most 50,000 characters, so no
        # WebSocket message needs more than 1 MiB.
        "web": [python, "-m", "uvicorn", "mlsd_site.asgi:application", "--host", args.host,
                "--port", str(args.port), "--lifespan", "off", "--ws-max-size", "1048576"],
        "worker-default": [*worker, "-Q", default_queue, "-n", "default@%h", "--concurrency=1",
                           "--beat", "--schedule", str(var_dir / "celerybeat-schedule")],
        "worker-scoring": [*worker, "-Q", scoring_queue, "-n", "scoring@%h",
                           "--concurrency=2"],
    }
    processes = {
        name: subprocess.Popen(command, cwd=ROOT, env=environment, start_new_session=True)
        for name, command in commands.items()
    }
    print(f"\n  mlsd-mock is running at http://{args.host}:{args.port}/  (Ctrl-C stops it)\n",
          flush=True)

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                print(f"{name} exited with {process.returncode}; stopping.", flush=True)
                exit_code = process.returncode or 1
                stopping = True
        time.sleep(0.3)

    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    print("Stopped.", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
