"""Mermaid is vendored at install time, pinned and integrity-checked, and never committed."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_makefile_pins_mermaid_with_its_sha512_and_install_vendors_it():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^MERMAID_VERSION := \d+\.\d+\.\d+$", makefile, re.M)
    assert re.search(r"^MERMAID_INTEGRITY := sha512-[A-Za-z0-9+/]{86}==$", makefile, re.M)
    assert re.search(r"^install: .*\$\(MERMAID_STAMP\)", makefile, re.M)
    assert "npm pack" in makefile


def test_the_vendored_file_is_gitignored():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "static/vendor/mermaid/mermaid.min.js"], cwd=ROOT
    )
    assert ignored.returncode == 0
