"""Build the downloadable validator: a zipapp of the server's own checking modules."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from grading.engine.contract import InputContract

GRADING_DIR = Path(__file__).resolve().parents[1]
# The pure engine modules the server checks and runs models with (none imports Django), and
# the validator's entry point; paths relative to ``grading/``. A folder is bundled whole.
BUNDLED = ("engine/__init__.py", "engine/errors.py", "engine/artifacts.py", "engine/contract.py",
           "engine/onnx_checks.py", "engine/skops_checks.py", "engine/skops_model.py",
           "engine/sandbox", "validator/main.py")


def _bundled_files() -> list[Path]:
    files = []
    for name in BUNDLED:
        path = GRADING_DIR / name
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def validator_zipapp(*, title: str, contract: InputContract, request_rows: int,
                     latency_budget_ms: int) -> bytes:
    """The bytes of a ``.pyz`` that runs ``grading.validator.main`` with this contract."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__main__.py",
                         "import sys\nfrom grading.validator.main import main\n"
                         "sys.exit(main())\n")
        # Empty package markers: the server's __init__ files may import more than the
        # validator carries.
        archive.writestr("grading/__init__.py", "")
        archive.writestr("grading/validator/__init__.py", "")
        for path in _bundled_files():
            archive.write(path, f"grading/{path.relative_to(GRADING_DIR).as_posix()}")
        archive.writestr("grading/validator/contract.json", json.dumps({
            "title": title,
            "contract": contract.to_dict(),
            "request_rows": request_rows,
            "latency_budget_ms": latency_budget_ms,
        }, indent=2))
    return buffer.getvalue()
