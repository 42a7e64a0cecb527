"""The resource limits, knobs and isolation policy of one sandboxed run."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import StrEnum

from grading.engine.artifacts import ArtifactLimits

MiB = 1024 * 1024
# The address-space backstop as a multiple of the resident-memory limit: a DataFrame-fitted
# scikit-learn pipeline reserves about 1.6 GB of address space for ~215 MB resident.
ADDRESS_SPACE_FACTOR = 4
# The uid a root worker's child runs as: "nobody", which owns no file of the application.
NOBODY = 65534


class Isolation(StrEnum):
    """How firmly the child's isolation (bubblewrap: its own user, mount, PID, network, IPC
    and UTS namespaces) is insisted on. Not a level of isolation: the child always gets the
    strongest this host gives; the policy says what happens when that is less."""

    # The scoring workers: refuse to run a model (``ScoringError`` code
    # ``sandbox_unavailable``) and log an ERROR naming what is missing.
    REQUIRED = "required"
    # Development only (SANDBOX_ALLOW_WEAK_ISOLATION=1): run the plain child anyway, with a
    # WARNING on every job.
    ALLOW_WEAK = "allow_weak"
    # The downloadable validator, on a candidate's own machine with their own model: the
    # plain child when bubblewrap is missing, said at INFO only.
    OPTIONAL = "optional"


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits, knobs and the isolation policy for one sandboxed run."""

    # Resident memory of the child's whole process tree, measured by the parent (see
    # ``memory``): over it, the tree is killed and the model fails as resource_limit/memory.
    memory_bytes: int = 1536 * MiB
    # RLIMIT_AS, a backstop far above ``memory_bytes`` that stops one runaway allocation at
    # once; None: ``ADDRESS_SPACE_FACTOR`` times ``memory_bytes``. Address space is not
    # memory (pandas, pyarrow and BLAS reserve much more than they touch), so it is never
    # the limit a candidate is held to.
    address_space_bytes: int | None = None
    cpu_seconds: int = 60  # RLIMIT_CPU soft limit -> SIGXCPU
    wall_clock_seconds: float = 120.0  # parent kills the process group after this
    max_file_bytes: int = 64 * MiB  # RLIMIT_FSIZE -> EFBIG / SIGXFSZ; also the size of /tmp
    max_open_files: int = 64  # RLIMIT_NOFILE
    # RLIMIT_NPROC counts *every* process of the uid, so it is only set when the
    # child runs as a dedicated uid (run_as_uid); for root the kernel ignores it.
    max_processes: int = 64
    latency_repeats: int = 50
    request_rows: int = 100  # rows in one simulated user request for the latency benchmark
    # The serving load test (``grading.engine.serving``): at most this many requests timed,
    # for at most about this many seconds (at least ``serving.MIN_SERVICE_SAMPLES`` are);
    # 0 requests: no load test.
    load_test_requests: int = 1000
    load_test_seconds: float = 3.0
    stderr_cap_bytes: int = 64 * 1024
    # Fail closed by default: a caller that forgets to choose gets the servers' policy.
    isolation: Isolation = Isolation.REQUIRED
    bwrap_path: str = "bwrap"  # bubblewrap: a name looked up on PATH, or an absolute path
    # The plain child (no bubblewrap): its own network namespace when the worker may create
    # one (root), and whether to refuse without it.
    isolate_network: bool = True
    require_network_isolation: bool = False
    # The uid the child runs as. None: under bubblewrap, NOBODY when the worker is root and
    # the worker's own uid otherwise; the plain child keeps the worker's uid. The uid needs
    # read access to the interpreter and the code.
    run_as_uid: int | None = None
    run_as_gid: int | None = None
    artifact: ArtifactLimits = field(default_factory=ArtifactLimits)
    # The warm sandbox (``warm``): after each job a fresh sandboxed child is started for the
    # next one and imports numpy and onnxruntime while the worker is busy elsewhere, so a job
    # does not wait for them. Off with SANDBOX_WARM=0 (one cold child per job).
    warm: bool = field(default_factory=lambda: os.environ.get("SANDBOX_WARM", "1") != "0")

    def __post_init__(self) -> None:
        if self.latency_repeats < 1 or self.request_rows < 1:
            raise ValueError("latency_repeats and request_rows must be at least 1")
        if self.load_test_requests < 0 or self.load_test_seconds < 0:
            raise ValueError("the load test's requests and seconds cannot be negative")
        if self.wall_clock_seconds <= 0 or self.cpu_seconds < 1:
            raise ValueError("time limits must be positive")
        if self.memory_bytes < 1 or self.address_space_limit < self.memory_bytes:
            raise ValueError("the address-space backstop must be at least the memory limit")
        object.__setattr__(self, "isolation", Isolation(self.isolation))

    @property
    def address_space_limit(self) -> int:
        """The child's RLIMIT_AS in bytes (the backstop, not the memory limit)."""
        if self.address_space_bytes is not None:
            return self.address_space_bytes
        return ADDRESS_SPACE_FACTOR * self.memory_bytes
