"""Run a candidate's model in a locked-down child process and return its predictions.

Layers, outermost first:

* static validation in this process (``artifacts.sniff_bytes``, ``onnx_checks``);
  the *validated bytes* are what the child gets, so the upload cannot be swapped
  between check and load;
* a child ``python -I`` with an empty environment (no DATABASE_URL, SECRET_KEY...),
  no inherited file descriptors, a fresh private temp dir as cwd holding only the
  model and the feature matrix (never labels), its own session/process group;
* in the child before exec: a private network namespace (no interfaces but a
  down loopback) when we can create one, rlimits on memory, CPU, file size, open
  files, core dumps, then ``no_new_privs`` and -- when we are root -- an empty
  capability bounding set, so the child cannot raise its own rlimits back;
  optionally a switch to an unprivileged uid (``SandboxLimits.run_as_uid``);
* a wall-clock timeout after which the whole process group is SIGKILLed;
* everything the child writes back (status JSON, predictions .npy) is treated as
  untrusted data: size-capped, no symlinks, ``allow_pickle=False``, validated.

Modules: ``limits`` (``SandboxLimits``), ``isolation`` (what runs between fork and exec, and
the probes for it), ``failures`` (a failed child as a typed ``ScoringError``), ``runner``
(``run_in_sandbox``: job folder, child start, wait, read back) and ``child`` (the code that
runs in the child process).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grading.engine.sandbox.isolation import network_isolation_available
    from grading.engine.sandbox.limits import SandboxLimits
    from grading.engine.sandbox.runner import SandboxResult, run_in_sandbox

__all__ = [
    "SandboxLimits",
    "SandboxResult",
    "network_isolation_available",
    "run_in_sandbox",
]

# Where each public name lives. They are imported on first use, not here: the child process
# imports ``grading.engine.sandbox.child``, which runs this file first, and must not pay for
# the parent's imports (onnx, subprocess, logging...) before it loads the model.
_HOMES = {
    "SandboxLimits": "limits",
    "SandboxResult": "runner",
    "network_isolation_available": "isolation",
    "run_in_sandbox": "runner",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
