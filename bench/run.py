"""Run every benchmark (``make bench``), each in its own process, then write
``docs/benchmarks.md``. ``BENCH_QUICK=1`` runs smaller sizes; ``--only a,b`` runs some."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from bench import common, report
from bench.common import QUICK, log

BENCHMARKS = ("scoring", "throughput", "autosave", "leaderboard", "live")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated: " + ", ".join(BENCHMARKS))
    args = parser.parse_args()
    chosen = [name for name in args.only.split(",") if name] or list(BENCHMARKS)
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    common.services_check()
    started = time.perf_counter()
    log(f"{'quick' if QUICK else 'full'} run: {', '.join(chosen)}; template database")
    common.template_refresh()
    env = {**os.environ, "BENCH_TEMPLATE_READY": "1", "PYTHONPATH": str(common.ROOT)}
    failed = []
    for name in chosen:
        log(f"--- {name}")
        clock = time.perf_counter()
        result = subprocess.run([common.PYTHON, "-m", f"bench.{name}"], cwd=common.ROOT,
                                env=env, check=False)
        log(f"--- {name}: {'ok' if result.returncode == 0 else 'FAILED'} in "
            f"{time.perf_counter() - clock:.0f} s")
        if result.returncode != 0:
            failed.append(name)
    common.database_drop(common.TEMPLATE_DB)
    report.write_docs()
    log(f"done in {time.perf_counter() - started:.0f} s"
        + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
