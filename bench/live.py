"""Live interviews under load: 10, 50 and 100 rooms at once (10 and 20 with
``BENCH_QUICK=1``) across two uvicorn processes serving the ASGI app, joined by the Redis
channel layer, on PostgreSQL.

In every room the candidate's page is connected to one process and the interviewer's console
to the other, so every message crosses processes. Each candidate types a key every 200 ms
(60 words a minute, a quick typist) and, as the page does, sends the whole answer with each
keystroke; the interviewer's console should show it. Meanwhile the log grows: a writer
process appends an event to each room every few seconds through ``event_append`` (as a web
process or a Celery worker does), one in four of them the interviewer's private note.

The floor is measured on the same two processes in the same seconds: ``bench/live_asgi.py``
serves, beside the site's sockets, a no-op relay (a frame sent to a socket on one process
reaches a socket on the other through the channel layer, and nothing else happens), and one
relay pair per ten rooms sends the same frames at the same pace as a candidate. A Redis PING
from the client is the machine's floor under both.

Figures: keystroke-to-console latency (p50/p95/p99) beside the relay's; event append-to-page
latency beside ``event_append`` itself; events lost, duplicated or out of order at either
side; private notes that reached a candidate; rooms whose last text did not reach the
console; per room count, the CPU the client, the writer and the servers used (the clients
run on the same 2 cores as the servers: a client that is itself saturated measures nothing).
The client is one asyncio loop doing nothing but sockets; the writer's ORM work runs in a
process of its own so that its threads never hold the client's GIL.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import secrets
import socket
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench import common
from bench.common import QUICK, Results, log, percentile

NAME = "live"
DB_NAME = "mlsd_bench_live"
DATA_DIR = common.VAR_DIR / "live"
SLUG = "ad-click-prediction"
# Room counts, smallest first (the growth curve); the last is the headline figure's.
SIZES = (10, 20) if QUICK else (10, 50, 100)
KEYSTROKE_S = 0.2
EVENT_EVERY_S = 5.0
PRIVATE_EVERY = 4  # every fourth event is the interviewer's private note
INITIAL_TEXT = 1500  # characters already typed when the benchmark starts
ROOMS_PER_RELAY = 10  # one no-op relay pair per this many rooms (at least two pairs)
# How long the clients wait after the typing stops for what is still on its way: an event
# that has not arrived by then counts as lost (a backlog is latency, and is measured as such).
DRAIN_S = 30.0
P99_TARGET_MS = 250.0
PROCESSES = 2
SIDES = ("candidate", "interviewer")
TICKS = os.sysconf("SC_CLK_TCK")


def phase_seconds(rooms: int) -> int:
    if QUICK:
        return 15
    return {10: 20, 50: 30}.get(rooms, 60)


@dataclass
class Room:
    pk: int
    candidate_cookie: str
    interviewer_cookie: str
    text: str = ""
    typed_at: dict[int, float] = field(default_factory=dict)  # text length -> when sent
    last_text_seen: str = ""
    # Per side: the seqs received, in arrival order, and when each first arrived.
    received: dict[str, list[int]] = field(default_factory=lambda: {s: [] for s in SIDES})
    arrived: dict[str, dict[int, float]] = field(default_factory=lambda: {s: {} for s in SIDES})
    expected: dict[str, list[int]] = field(default_factory=lambda: {s: [] for s in SIDES})
    append_started: dict[int, float] = field(default_factory=dict)  # seq -> the writer's clock


@dataclass
class Phase:
    """What one room count measured."""

    rooms: int
    seconds: int
    keystrokes_sent: int = 0
    keystrokes_seen: int = 0
    keystroke_ms: list[float] = field(default_factory=list)
    relay_sent: int = 0
    relay_ms: list[float] = field(default_factory=list)
    ping_ms: list[float] = field(default_factory=list)
    event_ms: list[float] = field(default_factory=list)
    append_ms: list[float] = field(default_factory=list)
    typing_to_candidate: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # share of one core, over the typing


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


def rooms_make(count: int, tag: str) -> list[Room]:
    from django.contrib.auth import get_user_model

    from interviews.live.models import LiveRoom
    from interviews.models import CaseStudy
    from mlsd_site import roles

    case_study = CaseStudy.objects.get(slug=SLUG)
    interviewers = roles.roles_ensure()[roles.INTERVIEWERS]
    users = get_user_model().objects
    made = []
    for i in range(count):
        cand = users.create_user(f"bench-live-{tag}-candidate-{i}", password=None)
        iv = users.create_user(f"bench-live-{tag}-interviewer-{i}", password=None)
        iv.groups.add(interviewers)
        room = LiveRoom.objects.create(candidate=cand, interviewer=iv, case_study=case_study)
        made.append(Room(pk=room.pk, candidate_cookie=session_cookie(cand),
                         interviewer_cookie=session_cookie(iv),
                         text=("word " * INITIAL_TEXT)[:INITIAL_TEXT]))
    return made


def start_uvicorn(env: dict[str, str], port: int, name: str) -> subprocess.Popen[bytes]:
    return common.server_start(
        [common.PYTHON, "-m", "uvicorn", "bench.live_asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--lifespan", "off", "--no-access-log", "--ws-max-size",
         "1048576"],
        env={**env, "DATABASE_CONN_MAX_AGE": "60"}, port=port,
        log_path=DATA_DIR / f"uvicorn-{name}.log",
        any_answer=True)  # 503: no worker, which this benchmark does not run


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads) so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU time of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


# --- the writer: its own process, so its ORM threads never hold the client's GIL ------------


def writer_main() -> None:
    """``python -m bench.live --writer``: append events to the rooms named on stdin
    (``{"rooms": [pk, ...], "until": monotonic}``) until then, one JSON line per event."""
    import django

    django.setup()
    from interviews.live.models import LiveEvent, LiveRoom
    from interviews.live.services import event_append

    job = json.loads(sys.stdin.readline())
    rooms, until = job["rooms"], job["until"]
    gap = EVENT_EVERY_S / len(rooms)
    number = 0
    while time.monotonic() < until:
        for pk in rooms:
            if time.monotonic() >= until:
                break
            private = number % PRIVATE_EVERY == PRIVATE_EVERY - 1
            audience = LiveEvent.Audience.INTERVIEWER if private else LiveEvent.Audience.BOTH
            started = time.monotonic()
            event = event_append(room=LiveRoom(pk=pk), kind=LiveEvent.Kind.NOTE,
                                 body=f"bench event {number}", audience=audience)
            took = time.monotonic() - started
            print(json.dumps({"room": pk, "seq": event.seq, "started": started,
                              "append_ms": took * 1000, "private": private}), flush=True)
            time.sleep(max(0.0, gap - took))
        number += 1


async def run_writer(rooms: list[Room], until: float, phase: Phase) -> float:
    """Run the writer process until ``until``; returns its CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = await asyncio.create_subprocess_exec(
        common.PYTHON, "-m", "bench.live", "--writer", cwd=common.ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    by_pk = {room.pk: room for room in rooms}
    process.stdin.write((json.dumps({"rooms": list(by_pk), "until": until}) + "\n").encode())
    await process.stdin.drain()
    process.stdin.close()
    async for line in process.stdout:
        record = json.loads(line)
        room = by_pk[record["room"]]
        room.expected["interviewer"].append(record["seq"])
        if not record["private"]:
            room.expected["candidate"].append(record["seq"])
        phase.append_ms.append(record["append_ms"])
        room.append_started[record["seq"]] = record["started"]
    await process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"the event writer failed ({process.returncode})")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


