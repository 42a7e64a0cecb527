"""The child's resident memory and CPU time, measured from outside while it runs.

Why measured, not a kernel limit: the memory that matters is resident memory (pages really
in RAM). ``RLIMIT_AS`` limits address space instead, which numpy, pandas, pyarrow and BLAS
reserve far beyond what they touch (a DataFrame-fitted scikit-learn pipeline reserves about
1.6 GB of address space while holding ~215 MB). A cgroup memory limit would count resident
memory in the kernel, but the scoring hosts cannot rely on one: bubblewrap has no cgroup
support, a non-root worker in Docker may not create a sub-cgroup (the container's cgroup is
not delegated to it), and hosts with the memory controller on cgroup v1 only (as this
project's CI machine) offer no cgroup v2 controller at all. So the parent reads every process
of the child's tree from ``/proc`` at each tick of its wait loop (``MemoryWatch.poll``) and
kills the tree once the resident memory is over the limit; ``RLIMIT_AS`` stays as a much
higher backstop (``SandboxLimits.address_space_bytes``) that stops a single runaway
allocation at once.

Only ``/proc/<pid>/status`` (``VmRSS``, ``VmHWM``: the kernel's own high-water mark, so a
peak between two ticks is still seen), ``/proc/<pid>/stat`` (CPU time) and the ``children``
lists are read: all readable for a process of the worker's own uid or, for a root worker,
of any uid. Without /proc (the validator on macOS) nothing is measured and only the backstop
applies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
# A tree deeper or wider than this is not one the sandbox makes (bubblewrap, its init, the
# interpreter); the cap keeps one tick's cost bounded whatever the child does.
_MAX_PROCESSES = 256


@dataclass(frozen=True)
class TreeUsage:
    """One reading of a process tree: resident bytes now (summed over its processes), the
    largest single process's peak resident bytes (``VmHWM``), and CPU seconds so far."""

    resident_bytes: int
    peak_process_bytes: int
    cpu_seconds: float
    processes: int


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(PROC / str(pid) / "task")
    except OSError:
        return found
    for tid in tasks:
        try:
            text = (PROC / str(pid) / "task" / tid / "children").read_text()
        except OSError:
            continue
        found.extend(int(child) for child in text.split())
    return found


def process_tree(root: int) -> list[int]:
    """``root`` and its descendants still alive, root first (at most ``_MAX_PROCESSES``)."""
    tree, todo = [], [root]
    while todo and len(tree) < _MAX_PROCESSES:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(_children(pid))
    return tree


def _status_kib(text: str, key: str) -> int:
    start = text.find(key + ":")
    if start < 0:
        return 0
    fields = text[start + len(key) + 1:text.find("\n", start)].split()
    return int(fields[0]) if fields and fields[0].isdigit() else 0


def _cpu_seconds(pid: int) -> float:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return 0.0
    # Fields after the command name, which is in parentheses and may hold anything.
    fields = text[text.rfind(")") + 2:].split()
    try:
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime + stime
    except (IndexError, ValueError):
        return 0.0


def tree_usage(root: int) -> TreeUsage | None:
    """Read ``root``'s tree now; None when /proc cannot show even ``root`` (no procfs, or
    the process is gone)."""
    resident = peak = 0
    cpu = 0.0
    seen = 0
    for pid in process_tree(root):
        try:
            text = (PROC / str(pid) / "status").read_text()
        except OSError:
            continue  # exited between the listing and now
        seen += 1
        resident += _status_kib(text, "VmRSS") * 1024
        peak = max(peak, _status_kib(text, "VmHWM") * 1024)
        cpu += _cpu_seconds(pid)
    if not seen:
        return None
    return TreeUsage(resident_bytes=resident, peak_process_bytes=peak, cpu_seconds=cpu,
                     processes=seen)


@dataclass
class MemoryWatch:
    """Watches a child's process tree against ``limit_bytes`` of resident memory.

    ``poll()`` after each tick of the wait loop; it returns True once the tree holds, or one
    of its processes has held, more than the limit, and the caller kills the tree.
    ``peak_bytes`` is the most seen (the sum over the tree, or one process's high-water
    mark, whichever is larger), ``cpu_seconds`` the most CPU time seen, ``measured``
    whether /proc showed the tree at least once."""

    root: int
    limit_bytes: int
    peak_bytes: int = 0
    cpu_seconds: float = 0.0
    measured: bool = False
    over_limit: bool = field(default=False, init=False)

    def poll(self) -> bool:
        usage = tree_usage(self.root)
        if usage is None:
            return self.over_limit
        self.measured = True
        self.peak_bytes = max(self.peak_bytes, usage.resident_bytes, usage.peak_process_bytes)
        self.cpu_seconds = max(self.cpu_seconds, usage.cpu_seconds)
        if self.peak_bytes > self.limit_bytes:
            self.over_limit = True
        return self.over_limit
