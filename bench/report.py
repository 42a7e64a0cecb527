"""Write ``docs/benchmarks.md`` from ``bench/results/*.json``.

The full run's results are the page; the latest quick run (``BENCH_QUICK=1``) follows in a
section of its own. Text between the ``findings`` markers is written by people (what the
profiles showed, what to change) and is kept as it is when the page is regenerated.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.common import RESULTS_DIR, ROOT

DOC = ROOT / "docs" / "benchmarks.md"
ORDER = ("scoring", "throughput", "autosave", "leaderboard", "live")
START, END = "<!-- findings: kept when the page is regenerated -->", "<!-- /findings -->"

INTRO = """\
# Benchmarks

`make bench` (about 25 minutes on 2 cores) or `BENCH_QUICK=1 make bench` (5–8 minutes,
smaller sizes) runs `bench/run.py`: each benchmark in its own process, on its own PostgreSQL
database cloned from a migrated template (`mlsd_bench_*` on 127.0.0.1:5432, dropped
afterwards) and Redis db 14. Results go to `bench/results/<name>.json` (`-quick.json` for the
quick run) and this page is regenerated from them; `python -m bench.run --only scoring` runs
one benchmark, `python -m bench.report` rewrites the page only.

The machines are shared and noisy, so **every figure stands beside a floor measured in the
same run on the same machine**, and the ratio is what to compare between runs:
"""


TARGETS = [
    ("scoring", "`submission_score` on a queued submission, on the warm sandbox: held-out "
     "load, checks, sandbox, prediction, serving load test, validation, metrics on three "
     "splits, intervals, per-slice values, plots, database write; the sandbox's fixed cost "
     "per job",
     "onnxruntime (one thread, like the sandbox) on feeds already in memory + one "
     "primary-metric computation + the load test's requests back to back, in process; the "
     "load test alone against those requests; the fixed cost beside a cold child's",
     "≤ 1.5 × floor at 1M rows (job and load test); fixed cost ≤ 0.1 s (issue 19); interval "
     "≤ 2 primary-metric computations; time about linear in rows"),
    ("throughput", "N uploads through `submission_create`, drained by 1 and 2 real Celery "
     "workers on Redis and PostgreSQL",
     "the same job run back to back in process, × workers", "none lost"),
    ("autosave", "50 candidates saving once a second for 60 s through gunicorn",
     "an authenticated no-op POST on the same server, same load",
     "p99 ≤ 50 ms, no errors, throughput ≥ ½ the no-op's"),
    ("leaderboard", "the public page through gunicorn at 1k, 10k and 100k submissions (100 to "
     "10k candidates): page 1 anonymous and signed in, a middle page by ROC AUC",
     "an authenticated no-op GET on the same server in the same run",
     "p95 ≤ 3 × the no-op's (issue 19), about flat, constant query count"),
    ("live", "100 live rooms across two uvicorn processes on a Redis channel layer, each "
     "candidate typing 5 keys a second: keystroke to the interviewer's socket, and events "
     "appended to the log",
     "a no-op relay across the same two processes in the same seconds (and a Redis PING); "
     "10, 50 and 100 rooms for the growth curve",
     "no event lost, duplicated or out of order; keystroke p99 ≤ 250 ms (issue 19)"),
]


def _load(name: str, quick: bool) -> dict[str, Any] | None:
    path = RESULTS_DIR / f"{name}{'-quick' if quick else ''}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    if unit in ("share",):
        return f"{value * 100:.2f} %"
    magnitude = abs(value)
    digits = 0 if magnitude >= 100 else 1 if magnitude >= 10 else 2 if magnitude >= 1 else 3
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}".strip() if unit and unit != "" else text


def _met(met: bool | None) -> str:
    return "–" if met is None else ("yes" if met else "**no**")


def _table(columns: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def _figures_table(figures: list[dict[str, Any]]) -> list[str]:
    rows = []
    for f in figures:
        ratio = "–" if f.get("ratio") is None else f"{f['ratio']:.2f}"
        floor = _number(f.get("floor"), f.get("unit", ""))
        if f.get("floor_label"):
            floor += f" ({f['floor_label']})"
        label = f["label"] + (f" — {f['note']}" if f.get("note") else "")
        rows.append([label, _number(f.get("value"), f.get("unit", "")), floor, ratio,
                     f.get("target") or "–", _met(f.get("met"))])
    return _table(["figure", "value", "floor", "ratio", "target", "met?"], rows)


def _machine(result: dict[str, Any]) -> str:
    m = result["machine"]
    load = "/".join(f"{v:.1f}" for v in m["load_average"])
    load_end = "/".join(f"{v:.1f}" for v in m.get("load_average_end", []))
    return (f"{m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; Python {m['python']}; "
            f"{m['os']}; commit {m['commit'] or '?'}; load average {load} at the start, "
            f"{load_end} at the end")


def _section(result: dict[str, Any], level: str = "##") -> list[str]:
    lines = [f"{level} {result['title']}", ""]
    lines.append(f"- **Date**: {result['started_at']} (UTC), {result['duration_seconds']:.0f} s")
    lines.append(f"- **Machine**: {_machine(result)}")
    lines.append(f"- **Command**: `{result['command']}`")
    lines += ["", *_figures_table(result["figures"]), ""]
    for table in result["tables"]:
        lines += [f"**{table['title']}**", ""]
        lines += _table(table["columns"], table["rows"])
        if table.get("note"):
            lines += ["", table["note"]]
        lines.append("")
    for note in result.get("notes", []):
        lines += [note, ""]
    return lines


def _summary(results: list[dict[str, Any]]) -> list[str]:
    rows = []
    for result in results:
        for f in result["figures"]:
            if f.get("met") is None:
                continue
            ratio = "–" if f.get("ratio") is None else f"{f['ratio']:.2f}"
            rows.append([result["name"], f["label"], _number(f.get("value"), f.get("unit", "")),
                         _number(f.get("floor"), f.get("unit", "")), ratio, f["target"],
                         _met(f["met"])])
    met = sum(r[-1] == "yes" for r in rows)
    lines = ["## Targets at a glance", "", f"{met} of {len(rows)} targets met in the full run.",
             ""]
    return lines + _table(["benchmark", "figure", "value", "floor", "ratio", "target", "met?"],
                          rows) + [""]


def _kept_findings() -> list[str]:
    if not DOC.exists():
        return [START, "", "(Profile findings go here.)", "", END]
    text = DOC.read_text()
    if START in text and END in text:
        return [text[text.index(START):text.index(END) + len(END)]]
    return [START, "", END]


def write_docs() -> Path:
    full = [r for name in ORDER if (r := _load(name, quick=False))]
    quick = [r for name in ORDER if (r := _load(name, quick=True))]
    lines = [INTRO, *_table(["benchmark", "figure", "floor", "target (issues 8 and 19)"],
                            [list(t) for t in TARGETS]), ""]
    if full:
        lines += _summary(full)
    lines += _kept_findings() + [""]
    for result in full:
        lines += _section(result)
    if quick:
        lines += ["## Latest quick run (`BENCH_QUICK=1 make bench`)", "",
                  "Smaller sizes (10k and ~100k held-out rows; 20 submissions; 15 s of autosave; "
                  "up to 10k submissions on the leaderboard), to check that the benchmarks "
                  "run; targets are judged on the full run above. Each section says the "
                  "commit it ran on: a quick run older than the full one measured older "
                  "code.", ""]
        for result in quick:
            lines += _section(result, level="###")
    DOC.write_text("\n".join(lines).rstrip() + "\n")
    print(f"wrote {DOC.relative_to(ROOT)}", flush=True)
    return DOC


if __name__ == "__main__":
    write_docs()
