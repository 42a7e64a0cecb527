"""The resource limits and knobs of one sandboxed run."""

from __future__ import annotations

from dataclasses import dataclass, field

from grading.engine.artifacts import ArtifactLimits

MiB = 1024 * 1024


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits and knobs for one sandboxed run."""

    memory_bytes: int = 1536 * MiB  # RLIMIT_AS (address space, so it covers threads' stacks)
    cpu_seconds: int = 60  # RLIMIT_CPU soft limit -> SIGXCPU
    wall_clock_seconds: float = 120.0  # parent kills the process group after this
    max_file_bytes: int = 64 * MiB  # RLIMIT_FSIZE -> EFBIG / SIGXFSZ
    max_open_files: int = 64  # RLIMIT_NOFILE
    # RLIMIT_NPROC counts *every* process of the uid, so it is only set when the
    # child runs as a dedicated uid (run_as_uid); for root the kernel ignores it.
    max_processes: int = 64
    latency_repeats: int = 50
    request_rows: int = 100  # rows in one simulated user request for the latency benchmark
    stderr_cap_bytes: int = 64 * 1024
    isolate_network: bool = True
    require_network_isolation: bool = False  # refuse to run if no network namespace
    run_as_uid: int | None = None  # needs an interpreter and repo readable by that uid
    run_as_gid: int | None = None
    artifact: ArtifactLimits = field(default_factory=ArtifactLimits)

    def __post_init__(self) -> None:
        if self.latency_repeats < 1 or self.request_rows < 1:
            raise ValueError("latency_repeats and request_rows must be at least 1")
        if self.wall_clock_seconds <= 0 or self.cpu_seconds < 1:
            raise ValueError("time limits must be positive")