# --- the client: one asyncio loop, only sockets --------------------------------------------


async def reader(websocket, room: Room, side: str, phase: Phase) -> None:
    async for raw in websocket:
        now = time.monotonic()
        message = json.loads(raw)
        if message["type"] == "events":
            for event in message["events"]:
                room.received[side].append(event["seq"])
                room.arrived[side].setdefault(event["seq"], now)
        elif message["type"] == "typing":
            if side != "interviewer":
                phase.typing_to_candidate += 1
                continue
            sent = room.typed_at.get(len(message["text"]))
            if sent is not None:
                phase.keystroke_ms.append((now - sent) * 1000)
                phase.keystrokes_seen += 1
            room.last_text_seen = message["text"]


async def typist(websocket, room: Room, until: float, phase: Phase) -> None:
    await asyncio.sleep(random.uniform(0, KEYSTROKE_S))  # noqa: S311 (spread, not secrecy)
    step = random.randint(1, 6)  # noqa: S311
    while time.monotonic() < until:
        room.text += random.choice("abcdefghij klmnopqrstuvwxyz")  # noqa: S311
        frame = json.dumps({"type": "typing", "step": step, "text": room.text, "version": 0})
        room.typed_at[len(room.text)] = time.monotonic()
        await websocket.send(frame)
        phase.keystrokes_sent += 1
        await asyncio.sleep(KEYSTROKE_S)


