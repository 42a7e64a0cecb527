"""The live rooms' push channel end to end: real WebSocket clients (``websockets``) on the
ASGI app served by uvicorn (``asgi_live_server``), PostgreSQL, and the Redis channel layer.

"Nothing else arrived" is never a wait: after the messages a test expects, it appends one more
event both sides may read (a sentinel) and reads up to it. A connection's messages arrive in
order, so anything that should not have come would have come before the sentinel.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from channels import db as channels_db
from django.db import connections
from django.db.backends.utils import CursorWrapper
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from interviews.live import push, services
from interviews.live.models import LiveEvent, LiveRoom
from interviews.live.selectors import event_payload, events_after
from interviews.live.services import event_append
from interviews.tests.factories import CaseStudyFactory, candidate, interviewer

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

RECEIVE_TIMEOUT_S = 15
INTERVIEWER_ONLY = LiveEvent.Audience.INTERVIEWER


@pytest.fixture
def room(transactional_db):
    return LiveRoom.objects.create(candidate=candidate(), interviewer=interviewer(),
                                   case_study=CaseStudyFactory())


def open_socket(server, room: LiveRoom, user=None, *,
                origin: str | None = None) -> ClientConnection:
    headers = {"Cookie": server.cookie_for(user)} if user is not None else {}
    return connect(f"{server.ws_url}/ws/live/{room.pk}/", origin=origin or server.origin,
                   additional_headers=headers, open_timeout=RECEIVE_TIMEOUT_S)


def hello(socket: ClientConnection, after: int = 0) -> None:
    socket.send(json.dumps({"type": "hello", "after": after}))


def receive(socket: ClientConnection) -> dict:
    return json.loads(socket.recv(timeout=RECEIVE_TIMEOUT_S))


def events_through(socket: ClientConnection, last_seq: int) -> tuple[list[int], list[dict]]:
    """Read until an event with ``last_seq`` arrives; returns the seqs of every event received
    (duplicates included) and every message that was not an events message."""
    seqs: list[int] = []
    others: list[dict] = []
    while not seqs or seqs[-1] < last_seq:
        message = receive(socket)
        if message["type"] == "events":
            seqs.extend(event["seq"] for event in message["events"])
        else:
            others.append(message)
    return seqs, others


def note(room: LiveRoom, text: str, *, audience: str = LiveEvent.Audience.BOTH) -> int:
    return event_append(room=room, kind=LiveEvent.Kind.NOTE, body=text, audience=audience).seq


@contextmanager
def server_queries(monkeypatch) -> Iterator[list[str]]:
    """The SQL every thread but this test's runs inside the block: the server's (uvicorn
    runs in a thread of this process, its database reads in a pool of threads), and each
    upkeep of the database connections Channels does (a hop to a thread, no SQL)."""
    queries: list[str] = []
    test_thread = threading.get_ident()
    execute, executemany = CursorWrapper._execute, CursorWrapper._executemany
    upkeep = channels_db.close_old_connections

    def recorded(original):
        def run(self, sql, *args, **kwargs):
            if threading.get_ident() != test_thread:
                queries.append(sql)
            return original(self, sql, *args, **kwargs)
        return run

    def close_old_connections(**kwargs):
        queries.append("(close_old_connections)")
        return upkeep(**kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(CursorWrapper, "_execute", recorded(execute))
        patch.setattr(CursorWrapper, "_executemany", recorded(executemany))
        patch.setattr(channels_db, "close_old_connections", close_old_connections)
        yield queries


def test_hello_is_answered_with_the_catch_up_then_the_log_is_pushed_in_order(asgi_live_server,
                                                                            room):
    first, second = note(room, "one"), note(room, "two")
    with open_socket(asgi_live_server, room, room.candidate) as socket:
        hello(socket)
        catch_up = receive(socket)
        assert catch_up["type"] == "events" and catch_up["after"] == 0
        assert [event["seq"] for event in catch_up["events"]] == [first, second]
        assert catch_up["events"][0]["body"] == "one"

        # Thirty appends from another thread, as fast as they go: the wake-ups pile up.
        appended: list[int] = []

        def write() -> None:
            appended.extend(note(room, f"n{i}") for i in range(30))
            connections.close_all()  # this thread's connection, or the test database stays

        writer = threading.Thread(target=write)
        writer.start()
        writer.join()
        seqs, _ = events_through(socket, appended[-1])
    assert seqs == appended  # each once, in order


def test_an_empty_log_still_answers_hello(asgi_live_server, room):
    with open_socket(asgi_live_server, room, room.interviewer) as socket:
        hello(socket)
        assert receive(socket) == {"type": "events", "after": 0, "events": []}


def test_a_long_log_is_caught_up_in_pages_that_continue_each_other(asgi_live_server, room):
    LiveEvent.objects.bulk_create(LiveEvent(room=room, seq=n, kind=LiveEvent.Kind.NOTE,
                                            body=str(n)) for n in range(1, 451))
    LiveRoom.objects.filter(pk=room.pk).update(last_seq=450)
    with open_socket(asgi_live_server, room, room.interviewer) as socket:
        hello(socket, after=5)
        pages = [receive(socket) for _ in range(3)]
    assert [page["after"] for page in pages] == [5, 205, 405]
    assert [len(page["events"]) for page in pages] == [200, 200, 45]
    assert [e["seq"] for page in pages for e in page["events"]] == list(range(6, 451))


def test_the_candidate_never_receives_an_interviewer_only_event(asgi_live_server, room):
    private_before = note(room, "strong on metrics", audience=INTERVIEWER_ONLY)
    shared = note(room, "question 1")
    with open_socket(asgi_live_server, room, room.candidate) as cand, \
            open_socket(asgi_live_server, room, room.interviewer) as iv:
        hello(cand)
        hello(iv)
        assert [e["seq"] for e in receive(cand)["events"]] == [shared]
        assert [e["seq"] for e in receive(iv)["events"]] == [private_before, shared]

        private_after = note(room, "weak on scale", audience=INTERVIEWER_ONLY)
        sentinel = note(room, "question 2")
        candidate_seqs, _ = events_through(cand, sentinel)
        interviewer_seqs, _ = events_through(iv, sentinel)
    assert candidate_seqs == [sentinel]
    assert interviewer_seqs == [private_after, sentinel]


@pytest.mark.parametrize("who", ["stranger", "other_interviewer", "logged_out"])
def test_only_the_rooms_two_people_may_connect(asgi_live_server, room, who):
    user = {"stranger": candidate, "other_interviewer": interviewer,
            "logged_out": lambda: None}[who]()
    with open_socket(asgi_live_server, room, user) as socket, \
            pytest.raises(ConnectionClosed) as closed:
        hello(socket)  # may already fail: the server closes at once
        receive(socket)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


def test_a_page_of_another_site_cannot_open_the_socket(asgi_live_server, room):
    with pytest.raises(InvalidStatus) as refused:
        open_socket(asgi_live_server, room, room.candidate, origin="https://evil.example")
    assert refused.value.response.status_code == 403


def test_typing_reaches_the_interviewer_and_not_back_to_the_candidate(asgi_live_server, room):
    with open_socket(asgi_live_server, room, room.candidate) as cand, \
            open_socket(asgi_live_server, room, room.interviewer) as iv:
        hello(cand)
        hello(iv)
        receive(cand), receive(iv)
        text = "Predict p(click) ✓ " * 100
        cand.send(json.dumps({"type": "typing", "step": 2, "text": text, "version": 3}))
        assert receive(iv) == {"type": "typing", "step": 2, "text": text, "version": 3}

        # Not relayed: an invalid step, text over the limit, and typing from the interviewer.
        cand.send(json.dumps({"type": "typing", "step": 7, "text": "x", "version": 1}))
        cand.send(json.dumps({"type": "typing", "step": 1, "text": "x" * 50_001, "version": 1}))
        iv.send(json.dumps({"type": "typing", "step": 1, "text": "from the console",
                            "version": 1}))
        cand.send("not json")
        sentinel = note(room, "time check")
        _, candidate_others = events_through(cand, sentinel)
        _, interviewer_others = events_through(iv, sentinel)
    assert candidate_others == []
    assert interviewer_others == []


def test_a_burst_of_keystrokes_ends_with_the_last_text(asgi_live_server, room):
    with open_socket(asgi_live_server, room, room.candidate) as cand, \
            open_socket(asgi_live_server, room, room.interviewer) as iv:
        hello(cand)
        hello(iv)
        receive(cand), receive(iv)
        typed = "The feature store serves online features"
        for end in range(1, len(typed) + 1):
            cand.send(json.dumps({"type": "typing", "step": 5, "text": typed[:end],
                                  "version": 0}))
        texts = []
        while not texts or texts[-1] != typed:
            message = receive(iv)
            assert message["type"] == "typing"
            texts.append(message["text"])
    # Coalesced perhaps, but in order and never an older text after a newer one.
    assert texts == sorted(texts, key=len)


def test_typing_is_relayed_without_touching_the_database(asgi_live_server, room, monkeypatch):
    with open_socket(asgi_live_server, room, room.candidate) as cand, \
            open_socket(asgi_live_server, room, room.interviewer) as iv:
        hello(cand)
        hello(iv)
        receive(cand), receive(iv)
        typed = "Two-tower retrieval, then a ranker"
        with server_queries(monkeypatch) as queries:
            for end in range(1, len(typed) + 1):
                cand.send(json.dumps({"type": "typing", "step": 3, "text": typed[:end],
                                      "version": 4}))
                time.sleep(0.01)  # a fast typist: some of these are coalesced
            texts = []
            while not texts or texts[-1] != typed:
                message = receive(iv)
                assert message["type"] == "typing" and message["version"] == 4
                texts.append(message["text"])
    assert queries == []
    assert texts == sorted(texts, key=len)  # the newest text wins, none older after it


def test_an_event_both_sides_may_read_is_pushed_without_a_read_of_the_log(
        asgi_live_server, room, monkeypatch):
    with open_socket(asgi_live_server, room, room.candidate) as cand, \
            open_socket(asgi_live_server, room, room.interviewer) as iv:
        hello(cand)
        hello(iv)
        receive(cand), receive(iv)
        with server_queries(monkeypatch) as queries:
            seq = event_append(room=room, kind=LiveEvent.Kind.QUESTION, actor=room.candidate,
                               body="How many advertisers?", step_number=1).seq
            pushed = [receive(cand), receive(iv)]
    assert queries == []
    from_log = [event_payload(event) for event in
                events_after(room, after=seq - 1, interviewer_view=False)]
    # What the page gets is what a read of the log would have given it, JSON and all.
    assert pushed == [{"type": "events", "after": 0, "events": json.loads(json.dumps(from_log))}
                      ] * 2


def test_a_missed_wake_up_is_filled_from_the_log_and_a_late_one_changes_nothing(
        asgi_live_server, room, monkeypatch):
    with open_socket(asgi_live_server, room, room.candidate) as cand, \
            open_socket(asgi_live_server, room, room.interviewer) as iv:
        hello(cand)
        hello(iv)
        receive(cand), receive(iv)
        held = []
        with monkeypatch.context() as patch:  # this event's wake-up is lost on the way
            patch.setattr(services, "room_wake", lambda *args, **kwargs: held.append(
                (args, kwargs)))
            missed = note(room, "missed")
            private_missed = note(room, "missed, private", audience=INTERVIEWER_ONLY)
        after = note(room, "after")  # its wake-up shows the gap: the log is read
        candidate_seqs, _ = events_through(cand, after)
        interviewer_seqs, _ = events_through(iv, after)
        assert candidate_seqs == [missed, after]
        assert interviewer_seqs == [missed, private_missed, after]
        for args, kwargs in held:  # the lost wake-ups turn up after all
            push.room_wake(*args, **kwargs)
        sentinel = note(room, "sentinel")
        candidate_seqs, _ = events_through(cand, sentinel)
        interviewer_seqs, _ = events_through(iv, sentinel)
    assert candidate_seqs == [sentinel]
    assert interviewer_seqs == [sentinel]


def test_a_reconnect_with_hello_gets_exactly_the_missed_events(asgi_live_server, room):
    with open_socket(asgi_live_server, room, room.candidate) as socket:
        hello(socket)
        receive(socket)
        seen = [note(room, "question 1"), note(room, "question 2")]
        seqs, _ = events_through(socket, seen[-1])
        assert seqs == seen
    missed = [note(room, "follow-up"), note(room, "note", audience=INTERVIEWER_ONLY),
              note(room, "time check")]
    with open_socket(asgi_live_server, room, room.candidate) as socket:
        hello(socket, after=seen[-1])
        caught_up = receive(socket)
        assert caught_up["after"] == seen[-1]
        assert [e["seq"] for e in caught_up["events"]] == [missed[0], missed[2]]
        sentinel = note(room, "question 3")
        seqs, _ = events_through(socket, sentinel)
    assert seqs == [sentinel]


# --- the browser client (static/js/lib/live_feed.js) in Chromium ------------------------------

FEED_SCRIPT = """async ([room]) => {
  const { openLiveFeed } = await import("/static/js/lib/live_feed.js");
  window.feed = { seqs: [], statuses: [] };
  window.feed.client = openLiveFeed({
    socketUrl: `/ws/live/${room}/`, eventsUrl: `/live/${room}/events/`, after: 0,
    onEvents: (events) => window.feed.seqs.push(...events.map((e) => e.seq)),
    onStatus: (status) => window.feed.statuses.push(status),
  });
}"""


def wait_in_page(page, expression: str, timeout_s: float = 20) -> None:
    """Wait until ``expression`` is true in the page. Polled from here: Playwright's
    wait_for_function evaluates strings, which the site's CSP (no 'unsafe-eval') refuses."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(f"() => Boolean({expression})"):
        assert time.monotonic() < deadline, f"never true in the page: {expression}"
        page.wait_for_timeout(50)


