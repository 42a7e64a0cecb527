"""Production static files: hashed names everywhere, including inside ES module imports, so
a page never pairs a new script with an old shared module after a deploy."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_collectstatic_rewrites_module_imports_to_hashed_names(tmp_path):
    env = {**os.environ, "DEBUG": "0", "SECRET_KEY": "collectstatic-test-key-0123456789abcdef",
           "ALLOWED_HOSTS": "localhost", "STATIC_ROOT": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "mlsd_site.settings"}
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput"], cwd=ROOT,
                   env=env, check=True, capture_output=True, timeout=300)
    for page in ("session", "scorecard"):
        (hashed,) = [p for p in (tmp_path / "js").glob(f"{page}.*.js")
                     if re.fullmatch(rf"{page}\.[0-9a-f]{{12}}\.js", p.name)]
        imports = re.findall(r"""from\s+["']([^"']+)["']""", hashed.read_text())
        assert imports, f"{hashed.name} imports nothing?"
        for target in imports:
            assert re.search(r"\.[0-9a-f]{12}\.js$", target), (hashed.name, target)
            assert (hashed.parent / target).resolve().is_file(), (hashed.name, target)
