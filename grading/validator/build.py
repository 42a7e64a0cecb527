"""Build the downloadable validator (a zipapp of the server's own checking modules) and,
from the same files, the ``mlsd`` command line: ``mlsd.pyz`` and an installable wheel.

    python -m grading.validator.build --cli-wheel dist/    # write the wheel to install
"""

from __future__ import annotations

import base64
import hashlib
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
           "engine/sandbox", "engine/serving.py", "validator/main.py")


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
        archive.writestr("grading/validator/contract.json", json.dumps(validator_meta(
            title=title, contract=contract, request_rows=request_rows,
            latency_budget_ms=latency_budget_ms), indent=2))
    return buffer.getvalue()


def _archive_files() -> dict[str, bytes]:
    """The bundle's files by archive name: the engine, the validator and the command line,
    with empty package markers (the server's __init__ files may import more than the bundle
    carries)."""
    files = {"grading/__init__.py": b"", "grading/validator/__init__.py": b""}
    for path in [*_bundled_files(), GRADING_DIR / "validator" / "cli.py"]:
        files[f"grading/{path.relative_to(GRADING_DIR).as_posix()}"] = path.read_bytes()
    return files


def cli_zipapp() -> bytes:
    """The bytes of ``mlsd.pyz``: the command line, with the validator's checks for
    ``mlsd validate``; it fetches each case study's contract from the API."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("__main__.py", "import sys\nfrom grading.validator.cli import main\n"
                                        "sys.exit(main())\n")
        for name, data in _archive_files().items():
            archive.writestr(name, data)
    return buffer.getvalue()


CLI_DISTRIBUTION = "mlsd"


def cli_wheel_name() -> str:
    return f"{CLI_DISTRIBUTION}-{cli_version()}-py3-none-any.whl"


def cli_version() -> str:
    from grading.validator.cli import __version__

    return __version__


def cli_wheel() -> bytes:
    """The bytes of the installable ``mlsd`` wheel (``pip install mlsd-<v>-py3-none-any.whl``
    puts ``mlsd`` on the PATH): the same files as ``mlsd.pyz``, with the metadata pip
    reads. No dependencies; the ``validate`` extra adds what ``mlsd validate`` runs."""
    info = f"{CLI_DISTRIBUTION}-{cli_version()}.dist-info"
    files = _archive_files()
    files[f"{info}/METADATA"] = "\n".join([
        "Metadata-Version: 2.1",
        f"Name: {CLI_DISTRIBUTION}",
        f"Version: {cli_version()}",
        "Summary: The mlsd-mock command line: case studies, training data, model "
        "submissions and leaderboards.",
        "Requires-Python: >=3.11",
        "Provides-Extra: validate",
        *(f'Requires-Dist: {requirement}; extra == "validate"'
          for requirement in ("numpy>=1.26", "pandas>=2.2", "pyarrow>=15", "onnx>=1.16",
                              "onnxruntime>=1.18")),
        "", ""]).encode()
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: mlsd-mock build.py\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[f"{info}/entry_points.txt"] = (b"[console_scripts]\n"
                                         b"mlsd = grading.validator.cli:main\n")
    record = [f"{name},sha256={_record_digest(data)},{len(data)}"
              for name, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _record_digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def validator_meta(*, title: str, contract: InputContract, request_rows: int,
                   latency_budget_ms: int) -> dict:
    """What the validator checks a model against: its ``contract.json``, and what the API
    gives the ``mlsd validate`` command for the same checks."""
    return {
        "title": title,
        "contract": contract.to_dict(),
        "request_rows": request_rows,
        "latency_budget_ms": latency_budget_ms,
    }


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Write the mlsd command line's files.")
    parser.add_argument("--cli-wheel", type=Path, metavar="DIR", help="write the wheel here")
    parser.add_argument("--cli-zipapp", type=Path, metavar="DIR", help="write mlsd.pyz here")
    options = parser.parse_args()
    for folder, name, build in ((options.cli_wheel, cli_wheel_name(), cli_wheel),
                                (options.cli_zipapp, "mlsd.pyz", cli_zipapp)):
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(build())
            print(folder / name)
