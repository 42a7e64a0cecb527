"""The warm sandbox: the next job's sandboxed child, started before the job arrives.

A cold job pays for its child's start before the model is even read: bubblewrap's namespaces
and mounts, the interpreter, and the imports of numpy and onnxruntime (0.3 s of the
0.4-0.7 s a small job took). The warm sandbox starts the child for the *next* job as soon as a
job ends, exactly as a cold one would be started (same bubblewrap command, uid, mounts,
rlimits, environment: ``runner._launch``), with an empty job folder. It imports what a job
needs (``child.warm_up``) and then blocks on its stdin while the worker saves the score and
waits for work. When a job comes, the runner writes the job into that folder and sends
``go``; from then on the child is a cold child that happens to have finished its imports.

Why one fresh child per job rather than children forked from one long-lived warm process: a
forked job would share that process's PID, IPC and mount namespaces and its /tmp with every
later job, and could signal it (same uid). New namespaces per fork need CAP_SYS_ADMIN in the
parent's user namespace, which a root worker whose interpreter is under /root (bubblewrap as
root, setpriv to nobody: ``SandboxIsolation.drop_uid``) cannot have. A spare child is a whole
sandbox of its own, so no job shares a process, a file, an IPC object or a namespace with
another, and the isolation tests hold unchanged. What it costs: the imports' CPU time is
still spent once per job, while the worker is otherwise busy or idle, and one idle child
(about 90 MiB resident) waits per worker process.

A spare serves only a job whose limits, isolation and bootstrap are the ones it was started
with (``key``); any other job discards it and starts its own. A spare that died meanwhile is
replaced by a cold start of the same job. One spare per process at most; a forked process
(a Celery pool child) forgets its parent's, and the spare dies with the process that started
it (bubblewrap's ``--die-with-parent``), or at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from grading.engine.sandbox.isolation import SandboxIsolation


@dataclass
class Spare:
    """A started, waiting child: its process (bubblewrap, or the plain interpreter), the file
    its stdout and stderr go to, its job folder (empty until the job is written there), the
    isolation it was started under and what it may serve (``key``)."""

    key: tuple[object, ...]
    proc: subprocess.Popen[bytes]
    output: IO[bytes]
    job_dir: Path
    isolation: SandboxIsolation

    def alive(self) -> bool:
        return self.proc.poll() is None

    def discard(self) -> None:
        """Kill it (its whole process group, and with bubblewrap its PID namespace) and
        remove its folder."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError, OSError):
            self.proc.wait()
        for stream in (self.proc.stdin, self.output):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        shutil.rmtree(self.job_dir, ignore_errors=True)


_spare: Spare | None = None
_owner = os.getpid()


def spare_take(key: tuple[object, ...]) -> Spare | None:
    """The waiting spare if it can serve a job of ``key`` and is still alive (it is then no
    longer kept: the caller owns it), else None (a spare that cannot serve is discarded)."""
    global _spare
    spare, _spare = _spare, None
    if spare is None or _owner != os.getpid():
        return None
    if spare.key != key or not spare.alive():
        spare.discard()
        return None
    return spare


def spare_keep(spare: Spare) -> None:
    """Keep ``spare`` for the next job, discarding any other."""
    global _spare
    if _spare is not None and _spare is not spare:
        _spare.discard()
    _spare = spare


def spare_discard() -> None:
    """Discard the waiting spare, if any (at exit; tests)."""
    global _spare
    spare, _spare = _spare, None
    if spare is not None and _owner == os.getpid():
        spare.discard()


def spare_waiting() -> Spare | None:
    """The spare kept for the next job, if any (for tests and the benchmark)."""
    return _spare if _owner == os.getpid() else None


def _forget_after_fork() -> None:
    # The spare is the parent's: its pipe and process are not this process's to use or kill.
    global _spare, _owner
    _spare, _owner = None, os.getpid()


os.register_at_fork(after_in_child=_forget_after_fork)
atexit.register(spare_discard)
