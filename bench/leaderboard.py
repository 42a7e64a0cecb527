"""Leaderboard at scale: 10k candidates and 100k submissions (each with its current score and
the plots, metrics and per-slice values a real score carries), the public leaderboard page's
latency at 1k, 10k and 100k submissions against raw SQL fetching the same rows, and its
number of queries.

Rows are bulk-inserted directly (as ``grading.services.score_report_save`` would leave them:
a scored submission, a current score, one ``LeaderboardEntry`` per candidate with their best
public score, and the best-score-over-time records). Pages are requested through Django's
test client in this process (the whole view: selector, template, middleware); the floor is
one SQL statement returning the page's rows with their ranks, run on the same connection.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import numpy as np

from bench import common
from bench.common import QUICK, Results, log, percentile

NAME = "leaderboard"
DB_NAME = "mlsd_bench_leaderboard"
DATA_DIR = common.VAR_DIR / "leaderboard"
SLUG = "ad-click-prediction"
PER_CANDIDATE = 10
SCALES = (1_000, 10_000) if QUICK else (1_000, 10_000, 100_000)
REQUESTS = 20 if QUICK else 60
P95_TARGET_MS = 100.0
FLAT_TARGET = 1.5  # p95 at the largest scale over p95 at the smallest
BATCH = 2_000
SEED = 11


def _plots(rng: np.random.Generator) -> dict[str, Any]:
    def curve() -> list[list[float]]:
        xs = np.sort(rng.random(120))
        return [[round(float(x), 5), round(float(y), 5)] for x, y in zip(
            xs, np.sort(rng.random(120)), strict=True)]

    def reliability() -> list[dict[str, float]]:
        return [{"predicted": round(float(p), 6), "observed": round(float(p * 1.1), 6),
                 "rows": 30_000} for p in np.sort(rng.random(10) * 0.1)]

    return {part: {"roc": curve(), "pr": curve(), "reliability": reliability()}
            for part in ("public", "all")}


class Generator:
    """Realistic rows for one case study (log loss primary, binary secondaries)."""

    def __init__(self, case_study: Any, dataset: Any, leaderboard: Any) -> None:
        self.case_study, self.dataset, self.leaderboard = case_study, dataset, leaderboard
        self.rng = np.random.default_rng(SEED)
        self.plot_pool = [json.dumps(_plots(self.rng)) for _ in range(50)]
        self.epoch = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
        self.best: float | None = None
        self.candidates = 0

    def metrics(self, log_loss: float) -> dict[str, float]:
        rng = self.rng
        return {"log_loss": log_loss, "normalized_entropy": log_loss / 0.1,
                "roc_auc": float(0.7 + rng.random() * 0.1),
                "pr_auc": float(0.05 + rng.random() * 0.05),
                "expected_calibration_error": float(rng.random() * 0.01),
                "calibration_ratio": float(0.9 + rng.random() * 0.2)}

    def add_candidates(self, count: int) -> None:
        """``count`` new candidates with ``PER_CANDIDATE`` scored submissions each."""
        from django.contrib.auth import get_user_model

        from grading.models import LeaderboardEntry, LeaderboardRecord, Score, Submission
        from grading.services.leaderboards import sort_value

        user_model = get_user_model()
        start = self.candidates
        users = [user_model(username=f"candidate{start + i:06d}") for i in range(count)]
        for user in users:
            user.set_unusable_password()
        user_model.objects.bulk_create(users, batch_size=BATCH)
        self.candidates += count
        rng = self.rng
        submissions, scores, best_of, last_of = [], [], {}, {}
        for user in users:
            skill = 0.095 + rng.random() * 0.01
            for k in range(PER_CANDIDATE):
                created = self.epoch + dt.timedelta(seconds=float(rng.random() * 30 * 86400))
                public = round(float(skill + rng.normal(0, 0.0005) - k * 0.0001), 6)
                private = round(public + float(rng.normal(0, 0.0003)), 6)
                submission = Submission(
                    uuid=uuid.uuid4(), case_study=self.case_study, candidate=user,
                    artifact=f"artifacts/{SLUG}/{uuid.uuid4()}.bin",
                    original_filename="model.onnx", artifact_format="onnx",
                    artifact_bytes=int(2000 + rng.integers(0, 5_000_000)),
                    status=Submission.Status.SCORED, attempts=1, quota_day=created.date(),
                    enqueued_at=created, started_at=created, finished_at=created)
                submissions.append(submission)
                scores.append((submission, public, private, created))
        Submission.objects.bulk_create(submissions, batch_size=BATCH)
        rows = []
        half = 0.0008
        for submission, public, private, created in scores:
            rows.append((
                submission.pk, self.dataset.pk, 1, True, "log_loss", public, private,
                private - half, private + half, public - half, public + half,
                json.dumps({"public": self.metrics(public), "private": self.metrics(private),
                            "all": self.metrics((public + private) / 2)}),
                json.dumps({part: {f"week {w}": public + w * 0.0002 for w in range(1, 5)}
                            for part in ("public", "all")}),
                self.plot_pool[len(rows) % len(self.plot_pool)],
                2.0, float(3 + rng.random() * 40), 80, submission.artifact_bytes,
                float(2 + rng.random()), True, created))
            last_of[submission.candidate_id] = max(
                created, last_of.get(submission.candidate_id, created))
            current = best_of.get(submission.candidate_id)
            if current is None or public < current[1]:
                best_of[submission.candidate_id] = (submission, public, private, created)
        copy_rows(Score, SCORE_COLUMNS, rows)
        entries, records = [], []
        for user in users:
            submission, public, private, _ = best_of[user.pk]
            last = last_of[user.pk]
            entries.append(LeaderboardEntry(
                leaderboard=self.leaderboard, candidate=user, submission=submission,
                display_name=user.username, public_primary=public,
                public_ci_low=public - 0.0008, public_ci_high=public + 0.0008,
                private_primary=private, private_ci_low=private - 0.0008,
                private_ci_high=private + 0.0008, public_sort=sort_value("log_loss", public),
                private_sort=sort_value("log_loss", private),
                metrics={"public": self.metrics(public), "private": self.metrics(private)},
                latency_p99_ms=20.0, latency_budget_ms=80,
                artifact_bytes=submission.artifact_bytes, submission_count=PER_CANDIDATE,
                last_submitted_at=last, scored_at=last))
        for submission, public, _, created in sorted(scores, key=lambda s: s[3]):
            if self.best is None or public < self.best:
                self.best = public
                records.append(LeaderboardRecord(leaderboard=self.leaderboard,
                                                 submission=submission, public_primary=public,
                                                 achieved_at=created))
        LeaderboardEntry.objects.bulk_create(entries, batch_size=BATCH)
        LeaderboardRecord.objects.bulk_create(records, batch_size=BATCH)


SCORE_COLUMNS = (
    "submission_id", "dataset_id", "scorer_version", "is_current", "primary_metric",
    "public_primary", "private_primary", "private_ci_low", "private_ci_high", "public_ci_low",
    "public_ci_high", "metrics", "per_slice", "plots", "latency_p50_ms", "latency_p99_ms",
    "latency_budget_ms", "artifact_bytes", "scoring_seconds", "network_isolated", "created_at")


def copy_rows(model: Any, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """COPY ``rows`` into ``model``'s table: scores carry ~11 kB of JSON each, which
    ``bulk_create`` would decode, encode and bind row by row."""
    from django.db import connection

    names = ", ".join(columns)
    with connection.cursor() as cursor, cursor.connection.cursor() as raw, raw.copy(
            f"COPY {model._meta.db_table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


RAW_PAGE_SQL = """
SELECT e.*, rank() OVER (ORDER BY e.public_sort DESC) AS rank
FROM grading_leaderboardentry e
WHERE e.leaderboard_id = %s
ORDER BY {order}, e.last_submitted_at, e.id
LIMIT 50 OFFSET %s
"""
ORDERS = {
    "primary": "e.public_sort DESC",
    "roc_auc": "(e.metrics -> 'public' ->> 'roc_auc')::double precision DESC NULLS LAST",
}


def raw_page(leaderboard_id: int, order: str, offset: int) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(RAW_PAGE_SQL.format(order=ORDERS[order]), [leaderboard_id, offset])
        return len(cursor.fetchall())


def measure(leaderboard: Any, entries: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    viewer = Client()
    viewer.force_login(get_user_model().objects.create_user(f"viewer-{entries}", password=None))
    anonymous = Client()
    pages = max(1, -(-entries // 50))
    url = f"/case-studies/{SLUG}/leaderboard/"
    variants = {
        "page 1, anonymous": (anonymous, url, "primary", 0),
        "page 1, logged in": (viewer, url, "primary", 0),
        "middle page, by ROC AUC": (viewer, f"{url}?page={pages // 2 + 1}&sort=roc_auc",
                                    "roc_auc", (pages // 2) * 50),
    }
    out = {}
    for name, (client, path, order, offset) in variants.items():
        assert client.get(path).status_code == 200  # warm up
        raw_page(leaderboard.pk, order, offset)
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        queries = len(captured.captured_queries)  # now: the next request clears the log
        page_ms, raw_ms = [], []
        for _ in range(REQUESTS):
            seconds, response = common.timed(lambda c=client, p=path: c.get(p))
            assert response.status_code == 200, response.status_code
            page_ms.append(seconds * 1000)
            raw_ms.append(common.timed(
                lambda o=order, f=offset: raw_page(leaderboard.pk, o, f))[0] * 1000)
        out[name] = {"page_p50_ms": percentile(page_ms, 50),
                     "page_p95_ms": percentile(page_ms, 95),
                     "raw_p50_ms": percentile(raw_ms, 50), "raw_p95_ms": percentile(raw_ms, 95),
                     "queries": queries}
    return out


def main() -> None:
    common.services_check()
    common.django_setup(DB_NAME, DATA_DIR)
    from grading.models import Score, Submission
    from grading.services.datasets import dataset_build
    from grading.services.leaderboards import leaderboard_for
    from interviews.models import CaseStudy

    case_study = CaseStudy.objects.get(slug=SLUG)
    dataset, _ = dataset_build(case_study=case_study, size="tiny")
    leaderboard = leaderboard_for(case_study)
    leaderboard.is_public = True
    leaderboard.save()
    generator = Generator(case_study, dataset, leaderboard)
    scales: dict[int, Any] = {}
    for submissions in SCALES:
        wanted = submissions // PER_CANDIDATE
        log(f"inserting up to {wanted:,} candidates and {submissions:,} submissions")
        seconds, _ = common.timed(
            lambda w=wanted: generator.add_candidates(w - generator.candidates))
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        log(f"inserted in {seconds:.0f} s; measuring")
        scales[submissions] = {
            "candidates": generator.candidates, "insert_seconds": seconds,
            "submissions_in_db": Submission.objects.count(),
            "scores_in_db": Score.objects.count(),
            "entries": leaderboard.entries.count(),
            "records": leaderboard.records.count(),
            "variants": measure(leaderboard, leaderboard.entries.count())}
    report(scales).write()
    from django.db import connections

    connections.close_all()
    common.database_drop(DB_NAME)


def report(scales: dict[int, Any]) -> Results:
    results = Results(NAME, "Leaderboard at scale")
    largest, smallest = max(scales), min(scales)
    rows = []
    for submissions, scale in scales.items():
        for name, v in scale["variants"].items():
            rows.append([f"{submissions:,}", f"{scale['candidates']:,}", name,
                         f"{v['page_p50_ms']:.1f}", f"{v['page_p95_ms']:.1f}",
                         f"{v['raw_p95_ms']:.2f}", f"{v['page_p95_ms'] / v['raw_p95_ms']:.0f}",
                         v["queries"]])
    for name, v in scales[largest]["variants"].items():
        results.figure(
            label=f"leaderboard page p95, {name}, {largest:,} submissions / "
                  f"{scales[largest]['candidates']:,} candidates",
            value=v["page_p95_ms"], unit="ms", floor=v["raw_p95_ms"],
            floor_label="raw SQL for the same 50 rows with ranks",
            target=f"≤ {P95_TARGET_MS:.0f} ms", met=v["page_p95_ms"] <= P95_TARGET_MS)
    for name in scales[largest]["variants"]:
        big = scales[largest]["variants"][name]["page_p95_ms"]
        small = scales[smallest]["variants"][name]["page_p95_ms"]
        results.figure(
            label=f"leaderboard growth {smallest:,} → {largest:,} submissions, {name}",
            value=big, unit="ms", floor=small, floor_label=f"p95 at {smallest:,} submissions",
            target=f"≤ {FLAT_TARGET} (about flat)", met=big / small <= FLAT_TARGET)
        counts = {s: scales[s]["variants"][name]["queries"] for s in scales}
        results.figure(
            label=f"leaderboard queries per request, {name}", value=counts[largest],
            unit="queries", floor=counts[smallest], floor_label=f"at {smallest:,} submissions",
            target="constant", met=len(set(counts.values())) == 1)
    results.table(
        "Public leaderboard page", ["submissions", "candidates", "request", "page p50 ms",
                                    "page p95 ms", "raw SQL p95 ms", "page / SQL",
                                    "queries"], rows,
        note=f"{REQUESTS} requests per line through Django's test client, each followed by the "
             "raw SQL; 50 rows a page; 10 submissions per candidate, each with its score, "
             "metrics, per-slice values and ~11 kB of plot data; one leaderboard entry per "
             "candidate.")
    results.table("Rows inserted", ["submissions", "candidates", "entries", "records",
                                    "insert s"],
                  [[f"{s:,}", f"{v['candidates']:,}", f"{v['entries']:,}", v["records"],
                    f"{v['insert_seconds']:.0f}"] for s, v in scales.items()])
    results.details = {"scales": scales}
    return results


if __name__ == "__main__":
    main()
