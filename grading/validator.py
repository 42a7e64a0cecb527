"""Build the downloadable validator: a zipapp of the server's own checking modules."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from grading.contract import InputContract

GRADING_DIR = Path(__file__).resolve().parent
# The pure modules the server checks and runs models with; none imports Django.
BUNDLED_MODULES = ("errors.py", "artifacts.py", "contract.py", "onnx_checks.py", "sandbox.py",
                   "sandbox_child.py")


def validator_zipapp(*, title: str, contract: InputContract, request_rows: int,
                     latency_budget_ms: int) -> bytes:
    """The bytes of a ``.pyz`` that runs ``grading.validator_main`` with this contract."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__main__.py",
                         "import sys\nfrom grading.validator_main import main\n"
                         "sys.exit(main())\n")
        archive.writestr("grading/__init__.py", "")
        for name in (*BUNDLED_MODULES, "validator_main.py"):
            archive.write(GRADING_DIR / name, f"grading/{name}")
        archive.writestr("grading/contract.json", json.dumps({
            "title": title,
            "contract": contract.to_dict(),
            "request_rows": request_rows,
            "latency_budget_ms": latency_budget_ms,
        }, indent=2))
    return buffer.getvalue()