async def relay_sender(websocket, sent: dict[int, float], until: float, phase: Phase) -> None:
    """A candidate's pace and frames, through the no-op relay."""
    await asyncio.sleep(random.uniform(0, KEYSTROKE_S))  # noqa: S311
    text = ("word " * INITIAL_TEXT)[:INITIAL_TEXT]
    number = 0
    while time.monotonic() < until:
        text += random.choice("abcdefghij klmnopqrstuvwxyz")  # noqa: S311
        number += 1
        frame = json.dumps({"type": "typing", "step": 1, "text": text, "version": 0,
                            "n": number})
        sent[number] = time.monotonic()
        await websocket.send(frame)
        phase.relay_sent += 1
        await asyncio.sleep(KEYSTROKE_S)


async def relay_listener(websocket, sent: dict[int, float], phase: Phase) -> None:
    async for raw in websocket:
        now = time.monotonic()
        started = sent.get(json.loads(raw)["n"])
        if started is not None:
            phase.relay_ms.append((now - started) * 1000)


async def pinger(until: float, phase: Phase) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(common.REDIS_URL)
    try:
        while time.monotonic() < until:
            started = time.monotonic()
            await client.ping()
            phase.ping_ms.append((time.monotonic() - started) * 1000)
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()


async def drive(rooms: list[Room], ports: list[int], servers: list[int], phase: Phase) -> None:
    from websockets.asyncio.client import connect

    sockets = []

    async def open_socket(path: str, port: int, cookie: str | None):
        websocket = await connect(f"ws://127.0.0.1:{port}{path}",
                                  origin=f"http://127.0.0.1:{port}",
                                  additional_headers={"Cookie": cookie} if cookie else None,
                                  max_size=2**20)
        sockets.append(websocket)
        return websocket

    log(f"{len(rooms)} rooms: connecting {len(rooms) * 2} sockets")
    pairs = []
    for i, room in enumerate(rooms):
        cand = await open_socket(f"/ws/live/{room.pk}/", ports[i % PROCESSES],
                                 room.candidate_cookie)
        iv = await open_socket(f"/ws/live/{room.pk}/", ports[(i + 1) % PROCESSES],
                               room.interviewer_cookie)
        for websocket in (cand, iv):
            await websocket.send(json.dumps({"type": "hello", "after": 0}))
        pairs.append((room, cand, iv))
    relays = []
    for k in range(max(2, len(rooms) // ROOMS_PER_RELAY)):
        pair = secrets.randbelow(2**31)
        listen = await open_socket(f"/ws/bench/relay/{pair}/listen/",
                                   ports[(k + 1) % PROCESSES], None)
        send = await open_socket(f"/ws/bench/relay/{pair}/send/", ports[k % PROCESSES], None)
        relays.append((send, listen, {}))
    readers = [asyncio.create_task(reader(ws, room, side, phase))
               for room, cand, iv in pairs for ws, side in ((cand, "candidate"),
                                                           (iv, "interviewer"))]
    readers += [asyncio.create_task(relay_listener(listen, sent, phase))
                for _, listen, sent in relays]
    await asyncio.sleep(1.0)  # the hellos answered, the relays' groups joined
    until = time.monotonic() + phase.seconds
    log(f"{len(rooms)} rooms typing and logging for {phase.seconds} s "
        f"(+ {len(relays)} no-op relays)")
    cpu_before = {"client": time.process_time(),
                  **{f"server {n}": cpu_seconds(pid) for n, pid in enumerate(servers)}}
    busy_before = machine_busy()
    results = await asyncio.gather(
        *(typist(cand, room, until, phase) for room, cand, _ in pairs),
        *(relay_sender(send, sent, until, phase) for send, _, sent in relays),
        run_writer(rooms, until, phase), pinger(until, phase))
    busy_after = machine_busy()
    wall = phase.seconds
    phase.cpu = {"client": (time.process_time() - cpu_before["client"]) / wall,
                 **{name: (cpu_seconds(pid) - cpu_before[name]) / wall
                    for name, pid in zip((f"server {n}" for n in range(len(servers))), servers,
                                         strict=True)},
                 "writer": results[-2] / wall,
                 "machine": ((busy_after[0] - busy_before[0])
                             / max(1, busy_after[1] - busy_before[1]))}
    log("draining")
    deadline = time.monotonic() + DRAIN_S
    while time.monotonic() < deadline and not all(
            room.last_text_seen == room.text
            and all(set(room.expected[side]) <= set(room.arrived[side]) for side in SIDES)
            for room in rooms):
        await asyncio.sleep(0.1)
    for websocket in sockets:
        await websocket.close()
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)


def delivery(rooms: list[Room]) -> dict[str, int]:
    counts = defaultdict(int)
    for room in rooms:
        for side in SIDES:
            got, want = room.received[side], room.expected[side]
            counts[f"{side}_expected"] += len(want)
            counts["received"] += len(got)
            counts["lost"] += len(set(want) - set(got))
            counts["duplicated"] += len(got) - len(set(got))
            counts["out_of_order"] += sum(1 for a, b in zip(got, got[1:], strict=False)
                                          if b <= a)
        counts["leaked_private"] += len(set(room.received["candidate"])
                                        - set(room.expected["candidate"]))
        counts["last_text_missing"] += room.last_text_seen != room.text
    return dict(counts)


def event_latencies(rooms: list[Room]) -> list[float]:
    """Append start (the writer's clock: CLOCK_MONOTONIC, the same in every process) to the
    first arrival at each side that may read the event."""
    found = []
    for room in rooms:
        for side in SIDES:
            for seq in room.expected[side]:
                arrived = room.arrived[side].get(seq)
                started = room.append_started.get(seq)
                if arrived is not None and started is not None:
                    found.append((arrived - started) * 1000)
    return found


def run_phase(size: int, ports: list[int], servers: list[int]) -> Phase:
    rooms = rooms_make(size, tag=str(size))
    phase = Phase(rooms=size, seconds=phase_seconds(size))
    asyncio.run(drive(rooms, ports, servers, phase))
    phase.counts = delivery(rooms)
    phase.event_ms = event_latencies(rooms)
    return phase


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q):.1f}"