@pytest.mark.e2e
def test_the_browser_client_gets_each_event_once_and_polls_while_the_socket_is_down(
        asgi_live_server, room, chromium_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's ORM calls are sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    first = note(room, "question 1")
    cookie = asgi_live_server.cookie_for(room.candidate).split("=", 1)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(base_url=asgi_live_server.url)
        context.add_cookies([{"name": cookie[0], "value": cookie[1],
                              "url": asgi_live_server.url}])
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
        page.goto("/accounts/login/")  # any page of the site: its CSP applies
        page.evaluate(FEED_SCRIPT, [room.pk])
        wait_in_page(page, "window.feed.statuses.at(-1) === 'live'")
        pushed = [note(room, "q2"), note(room, "private", audience=INTERVIEWER_ONLY),
                  note(room, "q3")]
        wait_in_page(page, f"window.feed.seqs.includes({pushed[-1]})")

        # The push goes down: every socket is refused from now on. The page polls.
        page.route_web_socket("**/ws/live/**", lambda ws: ws.close(code=1011))
        page.evaluate("window.feed.client.close()")
        page.evaluate(FEED_SCRIPT.replace("after: 0", "after: window.feed.seqs.at(-1)")
                      .replace("window.feed = { seqs: [], statuses: [] };",
                               "window.feed.statuses = [];"), [room.pk])
        wait_in_page(page, "window.feed.statuses.at(-1) === 'polling'")
        polled = note(room, "time check")
        wait_in_page(page, f"window.feed.seqs.includes({polled})")
        seqs = page.evaluate("window.feed.seqs")
        sent = page.evaluate("window.feed.client.send({type: 'typing', step: 1, text: 'x'})")
        browser.close()
    assert seqs == [first, pushed[0], pushed[2], polled]
    assert sent is False  # nothing is queued while the socket is down
    assert errors == [] or all("WebSocket" in error for error in errors), errors
