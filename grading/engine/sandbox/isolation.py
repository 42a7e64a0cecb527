"""The child's isolation: bubblewrap's namespaces and mounts, what runs in the forked child just
before exec (rlimits, ``no_new_privs``, the capability bounding set, uid switch, parent-death
signal), and the probes that say what this host gives.

``sandbox_isolation(limits)`` probes once and caches the answer for ``PROBE_SECONDS``: the
scoring worker calls it at start and before every job, so a host that loses user namespaces
(a sysctl, a seccomp profile, bubblewrap uninstalled) stops scoring within a minute.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import resource
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grading.engine.sandbox.limits import NOBODY, Isolation, SandboxLimits

# One logger for the whole sandbox, named as before the package split, so that log settings
# and filters keep matching.
logger = logging.getLogger("grading.engine.sandbox")

# Linux prctl options (see <linux/prctl.h>).
_PR_CAPBSET_DROP = 24
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_PDEATHSIG = 1

# The directory that holds the ``grading`` package (this file is grading/engine/sandbox/); in
# the downloadable validator, the .pyz file.
REPO_ROOT = Path(__file__).resolve().parents[3]
# Where the job folder appears inside bubblewrap: a fixed name, so no host path reaches the
# child or its messages.
JOB_DIR_INSIDE = "/job"
# How long a probe's answer is trusted before the next job probes again.
PROBE_SECONDS = 60.0
NAMESPACES = ("user", "mount", "pid", "net", "ipc", "uts")
# util-linux's setpriv (Essential in Debian): drops a root child to an unprivileged uid.
SETPRIV = shutil.which("setpriv", path="/usr/bin:/bin") or ""


@dataclass(frozen=True)
class SandboxIsolation:
    """What isolation the child gets on this host, as last probed.

    ``bwrap`` is bubblewrap's absolute path when the child runs under it (its own mount, PID,
    network, IPC and UTS namespaces, its own mounts), else None: the plain child, and
    ``missing`` says why. For a root worker the child is an unprivileged uid on the host,
    one of two ways: ``switch_uid``, the worker switches to it before starting bubblewrap
    (which then also gives the child a user namespace); or ``drop_uid``, when that uid cannot
    start bubblewrap (it cannot reach the interpreter, e.g. under /root): bubblewrap starts
    as root without a user namespace, keeping only the capabilities to change uid, and
    ``setpriv`` drops to ``drop_uid`` (groups cleared, bounding set emptied) before the
    interpreter starts; ``note`` says why.
    """

    bwrap: str | None
    switch_uid: int | None = None
    drop_uid: int | None = None
    missing: str = ""
    note: str = ""

    @property
    def host_uid(self) -> int:
        """The uid the child runs as on the host."""
        if self.switch_uid is not None:
            return self.switch_uid
        if self.drop_uid is not None:
            return self.drop_uid
        return os.geteuid()

    def describe(self) -> str:
        """One line for the log: which isolation is in force."""
        if self.bwrap is None:
            return "none (plain child: no mount, PID or user namespace)"
        if self.drop_uid is not None:
            spaces = "+".join(name for name in NAMESPACES if name != "user")
            return f"bwrap({spaces}) uid={self.drop_uid} (setpriv)"
        return f"bwrap({'+'.join(NAMESPACES)}) uid={self.host_uid}"


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


def _make_preexec(limits: SandboxLimits, isolate_net: bool, drop_caps: bool,
                  nproc: bool = False) -> Callable[[], None]:
    """Build the function run in the forked child just before exec (of bubblewrap, or of the
    plain child's interpreter). ``nproc``: cap the number of processes even without a uid
    switch here (the child changes uid later, through setpriv).

    Runs after fork, so it only calls things already imported/loaded here
    (no imports: the import lock may be held by another thread at fork time).
    """
    libc = _libc()  # resolve in the parent
    last_cap = _cap_last_cap()
    uid, gid = limits.run_as_uid, limits.run_as_gid
    address_space = limits.address_space_limit

    def set_limit(which: int, soft: int, hard: int | None = None) -> None:
        resource.setrlimit(which, (soft, soft if hard is None else hard))

    def preexec() -> None:
        # Network namespace first: creating it needs CAP_SYS_ADMIN, dropped below.
        if isolate_net:
            os.unshare(os.CLONE_NEWNET)
        # The backstop only: resident memory is measured by the parent (``memory``).
        set_limit(resource.RLIMIT_AS, address_space)
        # Soft limit -> SIGXCPU; the hard limit a bit later -> SIGKILL if SIGXCPU is ignored.
        set_limit(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 2)
        set_limit(resource.RLIMIT_FSIZE, limits.max_file_bytes)
        set_limit(resource.RLIMIT_NOFILE, limits.max_open_files)
        set_limit(resource.RLIMIT_CORE, 0)  # no core dumps of a process holding test data
        if uid is not None or nproc:
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
    """Can the plain child get its own empty network namespace (needs root or CAP_SYS_ADMIN)?
    Under bubblewrap the child always has one."""
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


# --- bubblewrap ------------------------------------------------------------------------------


def _under(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


@functools.cache
def _read_only_mounts() -> tuple[str, ...]:
    """bubblewrap arguments for everything the child reads: the interpreter and the libraries
    it loads, and the code it runs -- nothing else of the host.

    /usr (system libraries; in the Docker image also the interpreter and its packages), the
    /lib* links or folders, the loader's cache, the interpreter's prefix, a virtualenv's
    ``pyvenv.cfg``, interpreter and site-packages, and ``grading/__init__.py`` and
    ``grading/engine/`` -- never the repository root, which holds ``var/`` (database,
    held-out data, uploads) and the settings (a checkout inside /usr is covered by an empty
    folder). The child sees /usr whole: no data may live there."""
    args: list[str] = []
    bound: list[Path] = []
    hidden: list[Path] = []

    made: set[Path] = set()

    def ro_bind(path: Path) -> None:
        if path.exists() and (not _under(path, bound) or _under(path, hidden)):
            # bubblewrap would create the missing parents mode 0700 (root's): made here
            # 0755, so a child that is not root can reach what is bound below them.
            for parent in reversed(path.parents[:-1]):
                if parent not in made and not _under(parent, bound):
                    args.extend(["--perms", "0755", "--dir", str(parent)])
                    made.add(parent)
            args.extend(["--ro-bind", str(path), str(path)])
            bound.append(path)

    ro_bind(Path("/usr"))
    for name in ("lib", "lib64", "lib32", "libx32"):
        path = Path("/", name)
        if path.is_symlink():  # merged /usr: /lib -> usr/lib
            args.extend(["--symlink", os.readlink(path), str(path)])
        else:
            ro_bind(path)
    ro_bind(Path("/etc/ld.so.cache"))
    if REPO_ROOT.is_dir() and _under(REPO_ROOT, bound):
        # A checkout inside /usr: an empty folder over it, the code bound back below.
        args.extend(["--tmpfs", str(REPO_ROOT)])
        hidden.append(REPO_ROOT)
    ro_bind(Path(sys.base_prefix))
    if sys.prefix != sys.base_prefix:  # a virtualenv: only what the interpreter reads of it
        venv = Path(sys.prefix)
        ro_bind(venv / "pyvenv.cfg")
        # bubblewrap resolves the symlink chain; the child runs this very path, so Python
        # finds pyvenv.cfg next to it as it does outside.
        ro_bind(Path(sys.executable))
    for folder in site.getsitepackages():
        ro_bind(Path(folder))
    if REPO_ROOT.is_file():  # the validator's .pyz
        ro_bind(REPO_ROOT)
    else:
        ro_bind(REPO_ROOT / "grading" / "__init__.py")
        ro_bind(REPO_ROOT / "grading" / "engine")
    return tuple(args)


def bwrap_command(
    isolation: SandboxIsolation, limits: SandboxLimits, job_dir: Path, argv: list[str]
) -> list[str]:
    """The command that runs ``argv`` under bubblewrap with ``job_dir`` as ``/job``.

    Namespaces: a user namespace that may not create further ones, and its own mount, PID,
    network (loopback only), IPC and UTS namespaces (cgroup when the kernel has it). Mounts:
    ``_read_only_mounts``, the job folder read-write, a fresh /proc of its PID namespace, a
    minimal /dev, a /tmp of at most ``max_file_bytes``; the root itself read-only. No
    capabilities, its own session (no terminal to inject into), SIGKILL when bubblewrap
    dies."""
    if isolation.bwrap is None:
        raise ValueError("bwrap_command needs an isolation that runs under bubblewrap")
    args = [isolation.bwrap]
    if isolation.drop_uid is None:
        args += ["--unshare-user", "--disable-userns"]
    args += [
        "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent", "--new-session", "--cap-drop", "ALL",
    ]  # fmt: skip
    if isolation.drop_uid is not None:
        # Only what setpriv needs to become drop_uid and empty the bounding set; all three
        # are gone once it has (a change to a non-zero uid clears the capability sets).
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                 "--cap-add", "CAP_SETPCAP"]
        # Root without capabilities may not enter nobody's 0700 job folder: the child
        # enters it once it is nobody (coreutils' env --chdir, then the interpreter).
        argv = [SETPRIV, f"--reuid={isolation.drop_uid}", f"--regid={isolation.drop_uid}",
                "--clear-groups", "--bounding-set=-all", "--inh-caps=-all", "--",
                "/usr/bin/env", f"--chdir={JOB_DIR_INSIDE}", f"PWD={JOB_DIR_INSIDE}", *argv]
    # /tmp first: code or a validator's .pyz under the host's /tmp is bound on top of it.
    args += ["--size", str(limits.max_file_bytes), "--perms", "1777",
             "--tmpfs", "/tmp"]  # noqa: S108 - its own
    args += _read_only_mounts()
    args += [
        "--bind", str(job_dir), JOB_DIR_INSIDE,
        "--proc", "/proc", "--dev", "/dev",
        "--remount-ro", "/",
        "--chdir", JOB_DIR_INSIDE if isolation.drop_uid is None else "/",
        "--",
    ]  # fmt: skip
    return args + argv


def _bounding_set_drop(isolation: SandboxIsolation) -> bool:
    """Empty the bounding set before bubblewrap? Yes when the worker is root, except when
    bubblewrap itself runs as root: it needs its capabilities to create the namespaces
    (``--cap-drop ALL`` and setpriv take them from the child then)."""
    return isolation.drop_uid is None and _capability_drop_available()


def _try_bwrap(bwrap: str, limits: SandboxLimits, switch_uid: int | None,
               drop_uid: int | None) -> str:
    """Start the interpreter under bubblewrap exactly as a job would (same namespaces, mounts
    and pre-exec steps) and import numpy. Returns "" on success, else what went wrong."""
    isolation = SandboxIsolation(bwrap=bwrap, switch_uid=switch_uid, drop_uid=drop_uid)
    probe_limits = SandboxLimits(
        memory_bytes=limits.memory_bytes, address_space_bytes=limits.address_space_bytes,
        cpu_seconds=limits.cpu_seconds,
        max_file_bytes=limits.max_file_bytes, max_open_files=limits.max_open_files,
        run_as_uid=switch_uid,
        run_as_gid=limits.run_as_gid if limits.run_as_gid is not None else switch_uid,
    )  # fmt: skip
    job_dir = Path(tempfile.mkdtemp(prefix="mlsd-sandbox-probe-"))
    try:
        owner = switch_uid if switch_uid is not None else drop_uid
        if owner is not None:
            os.chown(job_dir, owner, probe_limits.run_as_gid or owner)
        argv = [sys.executable, "-I", "-c", "import numpy"]
        result = subprocess.run(
            bwrap_command(isolation, probe_limits, job_dir, argv),
            preexec_fn=_make_preexec(probe_limits, False, _bounding_set_drop(isolation),
                                     nproc=drop_uid is not None),
            env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            stdin=subprocess.DEVNULL, capture_output=True, timeout=60, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{bwrap} could not be started: {exc}"
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)
    if result.returncode == 0:
        return ""
    text = " ".join(result.stderr.decode("utf-8", "replace").split())[-500:]
    if "Unknown option" in text:
        text += " (bubblewrap 0.8 or newer is needed)"
    return f"{bwrap} exited with {result.returncode}: {text or 'no message'}"


def _probe_isolation(limits: SandboxLimits) -> SandboxIsolation:
    found = shutil.which(limits.bwrap_path)
    if found is None:
        return SandboxIsolation(bwrap=None, missing=(
            f"bubblewrap ({limits.bwrap_path!r}) is not installed or not executable: install "
            "the Debian package 'bubblewrap' (apt-get install bubblewrap)"))
    bwrap = os.path.abspath(found)
    if os.geteuid() != 0:
        # Already unprivileged: the user namespace maps the child to this uid and no other.
        error = _try_bwrap(bwrap, limits, None, None)
        return SandboxIsolation(bwrap=bwrap) if not error else SandboxIsolation(
            bwrap=None, missing=f"bubblewrap cannot create the sandbox's namespaces: {error}")
    # Root: switch to an unprivileged uid *before* bubblewrap, so the child is that uid on
    # the host too and a file bound by mistake is read with that uid's rights, not root's.
    uid = limits.run_as_uid if limits.run_as_uid is not None else NOBODY
    error = _try_bwrap(bwrap, limits, uid, None)
    if not error:
        return SandboxIsolation(bwrap=bwrap, switch_uid=uid)
    if limits.run_as_uid is None and SETPRIV:
        # That uid cannot start bubblewrap (typically: the interpreter lives under /root,
        # which only root may enter). bubblewrap as root can bind it; setpriv then makes the
        # child that uid on the host before the interpreter starts.
        drop_error = _try_bwrap(bwrap, limits, None, uid)
        if not drop_error:
            return SandboxIsolation(bwrap=bwrap, drop_uid=uid, note=(
                f"uid {uid} cannot start bubblewrap ({error}); bubblewrap starts as root "
                f"without a user namespace and the child becomes uid {uid} through setpriv"))
        error = drop_error
    return SandboxIsolation(
        bwrap=None, missing=f"bubblewrap cannot create the sandbox's namespaces: {error}")


_probed: dict[tuple[object, ...], tuple[float, SandboxIsolation]] = {}


def sandbox_isolation(limits: SandboxLimits, *, max_age: float = PROBE_SECONDS
                      ) -> SandboxIsolation:
    """The isolation this host gives the child under ``limits``: probed (about 0.1 s) when no
    answer younger than ``max_age`` seconds is cached for this policy, bubblewrap and uid.

    A fresh probe is logged: what is missing at ERROR under ``Isolation.REQUIRED``, WARNING
    under ``ALLOW_WEAK`` and INFO under ``OPTIONAL``; what is in force at INFO."""
    key = (limits.isolation, limits.bwrap_path, limits.run_as_uid, os.geteuid())
    cached = _probed.get(key)
    if cached is not None and time.monotonic() - cached[0] < max_age:
        return cached[1]
    isolation = _probe_isolation(limits)
    _probed[key] = (time.monotonic(), isolation)
    if isolation.missing:
        level = {Isolation.REQUIRED: logging.ERROR, Isolation.ALLOW_WEAK: logging.WARNING}
        logger.log(level.get(limits.isolation, logging.INFO),
                   "sandbox isolation probe (%s): %s", limits.isolation, isolation.missing)
    else:
        logger.info("sandbox isolation probe: %s", isolation.describe())
    if isolation.note:
        logger.info("sandbox isolation probe: %s", isolation.note)
    return isolation
