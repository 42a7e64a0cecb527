"""Run a candidate's model in a locked-down child process and return its predictions.

Layers, outermost first:

* a cheap sniff of the upload in this process (``artifacts.sniff_bytes``: pickles, joblib,
  zip bombs refused unread); the *validated bytes* are what the child gets, so the upload
  cannot be swapped between check and load;
* the isolation policy (``SandboxLimits.isolation``), checked before any work: the scoring
  workers require bubblewrap and refuse to score without it (``sandbox_unavailable``, ours,
  no quota used, an ERROR naming what is missing); a development-only switch runs the plain
  child with a WARNING on every job; the downloadable validator takes what the candidate's
  machine has. ``sandbox_isolation`` probes bubblewrap once a minute per process;
* bubblewrap (``bwrap``): chosen because it is the well-kept sandbox Flatpak runs every
  desktop app in, needs no setuid helper or daemon (unprivileged user namespaces, so it works
  for the non-root user of the Docker image as for root), and gives in one audited program
  what the child needs: its own user namespace (that may not create further ones), mount,
  PID, network (loopback only), IPC and UTS namespaces, ``--cap-drop ALL``,
  ``--new-session`` (no terminal to inject into) and ``--die-with-parent``. The child sees
  read-only only the interpreter and the libraries it loads (/usr, /lib*, the interpreter's
  prefix, the virtualenv's site-packages) and ``grading/__init__.py`` + ``grading/engine/``
  (never the repository root, which holds ``var/``: database, held-out data, uploads);
  read-write only its job folder (as ``/job``) and a /tmp of at most ``max_file_bytes``; a
  /proc of its own PID namespace (no other process's ``environ``) and a minimal /dev;
* an unprivileged uid: a root worker switches to uid 65534 *before* starting bubblewrap, so
  the child is nobody on the host too; when that uid cannot reach the interpreter (under
  /root), bubblewrap starts as root without a user namespace, keeping only the capabilities
  to change uid, and util-linux's ``setpriv`` makes the child nobody (groups cleared,
  bounding set emptied) before the interpreter starts -- nobody on the host either way; a
  non-root worker's child keeps its uid, mapped by the user namespace;
* a child ``python -I`` with an empty environment (no DATABASE_URL, SECRET_KEY...), no
  inherited file descriptors, the job folder as cwd holding only the model and the feature
  columns (never labels), its own session/process group;
* in the forked child before exec (inherited by bubblewrap and the child): rlimits on
  address space (a backstop at several times the memory limit), CPU, file size, open files
  and core dumps, then ``no_new_privs`` and -- when we are root -- an empty capability
  bounding set, so the child cannot raise its own rlimits back, and SIGKILL when the worker
  dies; the plain child also gets a network namespace when root;
* resident memory, the limit a model is held to: the parent reads the child's process tree
  in /proc every 20 ms and kills it over ``memory_bytes`` (``memory``: why not RLIMIT_AS or
  a cgroup), saying what it measured;
* in the child, the static checks of the untrusted file (ONNX graph walk, skops allow-list)
  before anything is loaded, under all of the above;
* a wall-clock timeout after which the whole process group is SIGKILLed (bubblewrap's death
  takes its PID namespace, and so every process of the child, with it);
* everything the child writes back (status JSON, predictions .npy) is treated as
  untrusted data: size-capped, no symlinks, ``allow_pickle=False``, validated.

Every run logs one ``sandbox run:`` line saying which isolation was in force and the peak
resident memory measured.

Before an upload is accepted, ``check_in_sandbox`` runs the static checks alone in the same
kind of child (``checks``: bubblewrap where the host gives it, else the plain child), so a
file that fails them is refused before it uses a quota slot.

Modules: ``limits`` (``SandboxLimits``, ``Isolation``), ``isolation`` (bubblewrap's command,
what runs between fork and exec, and the probes for it), ``memory`` (the child's resident
memory, measured), ``failures`` (a failed child as a typed ``ScoringError``), ``features``
(the held-out columns the child reads), ``runner`` (``run_in_sandbox``: job folder, child
start, wait, read back), ``checks`` (``check_in_sandbox``: an upload's static checks),
``warm`` (the next job's child, started and imported before the job comes:
``warm_sandbox_start``, and after every job when ``SandboxLimits.warm``) and ``child`` (the
code that runs in the child process).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grading.engine.sandbox.checks import StaticCheck, check_in_sandbox
    from grading.engine.sandbox.isolation import (
        SandboxIsolation,
        network_isolation_available,
        sandbox_isolation,
    )
    from grading.engine.sandbox.limits import Isolation, SandboxLimits
    from grading.engine.sandbox.runner import SandboxResult, run_in_sandbox, warm_sandbox_start

__all__ = [
    "Isolation",
    "SandboxIsolation",
    "SandboxLimits",
    "SandboxResult",
    "StaticCheck",
    "check_in_sandbox",
    "network_isolation_available",
    "run_in_sandbox",
    "sandbox_isolation",
    "warm_sandbox_start",
]

# Where each public name lives. They are imported on first use, not here: the child process
# imports ``grading.engine.sandbox.child``, which runs this file first, and must not pay for
# the parent's imports (onnx, subprocess, logging...) before it loads the model.
_HOMES = {
    "Isolation": "limits",
    "SandboxIsolation": "isolation",
    "SandboxLimits": "limits",
    "SandboxResult": "runner",
    "StaticCheck": "checks",
    "check_in_sandbox": "checks",
    "network_isolation_available": "isolation",
    "run_in_sandbox": "runner",
    "sandbox_isolation": "isolation",
    "warm_sandbox_start": "runner",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
