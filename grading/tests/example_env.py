"""Following the case-study page's training example as a candidate would: its ``pip install``
line in a virtualenv of its own, a model family swapped in, the script run there.

The virtualenv is built once per install line (and Python) under
``var/training-example-venvs/`` (``$MLSD_VAR_DIR`` moves it): about 30 s from the package
index, then reused. Used by ``grading/tests/test_training_example.py`` and the browser test
``tests/e2e/test_upload_real_models.py``.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_ROOT = Path(os.environ.get("MLSD_VAR_DIR", ROOT / "var")) / "training-example-venvs"
# What the users trained; the first is the model the example prints.
FAMILIES = ("linear", "HistGradientBoosting", "GradientBoosting", "RandomForest")
_STEP = r'\("(?:classifier|regressor)", '


def install_line(example: str) -> list[str]:
    """The arguments of the example's one ``pip install`` line, as printed."""
    lines = re.findall(r"^#\s+pip install (.+)$", example, flags=re.MULTILINE)
    assert len(lines) == 1, f"the example has {len(lines)} pip install lines"
    return lines[0].split()


def with_family(example: str, family: str) -> str:
    """The example as a candidate edits it for ``family``: the printed model line commented
    out and that family's commented line put in (the example itself for the first one)."""
    if family == FAMILIES[0]:
        return example
    lines = example.splitlines(keepends=True)
    printed = [i for i, line in enumerate(lines) if re.fullmatch(rf"    {_STEP}.*\),\n", line)]
    swap = [i for i, line in enumerate(lines)
            if re.fullmatch(rf"    # {_STEP}{family}\w*\(.*\),\n", line)]
    assert len(printed) == 1, "the example prints no single model line"
    assert len(swap) == 1, f"the example suggests no {family} model"
    lines[printed[0]] = "    # " + lines[printed[0]].lstrip()
    lines[swap[0]] = "    " + lines[swap[0]].split("# ", 1)[1]
    return "".join(lines)


def example_virtualenv(pins: list[str]) -> Path:
    """The python of a virtualenv holding exactly ``pip install <pins>`` (built on first use,
    then reused; one build at a time across processes)."""
    key = hashlib.sha256("\n".join([sys.version, *pins]).encode()).hexdigest()[:12]
    venv = VENV_ROOT / key
    python = venv / "bin" / "python"
    VENV_ROOT.mkdir(parents=True, exist_ok=True)
    with (VENV_ROOT / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".installed").exists():
            # A new line replaces the old one's virtualenv (each is about 650 MB).
            for stale in VENV_ROOT.iterdir():
                if stale.is_dir():
                    shutil.rmtree(stale, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
            installed = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *pins],
                                       capture_output=True, text=True, timeout=1200)
            assert installed.returncode == 0, installed.stderr[-3000:]
            (venv / ".installed").write_text(" ".join(pins) + "\n")
    return python


def run_in(python: Path, arguments: list, cwd: Path, timeout: int = 600) -> str:
    """Run ``python arguments`` in ``cwd`` with a bare environment, as a candidate's shell
    would; fail with its output unless it succeeds. Returns its stdout."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8"}
    done = subprocess.run([str(python), *map(str, arguments)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{arguments}:\n{done.stdout[-1500:]}\n{done.stderr[-3000:]}"
    return done.stdout
