"""The child's isolation: what runs in the forked child just before exec (network namespace,
rlimits, ``no_new_privs``, the capability bounding set, uid switch, parent-death signal), and
probes for what this machine allows."""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from grading.engine.sandbox.limits import SandboxLimits

# One logger for the whole sandbox, named as before the package split, so that log settings
# and filters keep matching.
logger = logging.getLogger("grading.engine.sandbox")

# Linux prctl options (see <linux/prctl.h>).
_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_PDEATHSIG = 1


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


@functools.cache
def _cap_last_cap() -> int:
    try:
        return int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    except (OSError, ValueError):
        return 40


def _prctl(option: int, arg: int) -> None:
    if _libc().prctl(option, arg, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def _drop_capabilities() -> None:
    """Empty the bounding set so the exec'd interpreter gets no capabilities (even as root)."""
    for cap in range(_cap_last_cap() + 1):
        _prctl(_PR_CAPBSET_DROP, cap)


def _make_preexec(limits: SandboxLimits, isolate_net: bool, drop_caps: bool) -> Callable[[], None]:
    """Build the function run in the forked child just before exec.

    Runs after fork, so it only calls things already imported/loaded here
    (no imports: the import lock may be held by another thread at fork time).
    """
    libc = _libc()  # resolve in the parent
    last_cap = _cap_last_cap()
    uid, gid = limits.run_as_uid, limits.run_as_gid

    def set_limit(which: int, soft: int, hard: int | None = None) -> None:
        resource.setrlimit(which, (soft, soft if hard is None else hard))

    def preexec() -> None:
        # Network namespace first: creating it needs CAP_SYS_ADMIN, dropped below.
        if isolate_net:
            os.unshare(os.CLONE_NEWNET)
        set_limit(resource.RLIMIT_AS, limits.memory_bytes)
        # Soft limit -> SIGXCPU; the hard limit a bit later -> SIGKILL if SIGXCPU is ignored.
        set_limit(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 2)
        set_limit(resource.RLIMIT_FSIZE, limits.max_file_bytes)
        set_limit(resource.RLIMIT_NOFILE, limits.max_open_files)
        set_limit(resource.RLIMIT_CORE, 0)  # no core dumps of a process holding test data
        if uid is not None:
            set_limit(resource.RLIMIT_NPROC, limits.max_processes)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if drop_caps:
            for cap in range(last_cap + 1):
                if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                    raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")
        if uid is not None:
            os.setgroups([])
            os.setgid(gid if gid is not None else uid)
            os.setuid(uid)
        # Die with the worker: a worker killed mid-job must not leave its model running.
        # Set last, since a change of credentials clears it.
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")

    return preexec


def _probe(action: Callable[[], None]) -> bool:
    """Does ``action`` succeed in a forked child before exec? (Tried once per process.)"""
    try:
        result = subprocess.run(
            [sys.executable, "-I", "-c", "pass"],
            preexec_fn=action,
            env={"PATH": "/usr/bin:/bin"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0


@functools.cache
def network_isolation_available() -> bool:
    """Can we give the child its own empty network namespace (needs root or CAP_SYS_ADMIN)?"""
    available = hasattr(os, "unshare") and _probe(lambda: os.unshare(os.CLONE_NEWNET))
    logger.info("sandbox network isolation %s", "available" if available else "UNAVAILABLE")
    return available


@functools.cache
def _capability_drop_available() -> bool:
    if os.geteuid() != 0:
        return False  # nothing to drop that matters for rlimits
    _libc()
    _cap_last_cap()
    return _probe(_drop_capabilities)
