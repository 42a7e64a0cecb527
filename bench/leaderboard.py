"""Leaderboard at scale: 10k candidates and 100k submissions (each with its current score and
the plots, metrics, per-slice values, scenario values and serving figures a real score
carries), the public leaderboard page's latency at 1k, 10k and 100k submissions on a real
server beside an authenticated no-op view on the same server in the same run, and its
number of queries.

Rows are bulk-inserted directly (as ``grading.services.score_report_save`` would leave them:
a scored submission, a current score, one ``LeaderboardEntry`` per candidate with their best
public score and serving figures, and the best-score-over-time records), and the board's row
is then written as a landing score writes it, which moves its change marker. Pages are
requested from gunicorn (3 sync workers, persistent database connections, the cache on
Redis, as in production) by one client, one request at a time, each page request beside a
GET of the no-op view (``bench.urls``), so both meet the same noise; the ratio of their
p95s is the figure. A page is cached between changes of the board, so it is measured twice:
between changes (the steady state, the target's figure) and as the first request after a
change (the board's row written again before each request), whose cost the next reader
pays. Query counts come from Django's test client in this process; raw SQL fetching the same
rows with their ranks is kept as a further reference.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import socket
import subprocess
import time
import uuid
from typing import Any

import numpy as np

from bench import common, loadclient
from bench.common import QUICK, Results, log, percentile

NAME = "leaderboard"
DB_NAME = "mlsd_bench_leaderboard"
DATA_DIR = common.VAR_DIR / "leaderboard"
SLUG = "ad-click-prediction"
PER_CANDIDATE = 10
SCALES = (1_000, 10_000) if QUICK else (1_000, 10_000, 100_000)
REQUESTS = 100 if QUICK else 300  # page requests per line, each beside a no-op request
WARM_UP = 15  # of each kind per line, so that every worker has compiled and connected
MISSES = 8 if QUICK else 20  # first requests after a change, per line
RAW_REQUESTS = 20 if QUICK else 60
RATIO_TARGET = 3.0  # page p95 over the no-op's
FLAT_TARGET = 1.5  # p95 at the largest scale over p95 at the smallest
GUNICORN_WORKERS = 3
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


def _serving_pool(case_study: Any, rng: np.random.Generator) -> list[dict[str, Any]]:
    """``Score.serving`` as the scorer computes it (the load test at the case study's target
    rate), for 50 models between 0.5 and 8 ms a request."""
    from grading.engine.serving import serving_report

    pool = []
    for k in range(50):
        service_ms = 0.5 + 7.5 * k / 49
        service = rng.uniform(0.8, 1.2, 50) * service_ms / 1000
        pool.append(serving_report(
            service_seconds=service.tolist(), load_seconds=0.05,
            peak_memory_bytes=150 * 2**20, request_rows=1,
            target_rps=float(case_study.target_rate_rps),
            budget_ms=case_study.latency_budget_ms, seed=k, price_per_core_hour_usd=0.05))
    return pool


def _scenarios(public: float) -> dict[str, Any]:
    return {part: {name: {"value": public + d, "low": public + d - 0.002,
                          "high": public + d + 0.002, "rows": 3_000}
                   for name, d in (("cold_start", 0.004), ("latest_week", 0.001),
                                   ("missing_features", 0.006))}
            for part in ("public", "all")}


class Generator:
    """Realistic rows for one case study (log loss primary, binary secondaries)."""

    def __init__(self, case_study: Any, dataset: Any, leaderboard: Any) -> None:
        self.case_study, self.dataset, self.leaderboard = case_study, dataset, leaderboard
        self.rng = np.random.default_rng(SEED)
        self.plot_pool = [json.dumps(_plots(self.rng)) for _ in range(50)]
        self.serving_pool = _serving_pool(case_study, self.rng)
        self.serving_json = [json.dumps(s) for s in self.serving_pool]
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
        from grading.services.leaderboards import board_serving, sort_value

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
                float(2 + rng.random()), True, created,
                self.serving_json[submission.pk % len(self.serving_json)],
                json.dumps(_scenarios(public))))
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
                serving=board_serving(
                    self.serving_pool[submission.pk % len(self.serving_pool)]),
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
    "latency_budget_ms", "artifact_bytes", "scoring_seconds", "network_isolated", "created_at",
    "serving", "scenarios")


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
    "roc_auc": "e.public_sort_roc_auc DESC",  # the indexed column the page sorts by
}


def raw_page(leaderboard_id: int, order: str, offset: int) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(RAW_PAGE_SQL.format(order=ORDERS[order]), [leaderboard_id, offset])
        return len(cursor.fetchall())


def session_for(user: Any) -> str:
    """A logged-in browser session for ``user``, made in the database."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def board_changed(leaderboard: Any) -> None:
    """Write the board's row as a landing score does (``_leaderboard_touch`` in
    ``grading.services.leaderboards``): its cached pages are drawn again."""
    from django.db.models import F

    from grading.models import Leaderboard

    Leaderboard.objects.filter(pk=leaderboard.pk).update(public_decimals=F("public_decimals"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """gunicorn as ``docker/Dockerfile`` runs it, answering /healthz."""
    return common.server_start(
        [common.PYTHON, "-m", "gunicorn", "mlsd_site.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", str(GUNICORN_WORKERS), "--timeout", "60"],
        env={**env, "DATABASE_CONN_MAX_AGE": "60"}, port=port,
        log_path=DATA_DIR / "gunicorn.log", append=True)


class Server:
    """GET requests to the benchmark's gunicorn, timed from the connection's opening to the
    last byte (``loadclient.request``: one connection a request, as sync workers do)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.loop = asyncio.new_event_loop()

    def get_ms(self, path: str, cookie: str | None) -> tuple[float, bytes]:
        headers = {"Cookie": f"sessionid={cookie}"} if cookie else {}

        async def once() -> tuple[float, loadclient.Response]:
            start = time.perf_counter()
            response = await loadclient.request(self.port, "GET", path, headers=headers)
            return time.perf_counter() - start, response

        seconds, response = self.loop.run_until_complete(once())
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status}")
        return seconds * 1000, response.body

    def close(self) -> None:
        self.loop.close()


def queries(path: str, viewer: Any | None) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    if viewer is not None:
        client.force_login(viewer)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


def measure(leaderboard: Any, entries: int, env: dict[str, str]) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    # The reader of the signed-in lines is the top candidate: their row, on page 1, carries
    # the "you" mark, filled per request.
    top = leaderboard.entries.filter(is_baseline=False).order_by("-public_sort", "pk").first()
    viewer = get_user_model().objects.get(pk=top.candidate_id)
    cookie = session_for(viewer)
    pages = max(1, -(-entries // 50))
    url = f"/case-studies/{SLUG}/leaderboard/"
    variants = {
        "page 1, anonymous": (None, url, "primary", 0),
        "page 1, signed in": (cookie, url, "primary", 0),
        "middle page, by ROC AUC, signed in": (
            cookie, f"{url}?page={pages // 2 + 1}&sort=roc_auc", "roc_auc", (pages // 2) * 50),
    }
    noop = "/bench/noop/get/"
    out: dict[str, Any] = {}
    port = free_port()
    process = start_gunicorn(env, port)
    server = Server(port)
    try:
        for name, (who, path, order, offset) in variants.items():
            board_changed(leaderboard)
            for _ in range(WARM_UP):
                server.get_ms(noop, cookie)
                server.get_ms(path, who)
            page_ms, noop_ms = [], []
            for k in range(REQUESTS):
                # Turns alternate which goes first, so neither always follows the other.
                pair = [("noop", noop, cookie), ("page", path, who)]
                for kind, target, session in (pair if k % 2 else pair[::-1]):
                    ms, body = server.get_ms(target, session)
                    (page_ms if kind == "page" else noop_ms).append(ms)
            mine = b'<tr class="me" data-testid="row">' in body
            miss_ms = []
            for _ in range(MISSES):
                board_changed(leaderboard)
                miss_ms.append(server.get_ms(path, who)[0])
            raw_page(leaderboard.pk, order, offset)
            raw_ms = [common.timed(lambda o=order, f=offset: raw_page(leaderboard.pk, o, f))[0]
                      * 1000 for _ in range(RAW_REQUESTS)]
            signed_in = viewer if who else None
            board_changed(leaderboard)
            queries_miss = queries(path, signed_in)
            queries_hit = queries(path, signed_in)
            out[name] = {
                "page_p50_ms": percentile(page_ms, 50), "page_p95_ms": percentile(page_ms, 95),
                "noop_p50_ms": percentile(noop_ms, 50), "noop_p95_ms": percentile(noop_ms, 95),
                "miss_p50_ms": percentile(miss_ms, 50), "miss_p95_ms": percentile(miss_ms, 95),
                "raw_p50_ms": percentile(raw_ms, 50), "raw_p95_ms": percentile(raw_ms, 95),
                "queries": queries_hit, "queries_after_change": queries_miss,
                "own_row_marked": mine, "page_bytes": len(body), "requests": REQUESTS,
                "misses": MISSES}
            log(f"{entries:,} entries, {name}: page p95 {out[name]['page_p95_ms']:.1f} ms, "
                f"no-op p95 {out[name]['noop_p95_ms']:.1f} ms, first after a change p95 "
                f"{out[name]['miss_p95_ms']:.1f} ms")
    finally:
        server.close()
        common.server_stop(process)
    return out


def main() -> None:
    common.services_check()
    # The cache on Redis, shared by this process and gunicorn's workers, as in production
    # (several web processes need it: ``CACHE_URL`` in README.md).
    os.environ["CACHE_URL"] = common.REDIS_URL
    env = common.django_setup(DB_NAME, DATA_DIR)
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
        board_changed(leaderboard)
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
            "variants": measure(leaderboard, leaderboard.entries.count(), env)}
    report(scales).write()
    from django.db import connections

    connections.close_all()
    common.database_drop(DB_NAME)


def report(scales: dict[int, Any]) -> Results:
    results = Results(NAME, "Leaderboard at scale")
    largest, smallest = max(scales), min(scales)
    size = f"{largest:,} submissions / {scales[largest]['candidates']:,} candidates"
    rows = []
    for submissions, scale in scales.items():
        for name, v in scale["variants"].items():
            rows.append([f"{submissions:,}", f"{scale['candidates']:,}", name,
                         f"{v['page_p50_ms']:.1f}", f"{v['page_p95_ms']:.1f}",
                         f"{v['noop_p95_ms']:.1f}",
                         f"{v['page_p95_ms'] / v['noop_p95_ms']:.2f}",
                         f"{v['miss_p50_ms']:.0f}", f"{v['miss_p95_ms']:.0f}",
                         f"{v['raw_p95_ms']:.2f}",
                         f"{v['queries']} / {v['queries_after_change']}"])
    for name, v in scales[largest]["variants"].items():
        ratio = v["page_p95_ms"] / v["noop_p95_ms"]
        results.figure(
            label=f"leaderboard page p95, {name}, {size}",
            value=v["page_p95_ms"], unit="ms", floor=v["noop_p95_ms"],
            floor_label="authenticated no-op GET, same server, same run",
            target=f"≤ {RATIO_TARGET:g} × floor", met=ratio <= RATIO_TARGET)
    for name, v in scales[largest]["variants"].items():
        results.figure(
            label=f"leaderboard page p95 as the first request after a change, {name}, {size}",
            value=v["miss_p95_ms"], unit="ms", floor=v["noop_p95_ms"],
            floor_label="authenticated no-op GET, same server, same run",
            note="drawn and cached again: what the first reader after each new score pays")
    for name, v in scales[largest]["variants"].items():
        results.figure(
            label=f"leaderboard raw SQL p95 for the same 50 rows with ranks, {name}, {size}",
            value=v["raw_p95_ms"], unit="ms", floor=v["page_p95_ms"],
            floor_label="the page between changes, p95",
            note="a reference: one SQL statement in this process, no page")
    for name in scales[largest]["variants"]:
        big = scales[largest]["variants"][name]["page_p95_ms"]
        small = scales[smallest]["variants"][name]["page_p95_ms"]
        results.figure(
            label=f"leaderboard growth {smallest:,} → {largest:,} submissions, {name}",
            value=big, unit="ms", floor=small, floor_label=f"p95 at {smallest:,} submissions",
            target=f"≤ {FLAT_TARGET} (about flat)", met=big / small <= FLAT_TARGET)
        for key, when in (("queries", "between changes"),
                          ("queries_after_change", "first after a change")):
            counts = {s: scales[s]["variants"][name][key] for s in scales}
            results.figure(
                label=f"leaderboard queries per request, {name}, {when}",
                value=counts[largest], unit="queries", floor=counts[smallest],
                floor_label=f"at {smallest:,} submissions", target="constant",
                met=len(set(counts.values())) == 1)
    marked = all(v["own_row_marked"] == ("signed in" in name)
                 for scale in scales.values() for name, v in scale["variants"].items()
                 if name.startswith("page 1"))
    results.notes.append(
        "The signed-in reader's own row carried the \"me\" mark on the cached page 1, and the "
        "anonymous page 1 none: " + ("yes, at every scale." if marked else "**no**."))
    results.table(
        "Public leaderboard page on gunicorn", [
            "submissions", "candidates", "request", "page p50 ms", "page p95 ms",
            "no-op p95 ms", "page / no-op", "after a change p50 ms", "after a change p95 ms",
            "raw SQL p95 ms", "queries (cached / after a change)"], rows,
        note=f"{REQUESTS} page requests per line, one at a time from one client, each beside "
             f"a GET of an authenticated no-op view on the same gunicorn ({GUNICORN_WORKERS} "
             "sync workers, DATABASE_CONN_MAX_AGE=60, the cache on Redis); 50 rows a page; "
             "the signed-in reader is the top candidate (their row is marked). \"After a "
             f"change\": {MISSES} requests, each after the board's row was written as a new "
             "score writes it (page, charts and counts drawn again). Raw SQL: the page's rows "
             "with their ranks in one statement, in the benchmark's process. 10 submissions "
             "per candidate, each with its score, metrics, per-slice and scenario values, "
             "serving figures and ~11 kB of plot data; one leaderboard entry per candidate.")
    results.table("Rows inserted", ["submissions", "candidates", "entries", "records",
                                    "insert s"],
                  [[f"{s:,}", f"{v['candidates']:,}", f"{v['entries']:,}", v["records"],
                    f"{v['insert_seconds']:.0f}"] for s, v in scales.items()])
    results.details = {"scales": scales}
    return results


if __name__ == "__main__":
    main()
