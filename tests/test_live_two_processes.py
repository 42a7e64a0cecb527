"""Live rooms across web processes: two uvicorn processes serving the ASGI app on the test's
PostgreSQL database, joined by the Redis channel layer (as two ``live`` containers would be).
A page connected to one process gets what was written through the other, and what a service
wrote in yet another process (this one: as a Celery worker's deadline sweep does).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.sync.client import ClientConnection, connect

from interviews.live.models import LiveEvent, LiveRoom
from interviews.live.services import event_append, room_claim, room_open, room_start
from interviews.tests.factories import CaseStudyFactory, candidate, interviewer, rubric_with_steps
from tests.asgi_server import AsgiLiveServer, live_channel_layer_url, redis_channel_layers

ROOT = Path(__file__).resolve().parents[1]
RECEIVE_TIMEOUT_S = 15

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(base: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers: up (a 503 only says no worker is running)
        except OSError:
            time.sleep(0.2)
    pytest.fail("uvicorn did not come up:\n" + log.read_text()[-3000:])


@dataclass
class WebProcess(AsgiLiveServer):
    proc: subprocess.Popen | None = None


@pytest.fixture
def web_processes(transactional_db, settings, require_postgres, require_redis, tmp_path):
    """Two uvicorn processes (``a``, ``b``) on this test's database and a Redis channel layer
    of its own, which this process's writes use too."""
    from redis import Redis

    db = settings.DATABASES["default"]
    database_url = (f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}"
                    f":{db.get('PORT') or 5432}/{db['NAME']}")
    layer_url = live_channel_layer_url()
    prefix = f"mlsd-test-live2-{os.getpid()}-{secrets.token_hex(4)}"
    settings.CHANNEL_LAYERS = redis_channel_layers(layer_url, prefix)
    started: dict[str, WebProcess] = {}
    try:
        for name in ("a", "b"):
            port = free_port()
            log = tmp_path / f"uvicorn-{name}.log"
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mlsd_site.test_settings",
                   "DATABASE_URL": database_url, "CHANNEL_LAYER_URL": layer_url,
                   "CHANNEL_LAYER_PREFIX": prefix, "MLSD_VAR_DIR": str(tmp_path / f"var-{name}"),
                   "MLSD_DATASET_SECRET": settings.DATASET_SECRET}
            proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "mlsd_site.asgi:application", "--host",
                 "127.0.0.1", "--port", str(port), "--lifespan", "off", "--no-access-log"],
                cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                start_new_session=True)
            started[name] = WebProcess(host="127.0.0.1", port=port, proc=proc)
            wait_until_serving(started[name].url, proc, log)
        yield started
    finally:
        for server in started.values():
            if server.proc.poll() is None:
                os.killpg(server.proc.pid, signal.SIGTERM)
        for server in started.values():
            try:
                server.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.proc.pid, signal.SIGKILL)
                server.proc.wait()
        client = Redis.from_url(layer_url)
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)


@contextmanager
def open_socket(server: AsgiLiveServer, room: LiveRoom, user) -> Iterator[ClientConnection]:
    """A page's socket on ``server``, past its hello (caught up to the room's last seq)."""
    with connect(f"{server.ws_url}/ws/live/{room.pk}/", origin=server.origin,
                 additional_headers={"Cookie": server.cookie_for(user)},
                 open_timeout=RECEIVE_TIMEOUT_S) as socket_:
        socket_.send(json.dumps({"type": "hello", "after": room.last_seq}))
        assert json.loads(socket_.recv(timeout=RECEIVE_TIMEOUT_S))["type"] == "events"
        yield socket_


def next_message(socket_: ClientConnection) -> dict:
    return json.loads(socket_.recv(timeout=RECEIVE_TIMEOUT_S))


def post(server: AsgiLiveServer, path: str, user, fields: dict[str, str]) -> int:
    """A form POST as the page's htmx sends it (session cookie, CSRF token in the header)."""
    token = secrets.token_hex(16)  # a CSRF secret of 32 characters, as the cookie holds
    request = urllib.request.Request(
        server.url + path, data=urllib.parse.urlencode(fields).encode(), method="POST",
        headers={"Cookie": f"{server.cookie_for(user)}; csrftoken={token}",
                 "X-CSRFToken": token, "HX-Request": "true"})
    with urllib.request.urlopen(request, timeout=RECEIVE_TIMEOUT_S) as response:
        return response.status


def test_a_write_in_another_process_reaches_pages_on_both_web_processes(web_processes):
    room = LiveRoom.objects.create(candidate=candidate(), interviewer=interviewer(),
                                   case_study=CaseStudyFactory())
    with open_socket(web_processes["a"], room, room.candidate) as on_a, \
            open_socket(web_processes["b"], room, room.interviewer) as on_b:
        # This test process is the "other process": neither a nor b wrote it.
        seq = event_append(room=room, kind=LiveEvent.Kind.NOTE, body="from elsewhere").seq
        for socket_ in (on_a, on_b):
            message = next_message(socket_)
            assert message["type"] == "events"
            assert [(e["seq"], e["body"]) for e in message["events"]] == [(seq, "from elsewhere")]


def test_what_is_posted_through_one_process_is_pushed_by_the_other(web_processes):
    rubric_with_steps()
    room, _ = room_open(candidate=candidate(), case_study=CaseStudyFactory())
    room = room_claim(room_id=room.pk, interviewer=interviewer())
    room = room_start(room=room, interviewer=room.interviewer)
    room.refresh_from_db()
    a, b = web_processes["a"], web_processes["b"]
    with open_socket(b, room, room.interviewer) as console_on_b, \
            open_socket(b, room, room.candidate) as candidate_on_b, \
            open_socket(a, room, room.candidate) as candidate_on_a:
        assert post(a, f"/live/{room.pk}/notes/", room.interviewer,
                    {"text": "clear on metrics", "step": "2"}) == 204
        assert post(a, f"/live/{room.pk}/time-check/", room.interviewer, {}) == 204
        kinds = []
        while len(kinds) < 2:
            kinds += [e["kind"] for e in next_message(console_on_b)["events"]]
        assert kinds == ["note", "time_check"]
        # The candidate's pages get the time check and never the private note.
        for socket_ in (candidate_on_b, candidate_on_a):
            assert [e["kind"] for e in next_message(socket_)["events"]] == ["time_check"]

        # Typing on process a reaches the console on process b.
        candidate_on_a.send(json.dumps({"type": "typing", "step": 1, "text": "Predict ETA",
                                        "version": 2}))
        assert next_message(console_on_b) == {"type": "typing", "step": 1,
                                              "text": "Predict ETA", "version": 2}


def test_a_quiet_room_stays_connected_past_the_layers_blocking_reads(web_processes):
    """Nothing happens in the room for longer than channels_redis's 5 s blocking read (twice
    over): the page stays connected and still gets the next event. (With redis-py's default
    5 s socket timeout the two raced and the consumer died, dropping the socket.)"""
    room = LiveRoom.objects.create(candidate=candidate(), interviewer=interviewer(),
                                   case_study=CaseStudyFactory())
    with open_socket(web_processes["a"], room, room.interviewer) as console:
        time.sleep(12)  # a quiet room: no message for the consumer to read
        seq = event_append(room=room, kind=LiveEvent.Kind.NOTE, body="still there?").seq
        message = next_message(console)
        assert [(e["seq"], e["body"]) for e in message["events"]] == [(seq, "still there?")]
