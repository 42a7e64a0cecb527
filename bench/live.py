"""Live interviews under load: 100 rooms at once (20 with ``BENCH_QUICK=1``) across two
uvicorn processes serving the ASGI app, joined by the Redis channel layer, on PostgreSQL.

In every room the candidate's page is connected to one process and the interviewer's console
to the other, so every message crosses processes. Each candidate types a key every 200 ms
(60 words a minute, a quick typist) and, as the page does, sends the whole answer with each
keystroke; the interviewer's console should show it. Meanwhile the log grows: this process
appends an event to each room every few seconds through ``event_append`` (as a web process
or a Celery worker does), one in four of them the interviewer's private note.

Figures: keystroke-to-console latency (p50/p95/p99) beside a Redis PING round trip from the
same client process in the same seconds (the machine's floor: every relay crosses Redis);
event append-to-page latency beside ``event_append`` itself; events lost, duplicated or out
of order at either side; private notes that reached a candidate; rooms whose last text did not
reach the console. The clients run on the same 2 cores as the servers.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from bench import common
from bench.common import QUICK, Results, log, percentile

NAME = "live"
DB_NAME = "mlsd_bench_live"
DATA_DIR = common.VAR_DIR / "live"
SLUG = "ad-click-prediction"
ROOMS = 20 if QUICK else 100
SECONDS = 15 if QUICK else 60
KEYSTROKE_S = 0.2
EVENT_EVERY_S = 5.0
PRIVATE_EVERY = 4  # every fourth event is the interviewer's private note
INITIAL_TEXT = 1500  # characters already typed when the benchmark starts
# How long the clients wait after the typing stops for what is still on its way: an event
# that has not arrived by then counts as lost (a backlog is latency, and is measured as such).
DRAIN_S = 30.0
P99_TARGET_MS = 250.0
PROCESSES = 2


@dataclass
class Room:
    pk: int
    candidate_cookie: str
    interviewer_cookie: str
    text: str = ""
    typed_at: dict[int, float] = field(default_factory=dict)  # text length -> when sent
    last_text_seen: str = ""
    # Per side: the seqs received, in arrival order.
    received: dict[str, list[int]] = field(default_factory=lambda: {"candidate": [],
                                                                    "interviewer": []})
    expected: dict[str, list[int]] = field(default_factory=lambda: {"candidate": [],
                                                                    "interviewer": []})


@dataclass
class Tally:
    keystrokes_sent: int = 0
    keystrokes_seen: int = 0
    keystroke_ms: list[float] = field(default_factory=list)
    event_ms: list[float] = field(default_factory=list)
    append_ms: list[float] = field(default_factory=list)
    ping_ms: list[float] = field(default_factory=list)
    append_started: dict[tuple[int, int], float] = field(default_factory=dict)
    typing_to_candidate: int = 0
    socket_errors: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def session_cookie(user) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"sessionid={store.session_key}"


def rooms_make(count: int) -> list[Room]:
    from django.contrib.auth import get_user_model

    from interviews.live.models import LiveRoom
    from interviews.models import CaseStudy
    from mlsd_site import roles

    case_study = CaseStudy.objects.get(slug=SLUG)
    interviewers = roles.roles_ensure()[roles.INTERVIEWERS]
    users = get_user_model().objects
    made = []
    for i in range(count):
        cand = users.create_user(f"bench-live-candidate-{i}", password=None)
        iv = users.create_user(f"bench-live-interviewer-{i}", password=None)
        iv.groups.add(interviewers)
        room = LiveRoom.objects.create(candidate=cand, interviewer=iv, case_study=case_study)
        made.append(Room(pk=room.pk, candidate_cookie=session_cookie(cand),
                         interviewer_cookie=session_cookie(iv),
                         text=("word " * INITIAL_TEXT)[:INITIAL_TEXT]))
    return made


def start_uvicorn(env: dict[str, str], port: int, name: str) -> subprocess.Popen[bytes]:
    log_file = (DATA_DIR / f"uvicorn-{name}.log").open("w")
    process = subprocess.Popen(
        [common.PYTHON, "-m", "uvicorn", "mlsd_site.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--lifespan", "off", "--no-access-log", "--ws-max-size",
         "1048576"],
        cwd=common.ROOT, env={**env, "DATABASE_CONN_MAX_AGE": "60"}, stdout=log_file,
        stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"uvicorn exited; see {DATA_DIR / f'uvicorn-{name}.log'}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):  # noqa: S310
                return process
        except urllib.error.HTTPError:
            return process  # it answers (503: no worker, which this benchmark does not run)
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("uvicorn did not answer within 60 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def append_event(room: Room, number: int, tally: Tally) -> None:
    """One event through ``event_append`` (in a thread: the ORM is synchronous)."""
    from interviews.live.models import LiveEvent, LiveRoom
    from interviews.live.services import event_append

    private = number % PRIVATE_EVERY == PRIVATE_EVERY - 1
    audience = LiveEvent.Audience.INTERVIEWER if private else LiveEvent.Audience.BOTH
    started = time.perf_counter()
    # The seq is known once the row is written; the page may see it before this returns, so
    # the start is recorded under the seq the room will give next (one writer per room).
    seq = LiveRoom.objects.values_list("last_seq", flat=True).get(pk=room.pk) + 1
    tally.append_started[(room.pk, seq)] = started
    event = event_append(room=LiveRoom(pk=room.pk), kind=LiveEvent.Kind.NOTE,
                         body=f"bench event {number}", audience=audience)
    tally.append_ms.append((time.perf_counter() - started) * 1000)
    assert event.seq == seq, (event.seq, seq)
    room.expected["interviewer"].append(seq)
    if not private:
        room.expected["candidate"].append(seq)


async def reader(websocket, room: Room, side: str, tally: Tally) -> None:
    async for raw in websocket:
        now = time.perf_counter()
        message = json.loads(raw)
        if message["type"] == "events":
            for event in message["events"]:
                room.received[side].append(event["seq"])
                started = tally.append_started.get((room.pk, event["seq"]))
                if started is not None:
                    tally.event_ms.append((now - started) * 1000)
        elif message["type"] == "typing":
            if side != "interviewer":
                tally.typing_to_candidate += 1
                continue
            sent = room.typed_at.get(len(message["text"]))
            if sent is not None:
                tally.keystroke_ms.append((now - sent) * 1000)
                tally.keystrokes_seen += 1
            room.last_text_seen = message["text"]


async def typist(websocket, room: Room, until: float, tally: Tally) -> None:
    await asyncio.sleep(random.uniform(0, KEYSTROKE_S))  # noqa: S311 (spread, not secrecy)
    step = random.randint(1, 6)  # noqa: S311
    while time.perf_counter() < until:
        room.text += random.choice("abcdefghij klmnopqrstuvwxyz")  # noqa: S311
        room.typed_at[len(room.text)] = time.perf_counter()
        await websocket.send(json.dumps({"type": "typing", "step": step, "text": room.text,
                                         "version": 0}))
        tally.keystrokes_sent += 1
        await asyncio.sleep(KEYSTROKE_S)


async def writer(rooms: list[Room], until: float, tally: Tally, pool: ThreadPoolExecutor
                 ) -> None:
    """Every room gets an event every EVENT_EVERY_S, spread over the interval."""
    loop = asyncio.get_running_loop()
    number = 0
    gap = EVENT_EVERY_S / len(rooms)
    while time.perf_counter() < until:
        for room in rooms:
            if time.perf_counter() >= until:
                break
            await loop.run_in_executor(pool, append_event, room, number, tally)
            await asyncio.sleep(max(0.0, gap - tally.append_ms[-1] / 1000))
        number += 1


async def pinger(until: float, tally: Tally) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(common.REDIS_URL)
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            await client.ping()
            tally.ping_ms.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()


async def drive(rooms: list[Room], ports: list[int]) -> Tally:
    from websockets.asyncio.client import connect

    tally = Tally()
    sockets = []

    async def open_socket(room: Room, side: str, port: int):
        cookie = room.candidate_cookie if side == "candidate" else room.interviewer_cookie
        websocket = await connect(f"ws://127.0.0.1:{port}/ws/live/{room.pk}/",
                                  origin=f"http://127.0.0.1:{port}",
                                  additional_headers={"Cookie": cookie}, max_size=2**20)
        await websocket.send(json.dumps({"type": "hello", "after": 0}))
        sockets.append(websocket)
        return websocket

    log(f"connecting {len(rooms) * 2} sockets")
    pairs = []
    for i, room in enumerate(rooms):
        cand = await open_socket(room, "candidate", ports[i % PROCESSES])
        iv = await open_socket(room, "interviewer", ports[(i + 1) % PROCESSES])
        pairs.append((room, cand, iv))
    readers = [asyncio.create_task(reader(ws, room, side, tally))
               for room, cand, iv in pairs for ws, side in ((cand, "candidate"),
                                                           (iv, "interviewer"))]
    await asyncio.sleep(1.0)  # the hellos answered
    until = time.perf_counter() + SECONDS
    log(f"{len(rooms)} rooms typing and logging for {SECONDS} s")
    with ThreadPoolExecutor(4) as pool:
        await asyncio.gather(
            *(typist(cand, room, until, tally) for room, cand, _ in pairs),
            writer(rooms, until, tally, pool), pinger(until, tally))
    log("draining")
    deadline = time.perf_counter() + DRAIN_S
    while time.perf_counter() < deadline and not all(
            room.last_text_seen == room.text
            and len(room.received["interviewer"]) >= len(room.expected["interviewer"])
            and len(room.received["candidate"]) >= len(room.expected["candidate"])
            for room in rooms):
        await asyncio.sleep(0.1)
    for websocket in sockets:
        await websocket.close()
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    return tally


def delivery(rooms: list[Room]) -> dict[str, int]:
    counts = defaultdict(int)
    for room in rooms:
        for side in ("candidate", "interviewer"):
            got, want = room.received[side], room.expected[side]
            counts[f"{side}_expected"] += len(want)
            counts["lost"] += len(set(want) - set(got))
            counts["duplicated"] += len(got) - len(set(got))
            counts["out_of_order"] += sum(1 for a, b in zip(got, got[1:], strict=False)
                                          if b <= a)
        counts["leaked_private"] += len(set(room.received["candidate"])
                                        - set(room.expected["candidate"]))
        counts["last_text_missing"] += room.last_text_seen != room.text
    return dict(counts)


def main() -> None:
    common.services_check()
    prefix = f"mlsd-bench-live-{secrets.token_hex(4)}"
    # This process writes events through the same Redis layer the servers listen on.
    os.environ.update({"CHANNEL_LAYER_URL": common.REDIS_URL, "CHANNEL_LAYER_PREFIX": prefix})
    env = common.django_setup(DB_NAME, DATA_DIR)
    rooms = rooms_make(ROOMS)
    ports = [free_port() for _ in range(PROCESSES)]
    servers = [start_uvicorn(env, port, f"p{n}") for n, port in enumerate(ports)]
    try:
        tally = asyncio.run(drive(rooms, ports))
    finally:
        for server in servers:
            stop(server)
    counts = delivery(rooms)

    results = Results(NAME, "Live interviews: keystrokes and events across two processes")
    for q in (50, 95, 99):
        target = f"≤ {P99_TARGET_MS:.0f} ms" if q == 99 else ""
        met = percentile(tally.keystroke_ms, 99) <= P99_TARGET_MS if q == 99 else None
        results.figure(label=f"keystroke to console p{q}, {ROOMS} rooms × 5 keys/s",
                       value=percentile(tally.keystroke_ms, q), unit="ms",
                       floor=percentile(tally.ping_ms, q),
                       floor_label="Redis PING from the client, same seconds",
                       target=target, met=met)
    results.figure(label="event append to page p95", value=percentile(tally.event_ms, 95),
                   unit="ms", floor=percentile(tally.append_ms, 95),
                   floor_label="event_append itself, p95")
    results.figure(label="events lost (either side)", value=counts["lost"], unit="",
                   floor=None, target="0", met=counts["lost"] == 0)
    results.figure(label="events duplicated or out of order",
                   value=counts["duplicated"] + counts["out_of_order"], unit="", floor=None,
                   target="0", met=counts["duplicated"] + counts["out_of_order"] == 0)
    results.figure(label="private notes that reached a candidate",
                   value=counts["leaked_private"], unit="", floor=None, target="0",
                   met=counts["leaked_private"] == 0 and tally.typing_to_candidate == 0)
    results.figure(label="rooms whose last text did not reach the console",
                   value=counts["last_text_missing"], unit="", floor=None, target="0",
                   met=counts["last_text_missing"] == 0)
    seen_share = tally.keystrokes_seen / tally.keystrokes_sent if tally.keystrokes_sent else 0
    results.table(
        "Messages", ["what", "sent", "received", "p50 ms", "p95 ms", "p99 ms", "max ms"],
        [["keystrokes (whole text each)", tally.keystrokes_sent, tally.keystrokes_seen,
          *(f"{percentile(tally.keystroke_ms, q):.1f}" for q in (50, 95, 99)),
          f"{max(tally.keystroke_ms, default=float('nan')):.1f}"],
         ["events (both sides)", counts["candidate_expected"] + counts["interviewer_expected"],
          sum(len(r.received[s]) for r in rooms for s in ("candidate", "interviewer")),
          *(f"{percentile(tally.event_ms, q):.1f}" for q in (50, 95, 99)),
          f"{max(tally.event_ms, default=float('nan')):.1f}"],
         ["Redis PING (floor)", len(tally.ping_ms), len(tally.ping_ms),
          *(f"{percentile(tally.ping_ms, q):.1f}" for q in (50, 95, 99)),
          f"{max(tally.ping_ms, default=float('nan')):.1f}"]],
        note=f"{ROOMS} rooms for {SECONDS} s; in each the candidate's socket on one uvicorn "
             f"process and the console's on the other ({PROCESSES} processes, Redis channel "
             f"layer). A key every {KEYSTROKE_S * 1000:.0f} ms, each message the whole answer "
             f"(from {INITIAL_TEXT} characters); an event per room every {EVENT_EVERY_S:.0f} s "
             f"through event_append, one in {PRIVATE_EVERY} private. Keystrokes received: "
             f"{seen_share * 100:.1f} % (a burst faster than one per 50 ms per socket is "
             "coalesced to its newest text; none should be at this rate). Latency is measured "
             "by the client, from the send (keystroke) or from the start of event_append "
             "(event) to the message's arrival.")
    results.details = {"counts": counts, "rooms": ROOMS, "seconds": SECONDS,
                       "keystrokes_sent": tally.keystrokes_sent,
                       "keystrokes_seen": tally.keystrokes_seen,
                       "typing_to_candidate": tally.typing_to_candidate}
    results.write()
    from django.db import connections

    connections.close_all()
    common.database_drop(DB_NAME)
    from redis import Redis

    client = Redis.from_url(common.REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=500))
    if keys:
        client.delete(*keys)


if __name__ == "__main__":
    main()
