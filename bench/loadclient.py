"""A small asyncio HTTP/1.1 load client for loopback servers (standard library only).

One connection per request with ``Connection: close``, which is what gunicorn's sync workers
do anyway. Two shapes of load:

* ``paced``: every user sends one request per ``period`` seconds on a fixed schedule; a
  request that starts late (because the previous one was slow) is timed from its scheduled
  start, so slowness is not hidden (no coordinated omission);
* ``closed_loop``: ``concurrency`` loops send back to back for a fixed time: the most
  requests per second the server gives.

Loops are bounded in count and in time, and only ever talk to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

HOST = "127.0.0.1"
REQUEST_TIMEOUT = 10.0


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


async def request(port: int, method: str, path: str, *, headers: dict[str, str] | None = None,
                  form: dict[str, str] | None = None) -> Response:
    body = urlencode(form or {}).encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", "Connection: close",
             f"Content-Length: {len(body)}"]
    if form is not None:
        lines.append("Content-Type: application/x-www-form-urlencoded")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    return Response(int(status_line.split()[1]), parsed, payload)


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    errors: dict[str, int] = field(default_factory=dict)
    started: float = 0.0
    finished: float = 0.0
    earlier_seconds: float = 0.0  # slices folded in by ``add``

    @property
    def requests(self) -> int:
        return len(self.latencies) + sum(self.errors.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def seconds(self) -> float:
        return self.finished - self.started + self.earlier_seconds

    def add(self, other: Outcome) -> None:
        """Fold ``other`` (a later slice of the same load) into this outcome."""
        self.latencies += other.latencies
        for kind, count in other.errors.items():
            self.errors[kind] = self.errors.get(kind, 0) + count
        self.earlier_seconds += other.seconds

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


# ``send(user)`` makes one request for ``user`` and says whether it succeeded.
Send = Callable[[int], Awaitable[bool]]


async def _timed(send: Send, user: int, outcome: Outcome, since: float) -> None:
    try:
        ok = await asyncio.wait_for(send(user), REQUEST_TIMEOUT)
    except TimeoutError:
        outcome.error("timeout")
        return
    except OSError as exc:
        outcome.error(type(exc).__name__)
        return
    if ok:
        outcome.latencies.append(time.perf_counter() - since)


async def paced(send: Send, users: int, seconds: float, period: float = 1.0) -> Outcome:
    """Each of ``users`` sends every ``period`` s for ``seconds`` s, starts spread over one
    period; one user's requests stay in order, like one browser tab's saves."""
    outcome = Outcome(started=time.perf_counter())
    rounds = int(seconds / period)

    async def user_loop(user: int) -> None:
        begin = outcome.started + period * user / users
        for k in range(rounds):
            scheduled = begin + k * period
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await _timed(send, user, outcome, scheduled)

    await asyncio.gather(*(user_loop(u) for u in range(users)))
    outcome.finished = time.perf_counter()
    return outcome


async def closed_loop(send: Send, concurrency: int, seconds: float, users: int) -> Outcome:
    """``concurrency`` loops send back to back for ``seconds`` s; loop ``i`` takes turns with
    users ``i, i + concurrency, ...`` so no two loops ever act for the same user."""
    outcome = Outcome(started=time.perf_counter())
    stop = outcome.started + seconds

    async def loop(index: int) -> None:
        mine = list(range(index, users, concurrency)) or [index % users]
        turn = 0
        while time.perf_counter() < stop:
            await _timed(send, mine[turn % len(mine)], outcome, time.perf_counter())
            turn += 1

    await asyncio.gather(*(loop(i) for i in range(concurrency)))
    outcome.finished = time.perf_counter()
    return outcome
