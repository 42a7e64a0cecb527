"""Run code inside the real sandbox in place of the child, and read back what it saw.

The probe replaces the child's bootstrap (``runner._BOOTSTRAP``, what ``_run_child`` starts)
and reports through the one channel a child has: ``status.json`` in its job folder, read by
the parent's own ``_read_status`` (wrapped here to keep a copy). Everything else about the
run is untouched: the same bubblewrap command, mounts, uid, rlimits and environment.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grading.engine.contract import InputContract
from grading.engine.errors import FailureReason, ScoringError
from grading.engine.sandbox import SandboxLimits, run_in_sandbox, runner
from grading.tests import hostile

CONTRACT = InputContract(
    columns=(("a", "float32"), ("b", "float32"), ("c", "float32")), task_type="binary"
)

# ``attempt(name, fn)`` records ["ok", result] (as JSON; repr() of what JSON cannot hold) or
# ["error", "Type: message"].
_PRELUDE = """
import json, os, sys
seen = {}
def attempt(name, action):
    try:
        seen[name] = ["ok", action()]
    except BaseException as exc:
        seen[name] = ["error", f"{type(exc).__name__}: {exc}"[:300]]
"""
_REPORT = """
with open("status.json", "w") as out:
    json.dump({"status": "error", "kind": "probe", "message": "probe", "seen": seen}, out,
              default=lambda value: repr(value)[:300])
"""


def probe_child(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, code: str,
                limits: SandboxLimits | None = None) -> dict[str, Any]:
    """Run ``code`` (which fills the dict ``seen``, see ``attempt``) as the sandbox child on
    a small honest model and features; return ``seen``, with ``seen["host uid"]`` the uid
    the child had on the host (the owner of the status file it wrote)."""
    features = tmp_path / "probe-features.npz"
    import numpy as np

    np.savez(features, **{name: np.zeros(10, dtype=np.float32) for name in "abc"})
    captured: dict[str, Any] = {}
    read_status = runner._read_status

    def keep(job_dir: Path) -> dict[str, Any] | None:
        status = read_status(job_dir)
        if status is not None:
            # Who the child is on the host: the owner of the file it wrote.
            status.setdefault("seen", {})["host uid"] = (job_dir / "status.json").stat().st_uid
        captured["status"] = status
        return status

    monkeypatch.setattr(runner, "_BOOTSTRAP", _PRELUDE + code + _REPORT)
    monkeypatch.setattr(runner, "_read_status", keep)
    model = hostile.good_onnx(tmp_path / "probe-model.onnx")
    with pytest.raises(ScoringError) as info:  # a probe's status is never "ok"
        run_in_sandbox(model, None, features, CONTRACT, limits or SandboxLimits())
    assert info.value.reason == FailureReason.INTERNAL_ERROR, info.value
    status = captured.get("status")
    assert status is not None and status.get("kind") == "probe", (
        f"the probe reported nothing: {info.value!r}")
    return status["seen"]


def failed(outcome: list[str]) -> bool:
    """Did the probe's attempt raise?"""
    return outcome[0] == "error"


def dumps(seen: dict[str, Any]) -> str:
    return json.dumps(seen, indent=1)
