"""An upload's static checks, run before it is accepted: the ONNX graph walk against the
contract (external data, custom operator domains, invalid nodes, inputs and outputs off the
contract) or the skops allow-list, in a child process bounded like the scoring child.

Why a child: the walk reads the whole untrusted file (a 2 MB file of empty ONNX nodes cost
2.4 s and 355 MB to walk), so it runs under the sandbox's memory limit, rlimits and a short
wall clock, never in the web process. Nothing is loaded or run: no onnxruntime session, no
skops object is built. The child gets bubblewrap's isolation wherever this host gives it;
where it does not (the Docker image's web container may not create namespaces, by design),
the plain child -- empty environment, ``no_new_privs``, its own session, the same rlimits --
since it only decodes the file, as the web process's own sniff already does. The scoring
worker runs the same checks again under the full sandbox before it loads the model.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from grading.engine.artifacts import ArtifactFormat, sniff_bytes
from grading.engine.contract import InputContract
from grading.engine.errors import ArtifactRejected, FailureReason, ScoringError
from grading.engine.sandbox.isolation import (
    _capability_drop_available,
    network_isolation_available,
    sandbox_isolation,
)
from grading.engine.sandbox.limits import Isolation, SandboxLimits
from grading.engine.sandbox.runner import (
    _CHECKS_WAIT,
    _child_status,
    _give_to,
    _start_and_wait,
)

logger = logging.getLogger("grading.engine.sandbox")

# Far below the worker's limits, and the web server's request timeout: the checks of any
# honest model take well under a second (``make bench`` measures them).
CHECK_WALL_SECONDS = 20.0
CHECK_CPU_SECONDS = 15


@dataclass(frozen=True)
class StaticCheck:
    """The outcome of ``check_in_sandbox`` for a file it did not refuse: its format, and
    whether the checks ran to the end (``checked``) or could not be finished here (our
    side: a timeout, the child failing to start), which leaves them to the scoring worker."""

    format: ArtifactFormat
    checked: bool


def check_limits(limits: SandboxLimits) -> SandboxLimits:
    """``limits`` for the checks: the same memory and rlimits, a short clock, and
    bubblewrap whenever this host gives it (see the module docstring)."""
    return dataclasses.replace(
        limits, isolation=Isolation.OPTIONAL,
        wall_clock_seconds=min(limits.wall_clock_seconds, CHECK_WALL_SECONDS),
        cpu_seconds=min(limits.cpu_seconds, CHECK_CPU_SECONDS))


def check_in_sandbox(data: bytes, contract: InputContract, limits: SandboxLimits
                     ) -> StaticCheck:
    """Sniff ``data`` and run its static checks against ``contract`` in a bounded child.

    Raises ``ArtifactRejected`` when the file fails them (pickles, unknown formats, external
    data, custom domains, inputs or outputs off the contract, refused skops types), and
    ``ScoringError`` with reason ``resource_limit`` when checking it needed more memory
    (or disk) than ``limits`` allow: the worker would refuse it the same way."""
    detected = sniff_bytes(data, limits.artifact)
    try:
        _check_in_child(data, detected, contract, check_limits(limits))
    except ArtifactRejected:
        raise
    except ScoringError as error:
        if error.reason is FailureReason.RESOURCE_LIMIT:
            raise
        logger.warning("upload check not finished (%s/%s); the scoring worker checks the "
                       "file", error.reason, error.code)
        return StaticCheck(format=detected, checked=False)
    except Exception:  # a bug of ours must not refuse the upload: the worker checks it
        logger.exception("upload check: unexpected error")
        return StaticCheck(format=detected, checked=False)
    return StaticCheck(format=detected, checked=True)


def _check_in_child(data: bytes, detected: ArtifactFormat, contract: InputContract,
                    limits: SandboxLimits) -> None:
    isolation = sandbox_isolation(limits)
    if isolation.bwrap is not None:
        limits = dataclasses.replace(limits, isolate_network=False)
    isolate_net = limits.isolate_network and network_isolation_available()
    job = {"mode": "check", "format": detected.value, "contract": contract.to_dict(),
           "max_file_bytes": limits.artifact.max_file_bytes}
    job_dir = Path(tempfile.mkdtemp(prefix="mlsd-check-"))  # mode 0700
    try:
        (job_dir / f"model.{detected.value}").write_bytes(data)
        (job_dir / "job.json").write_text(json.dumps(job))
        if limits.run_as_uid is not None:
            gid = limits.run_as_gid if limits.run_as_gid is not None else limits.run_as_uid
            _give_to(job_dir, limits.run_as_uid, gid)
        ended, stderr_text, isolation = _start_and_wait(
            job_dir, limits, isolate_net, _capability_drop_available(), prelude=_CHECKS_WAIT)
        _child_status(job_dir, ended, stderr_text, isolation, limits)
    finally:
        shutil.rmtree(job_dir, ignore_errors=True)
