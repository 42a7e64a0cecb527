"""Mermaid is vendored at install time, pinned and integrity-checked, and never committed."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _vendor(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess:
    """`make vendor` into folders of this test's own (the project's Makefile, as is)."""
    return subprocess.run(
        ["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "vendor",
         f"VAR_DIR={tmp_path / 'var'}", f"MERMAID_DIR={tmp_path / 'mermaid'}", *overrides],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )


def test_vendoring_checks_the_pinned_sha512_and_keeps_only_the_bundle(tmp_path):
    """What `make install` does for Mermaid, by behaviour: the pinned tarball from the npm
    registry, refused when its sha512 differs from the pinned one, else only
    dist/mermaid.min.js (and the licence) kept."""
    tampered = _vendor(tmp_path, "MERMAID_INTEGRITY=sha512-" + "A" * 86 + "==")
    assert tampered.returncode != 0
    assert "integrity mismatch" in tampered.stdout + tampered.stderr
    assert not (tmp_path / "mermaid" / "mermaid.min.js").exists()

    vendored = _vendor(tmp_path)
    assert vendored.returncode == 0, vendored.stdout + vendored.stderr
    kept = sorted(path.name for path in (tmp_path / "mermaid").iterdir())
    assert [name for name in kept if not name.startswith(".version-")] == [
        "LICENSE", "mermaid.min.js"]
    bundle = (tmp_path / "mermaid" / "mermaid.min.js").read_bytes()
    assert len(bundle) > 1_000_000 and b"mermaid" in bundle[:4096].lower()
    # The same bytes `make install` put under static/ (one pinned version).
    installed = ROOT / "static" / "vendor" / "mermaid" / "mermaid.min.js"
    if installed.exists():
        assert installed.read_bytes() == bundle


def test_the_vendored_file_is_gitignored():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "static/vendor/mermaid/mermaid.min.js"], cwd=ROOT
    )
    assert ignored.returncode == 0