def main() -> None:
    common.services_check()
    prefix = f"mlsd-bench-live-{secrets.token_hex(4)}"
    # The writer process writes events through the same Redis layer the servers listen on.
    os.environ.update({"CHANNEL_LAYER_URL": common.REDIS_URL, "CHANNEL_LAYER_PREFIX": prefix})
    env = common.django_setup(DB_NAME, DATA_DIR)
    ports = [free_port() for _ in range(PROCESSES)]
    servers = [start_uvicorn(env, port, f"p{n}") for n, port in enumerate(ports)]
    try:
        phases = [run_phase(size, ports, [s.pid for s in servers]) for size in SIZES]
    finally:
        for server in servers:
            common.server_stop(server)

    top = phases[-1]
    rooms = top.rooms
    totals: dict[str, int] = defaultdict(int)
    for phase in phases:
        for key, value in phase.counts.items():
            totals[key] += value
    typing_to_candidate = sum(p.typing_to_candidate for p in phases)

    results = Results(NAME, "Live interviews: keystrokes and events across two processes")
    for q in (50, 95, 99):
        target = f"≤ {P99_TARGET_MS:.0f} ms" if q == 99 else ""
        met = percentile(top.keystroke_ms, 99) <= P99_TARGET_MS if q == 99 else None
        results.figure(label=f"keystroke to console p{q}, {rooms} rooms × 5 keys/s",
                       value=percentile(top.keystroke_ms, q), unit="ms",
                       floor=percentile(top.relay_ms, q),
                       floor_label="no-op relay across the same two processes, same seconds",
                       target=target, met=met)
    results.figure(label=f"no-op relay (the floor) p99, {rooms} rooms",
                   value=percentile(top.relay_ms, 99), unit="ms",
                   floor=percentile(top.ping_ms, 99),
                   floor_label="Redis PING from the client, same seconds")
    results.figure(label=f"event append to page p95, {rooms} rooms",
                   value=percentile(top.event_ms, 95), unit="ms",
                   floor=percentile(top.append_ms, 95), floor_label="event_append itself, p95")
    sizes = ", ".join(str(p.rooms) for p in phases)
    results.figure(label=f"events lost (either side; {sizes} rooms)", value=totals["lost"],
                   unit="", floor=None, target="0", met=totals["lost"] == 0)
    disorder = totals["duplicated"] + totals["out_of_order"]
    results.figure(label="events duplicated or out of order", value=disorder, unit="",
                   floor=None, target="0", met=disorder == 0)
    results.figure(label="private notes (or keystrokes) that reached a candidate",
                   value=totals["leaked_private"] + typing_to_candidate, unit="", floor=None,
                   target="0", met=totals["leaked_private"] == 0 and typing_to_candidate == 0)
    results.figure(label="rooms whose last text did not reach the console",
                   value=totals["last_text_missing"], unit="", floor=None, target="0",
                   met=totals["last_text_missing"] == 0)

    if len(phases) > 1:
        # Growth: keystrokes stay with the floor (their p99 over the relay's, smallest room
        # count against the largest), and the servers' CPU grows linearly with the rooms.
        small = phases[0]

        def over_floor(phase: Phase) -> float:
            return percentile(phase.keystroke_ms, 99) / percentile(phase.relay_ms, 99)

        def cpu_per_room(phase: Phase) -> float:
            return sum(phase.cpu[f"server {n}"] for n in range(PROCESSES)) / phase.rooms

        growth = over_floor(top) / over_floor(small)
        results.figure(
            label=f"keystroke p99 over the relay's, {small.rooms} → {rooms} rooms",
            value=over_floor(top), unit="×", floor=over_floor(small),
            floor_label=f"the same at {small.rooms} rooms", ratio=growth,
            target="≤ 1.5 (stays with the floor)", met=growth <= 1.5)
        cpu_growth = cpu_per_room(top) / cpu_per_room(small)
        results.figure(
            label=f"servers' CPU per room, {small.rooms} → {rooms} rooms",
            value=cpu_per_room(top) * 100, unit="% of a core", floor=cpu_per_room(small) * 100,
            floor_label=f"the same at {small.rooms} rooms", ratio=cpu_growth,
            target="≤ 1.5 (about linear)", met=cpu_growth <= 1.5)

    seen_share = top.keystrokes_seen / top.keystrokes_sent if top.keystrokes_sent else 0
    results.table(
        f"Messages at {rooms} rooms",
        ["what", "sent", "received", "p50 ms", "p95 ms", "p99 ms", "max ms"],
        [["keystrokes (whole text each)", top.keystrokes_sent, top.keystrokes_seen,
          *(ms(top.keystroke_ms, q) for q in (50, 95, 99)),
          f"{max(top.keystroke_ms, default=float('nan')):.1f}"],
         ["no-op relay (floor)", top.relay_sent, len(top.relay_ms),
          *(ms(top.relay_ms, q) for q in (50, 95, 99)),
          f"{max(top.relay_ms, default=float('nan')):.1f}"],
         ["events (both sides)",
          top.counts["candidate_expected"] + top.counts["interviewer_expected"],
          top.counts["received"], *(ms(top.event_ms, q) for q in (50, 95, 99)),
          f"{max(top.event_ms, default=float('nan')):.1f}"],
         ["Redis PING (floor)", len(top.ping_ms), len(top.ping_ms),
          *(ms(top.ping_ms, q) for q in (50, 95, 99)),
          f"{max(top.ping_ms, default=float('nan')):.1f}"]],
        note=f"{rooms} rooms for {top.seconds} s; in each the candidate's socket on one uvicorn "
             f"process and the console's on the other ({PROCESSES} processes, Redis channel "
             f"layer). A key every {KEYSTROKE_S * 1000:.0f} ms, each message the whole answer "
             f"(from {INITIAL_TEXT} characters); an event per room every {EVENT_EVERY_S:.0f} s "
             f"through event_append, one in {PRIVATE_EVERY} private. Keystrokes received: "
             f"{seen_share * 100:.1f} % (a burst faster than one per 50 ms per socket is "
             "coalesced to its newest text; none should be at this rate). Latency is measured "
             "by the client, from the send (keystroke, relay) or from the start of "
             "event_append in the writer process (event) to the message's arrival.")
    servers_cpu = [f"server {n}" for n in range(PROCESSES)]
    results.table(
        "Growth: 10 → 100 rooms" if not QUICK else "Growth",
        ["rooms", "s", "keystrokes", "key p50 ms", "key p95 ms", "key p99 ms",
         "relay p99 ms", "key p99 / relay p99", "PING p99 ms", "event p95 ms",
         "events lost", "CPU: servers", "client", "writer", "machine busy"],
        [[p.rooms, p.seconds, p.keystrokes_sent, ms(p.keystroke_ms, 50),
          ms(p.keystroke_ms, 95), ms(p.keystroke_ms, 99), ms(p.relay_ms, 99),
          f"{percentile(p.keystroke_ms, 99) / percentile(p.relay_ms, 99):.2f}",
          ms(p.ping_ms, 99), ms(p.event_ms, 95), p.counts["lost"],
          " + ".join(f"{p.cpu[name] * 100:.0f} %" for name in servers_cpu),
          f"{p.cpu['client'] * 100:.0f} %", f"{p.cpu['writer'] * 100:.0f} %",
          f"{p.cpu['machine'] * 100:.0f} % of 2 cores"] for p in phases],
        note="Each room count on fresh rooms, the same two server processes. CPU is the share "
             "of one core each process used while the candidates typed (the client: one "
             "asyncio loop with every socket; the writer: event_append in its own process); "
             "the machine's busy share counts everything on it, other work included.")
    results.details = {
        "totals": dict(totals), "typing_to_candidate": typing_to_candidate,
        "phases": [{"rooms": p.rooms, "seconds": p.seconds, "counts": p.counts, "cpu": p.cpu,
                    "keystrokes_sent": p.keystrokes_sent, "keystrokes_seen": p.keystrokes_seen,
                    "relay_sent": p.relay_sent, "relay_seen": len(p.relay_ms),
                    "keystroke_ms": {q: percentile(p.keystroke_ms, q) for q in (50, 95, 99)},
                    "relay_ms": {q: percentile(p.relay_ms, q) for q in (50, 95, 99)},
                    "ping_ms": {q: percentile(p.ping_ms, q) for q in (50, 95, 99)},
                    "event_ms": {q: percentile(p.event_ms, q) for q in (50, 95, 99)},
                    "append_ms": {q: percentile(p.append_ms, q) for q in (50, 95, 99)}}
                   for p in phases]}
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
    if sys.argv[1:] == ["--writer"]:
        writer_main()
    else:
        main()
