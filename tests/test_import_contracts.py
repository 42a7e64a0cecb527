"""The import contracts (``[tool.importlinter]`` in pyproject.toml, run by ``make test``)
catch what they promise: each contract, on a copy of the project with one deliberate
violation added, fails, and names the offending import."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# contract id -> (file to append to, relative to the copy; the import that breaks it)
VIOLATIONS = {
    "pure": ("grading/engine/errors.py", "import django.db"),
    "one-way": ("interviews/coverage.py", "from grading import models"),
    "shared": ("mlsd_site/htmx.py", "from interviews import models"),
    "reads": ("grading/selectors/workers.py", "from grading.services import submissions"),
    "grading-layers": ("grading/models.py", "from grading import views"),
    "interviews-layers": ("interviews/models/sessions.py", "from interviews import views"),
}


def lint(project: Path, contract: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", "--contract", contract],
        cwd=project, env={"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("contracts")
    for package in ("grading", "interviews", "mlsd_site"):
        shutil.copytree(ROOT / package, copy / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def test_every_contract_has_a_deliberate_violation():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert {contract["id"] for contract in config["contracts"]} == set(VIOLATIONS)


@pytest.mark.parametrize("contract", sorted(VIOLATIONS))
def test_a_deliberate_violation_breaks_its_contract(project, contract):
    path, line = VIOLATIONS[contract]
    target = project / path
    original = target.read_text()
    target.write_text(original + f"\n{line}  # deliberate violation\n")
    try:
        result = lint(project, contract)
    finally:
        target.write_text(original)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BROKEN" in result.stdout
    module = path.removesuffix(".py").replace("/", ".")
    assert module in result.stdout.replace("\n", " ") or module.rsplit(".", 1)[0] in \
        result.stdout, result.stdout
