"""Autosave under load: gunicorn (as in ``docker/Dockerfile``: 3 sync workers, persistent
database connections as in ``docker/compose.yml``) on PostgreSQL, 50 simulated candidates
each saving their answer once a second for 60 s, beside an authenticated no-op view on the
same server in the same run.

Each candidate has an active interview session and a logged-in browser session (made
directly in the database); a save is the htmx POST the page sends
(``/sessions/<id>/answers/<step>/`` with the text, the version it edited and the active
step, CSRF token in the header), with a text that grows as the candidate types. The no-op
view (``bench.urls``) receives the same POST and only passes the middleware. Then each
endpoint is driven as hard as a few concurrent clients can, for the throughput ratio.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import subprocess
from dataclasses import dataclass, field
from typing import Any

from bench import common, loadclient
from bench.common import QUICK, Results, log, median, percentile

NAME = "autosave"
DB_NAME = "mlsd_bench_autosave"
DATA_DIR = common.VAR_DIR / "autosave"
SLUG = "ad-click-prediction"
USERS = 50
PACED_SECONDS = 15 if QUICK else 60
SATURATION_SECONDS = 5 if QUICK else 15
SLICE_SECONDS = 5 if QUICK else 10
CONCURRENCY = 6  # two per gunicorn worker
GUNICORN_WORKERS = 3
P99_TARGET_MS = 50.0
THROUGHPUT_TARGET = 0.5
INITIAL_TEXT = 1500  # characters already typed when the benchmark starts
TYPED_PER_SAVE = 40
STEP_SWITCH_EVERY = 20  # saves


@dataclass
class Candidate:
    session_key: str
    csrf: str
    interview_id: int
    versions: dict[int, int] = field(default_factory=dict)
    texts: dict[int, str] = field(default_factory=dict)
    saves: int = 0

    def headers(self) -> dict[str, str]:
        return {"Cookie": f"sessionid={self.session_key}; csrftoken={self.csrf}",
                "X-CSRFToken": self.csrf, "HX-Request": "true"}

    def next_save(self, *, keep: bool = True) -> tuple[int, dict[str, str]]:
        """The next save's step and form; ``keep=False`` leaves the typed text as it was
        (the no-op view gets a body of the same size)."""
        step = 1 + (self.saves // STEP_SWITCH_EVERY) % 6
        text = self.texts.get(step) or _words(INITIAL_TEXT, seed=self.interview_id * 10 + step)
        text += _words(TYPED_PER_SAVE, seed=self.saves)
        if keep:
            self.texts[step] = text
        return step, {"text": text, "diagram": "", "base_version": str(
            self.versions.get(step, 0)), "active_step": str(step)}


WORDS = ("features", "label", "latency", "ranking", "candidate", "embedding", "offline",
         "online", "metric", "calibration", "negative", "sampling", "freshness", "cache",
         "two-tower", "retrieval", "- **bold**", "`code`", "\n\n## Next\n")


def _words(length: int, *, seed: int) -> str:
    out, i = [], seed
    while sum(len(w) + 1 for w in out) < length:
        out.append(WORDS[(i * 7 + 3) % len(WORDS)])
        i += 1
    return " ".join(out)[:length]


def candidates_make(count: int) -> list[Candidate]:
    """Users with an active interview session and a logged-in browser session."""
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    from interviews.models import CaseStudy
    from interviews.services.sessions import session_start

    case_study = CaseStudy.objects.get(slug=SLUG)
    made = []
    for i in range(count):
        user = get_user_model().objects.create_user(f"bench-candidate-{i}", password=None)
        interview, _ = session_start(candidate=user, case_study=case_study)
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        made.append(Candidate(session_key=store.session_key, interview_id=interview.pk,
                              csrf=secrets.token_hex(16)))
    return made


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return common.server_start(
        [common.PYTHON, "-m", "gunicorn", "mlsd_site.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", str(GUNICORN_WORKERS), "--timeout", "60",
         "--access-logfile", str(DATA_DIR / "access.log")],
        # The closed loop saves far faster than a person: the rate limit would refuse it.
        env={**env, "DATABASE_CONN_MAX_AGE": "60", "RATELIMIT_AUTOSAVE": "off",
             "RATELIMIT_AUTOSAVE_IP": "off"},
        port=port, log_path=DATA_DIR / "gunicorn.log")


class Client:
    def __init__(self, port: int, people: list[Candidate]) -> None:
        self.port, self.people = port, people
        self.statuses: dict[int, int] = {}

    def _count(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1

    async def save(self, user: int) -> bool:
        person = self.people[user]
        step, form = person.next_save()
        response = await loadclient.request(
            self.port, "POST", f"/sessions/{person.interview_id}/answers/{step}/",
            headers=person.headers(), form=form)
        self._count(response.status)
        if response.status != 200:
            return False
        person.versions[step] = int(response.headers["x-answer-version"])
        person.saves += 1
        return True

    async def noop(self, user: int) -> bool:
        person = self.people[user]
        _, form = person.next_save(keep=False)
        response = await loadclient.request(self.port, "POST", "/bench/noop/",
                                            headers=person.headers(), form=form)
        self._count(response.status)
        return response.status == 200


def summary(outcome: loadclient.Outcome) -> dict[str, Any]:
    ms = [v * 1000 for v in outcome.latencies]
    return {
        "requests": outcome.requests, "ok": len(ms), "errors": outcome.error_count,
        "error_kinds": outcome.errors,
        "error_rate": outcome.error_count / outcome.requests if outcome.requests else 0.0,
        "seconds": outcome.seconds, "per_second": len(ms) / outcome.seconds,
        "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99), "max_ms": max(ms, default=float("nan")),
        "median_ms": median(ms),
    }


async def drive(port: int, people: list[Candidate]) -> dict[str, Any]:
    client = Client(port, people)
    # Warm up every gunicorn worker (imports, template compilation) before measuring.
    await loadclient.closed_loop(client.noop, CONCURRENCY, 2.0, USERS)
    await loadclient.closed_loop(client.save, CONCURRENCY, 2.0, USERS)
    client.statuses.clear()
    phases: dict[str, Any] = {}
    # The two paced loads take turns in slices, so that both meet the same noise from
    # whatever else the machine is running.
    paced = {"noop": loadclient.Outcome(), "save": loadclient.Outcome()}
    log(f"paced: {USERS} users, one request a second, no-op and save in turns of "
        f"{SLICE_SECONDS} s, {PACED_SECONDS} s each")
    for _ in range(PACED_SECONDS // SLICE_SECONDS):
        for name, send in (("noop", client.noop), ("save", client.save)):
            paced[name].add(await loadclient.paced(send, USERS, SLICE_SECONDS))
    for name, outcome in paced.items():
        phases[f"paced_{name}"] = summary(outcome)
    for name, send in (("noop", client.noop), ("save", client.save)):
        log(f"closed loop: {CONCURRENCY} clients, {name}, {SATURATION_SECONDS} s")
        phases[f"max_{name}"] = summary(
            await loadclient.closed_loop(send, CONCURRENCY, SATURATION_SECONDS, USERS))
    phases["statuses"] = client.statuses
    phases["saves_accepted"] = sum(p.saves for p in people)
    return phases


def main() -> None:
    common.services_check()
    env = common.django_setup(DB_NAME, DATA_DIR)
    from interviews.models import AnswerRevision

    people = candidates_make(USERS)
    port = free_port()
    server = start_gunicorn(env, port)
    try:
        phases = asyncio.run(drive(port, people))
    finally:
        common.server_stop(server)
    revisions = AnswerRevision.objects.count()

    results = Results(NAME, "Autosave under load")
    paced_save, paced_noop = phases["paced_save"], phases["paced_noop"]
    for q in ("p50", "p95", "p99"):
        target = f"≤ {P99_TARGET_MS:.0f} ms" if q == "p99" else ""
        met = paced_save["p99_ms"] <= P99_TARGET_MS if q == "p99" else None
        results.figure(label=f"autosave {q}, {USERS} candidates × 1 save/s",
                       value=paced_save[f"{q}_ms"], unit="ms", floor=paced_noop[f"{q}_ms"],
                       floor_label="authenticated no-op POST, same load", target=target,
                       met=met)
    results.figure(label="autosave errors (non-200, timeouts)", value=paced_save["error_rate"],
                   unit="share", floor=paced_noop["error_rate"], floor_label="no-op errors",
                   ratio=None, target="0", met=paced_save["errors"] == 0
                   and phases["max_save"]["errors"] == 0)
    ratio = phases["max_save"]["per_second"] / phases["max_noop"]["per_second"]
    results.figure(label=f"autosave throughput, {CONCURRENCY} clients back to back",
                   value=phases["max_save"]["per_second"], unit="req/s",
                   floor=phases["max_noop"]["per_second"],
                   floor_label="no-op, same clients", target=f"≥ {THROUGHPUT_TARGET} × no-op",
                   met=ratio >= THROUGHPUT_TARGET)
    rows = []
    for key, label in (("paced_noop", "no-op, paced"), ("paced_save", "save, paced"),
                       ("max_noop", "no-op, closed loop"), ("max_save", "save, closed loop")):
        p = phases[key]
        rows.append([label, p["requests"], p["errors"], f"{p['per_second']:.1f}",
                     f"{p['p50_ms']:.1f}", f"{p['p95_ms']:.1f}", f"{p['p99_ms']:.1f}",
                     f"{p['max_ms']:.1f}"])
    results.table(
        "Requests", ["load", "requests", "errors", "per s", "p50 ms", "p95 ms", "p99 ms",
                     "max ms"], rows,
        note=f"Paced: {USERS} users × one request a second for {PACED_SECONDS} s (latency "
             f"from the scheduled send), no-op and save taking turns every {SLICE_SECONDS} s. "
             f"Closed loop: {CONCURRENCY} clients back to back for "
             f"{SATURATION_SECONDS} s. gunicorn {GUNICORN_WORKERS} sync workers, "
             "DATABASE_CONN_MAX_AGE=60; the client runs on the same 2 cores. Texts start at "
             f"{INITIAL_TEXT} characters and grow by {TYPED_PER_SAVE} per save. Accepted saves "
             f"{phases['saves_accepted']}, revisions stored {revisions}.")
    results.details = {**phases, "revisions": revisions, "users": USERS}
    results.write()
    from django.db import connections

    connections.close_all()
    common.database_drop(DB_NAME)


if __name__ == "__main__":
    main()
