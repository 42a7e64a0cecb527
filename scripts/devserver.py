"""Run the web server and two Celery workers together; Ctrl-C stops them all.

Used by ``make run``. One worker consumes the default queue (with beat: the interview deadline
sweep and the stuck-submission sweep), the other the scoring queue. If any process exits, the
others are stopped too, so a broken worker never hides behind a working web server.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    args = parser.parse_args()

    python = sys.executable
    # The queue names settings.py reads, with its defaults.
    default_queue = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "default")
    scoring_queue = os.environ.get("SCORING_QUEUE", "scoring")
    var_dir = Path(os.environ.get("MLSD_VAR_DIR", ROOT / "var"))
    # Two processes rather than one consuming both queues: a worker's pool slots serve any of
    # its queues, so one process could have every slot taken by 15-minute scoring jobs while
    # an interview deadline sweep waits. Gossip and mingle (the workers' chatter with each
    # other through the broker) are off: nothing here uses them.
    worker = [python, "-m", "celery", "-A", "mlsd_site", "worker", "--loglevel=INFO",
              "--without-gossip", "--without-mingle"]
    commands = {
        "web": [python, "manage.py", "runserver", f"{args.host}:{args.port}", "--noreload"],
        "worker-default": [*worker, "-Q", default_queue, "-n", "default@%h", "--concurrency=1",
                           "--beat", "--schedule", str(var_dir / "celerybeat-schedule")],
        "worker-scoring": [*worker, "-Q", scoring_queue, "-n", "scoring@%h",
                           "--concurrency=2"],
    }
    processes = {
        name: subprocess.Popen(command, cwd=ROOT, env=os.environ.copy(), start_new_session=True)
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
