"""The ASGI app (pages and the live rooms' WebSockets) served by uvicorn for a test.

``asgi_live_server`` runs ``mlsd_site.asgi:application`` in a background thread of the test
process, so the test's own data (committed: the fixture uses ``transactional_db``) is what
the server reads, and a service the test calls pushes to the server's sockets. It gives:

- ``url``: ``http://127.0.0.1:<port>`` (for a browser or an HTTP client);
- ``ws_url``: ``ws://127.0.0.1:<port>``;
- ``cookie_for(user)``: a ``Cookie`` header value that logs ``user`` in (a real session);
- ``origin``: the ``Origin`` header a WebSocket client must send (the server checks it
  against ALLOWED_HOSTS, as it does for a browser).

The channel layer is Redis (a database and prefix of this test's own): the in-memory layer
would be written to from the test's thread and read on the server's event loop, which it
is not made for. So the fixture needs PostgreSQL and Redis, like the other cross-process
tests. Registered for every test by the root ``conftest.py``.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass

import pytest

from mlsd_site.channel_layers import redis_channel_layer

# The Redis database the live tests' channel layers use (the Celery tests use 15, the
# benchmarks 14 and flush it).
LIVE_TEST_REDIS_DB = 13


def live_channel_layer_url() -> str:
    return os.environ.get("MLSD_TEST_CHANNEL_LAYER_URL",
                          f"redis://127.0.0.1:6379/{LIVE_TEST_REDIS_DB}")


def redis_channel_layers(url: str, prefix: str) -> dict:
    """CHANNEL_LAYERS for a Redis layer at ``url`` with keys under ``prefix``."""
    return {"default": redis_channel_layer(url, prefix)}


@dataclass
class AsgiLiveServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def origin(self) -> str:
        return self.url

    def cookie_for(self, user) -> str:
        """A ``Cookie`` header value with a session that logs ``user`` in."""
        from django.test import Client

        client = Client()
        client.force_login(user)
        return "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())


def serve_in_thread(application, *, host: str = "127.0.0.1"):
    """Start uvicorn serving ``application`` on a free port in a daemon thread; returns
    ``(port, stop)``. The socket is bound here, so the port is known before it starts."""
    import uvicorn

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(application, lifespan="off", log_level="warning",
                            # Quick to stop: the test's sockets are closed by then anyway.
                            timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]},
                              name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()

    return port, stop


@pytest.fixture
def asgi_live_server(transactional_db, settings, require_postgres, require_redis):
    """uvicorn serving ``mlsd_site.asgi:application`` for this test (see the module)."""
    from channels.layers import channel_layers
    from redis import Redis

    url = live_channel_layer_url()
    prefix = f"mlsd-test-live-{os.getpid()}-{time.monotonic_ns()}"
    settings.CHANNEL_LAYERS = redis_channel_layers(url, prefix)  # resets channels' cache
    from mlsd_site.asgi import application

    port, stop = serve_in_thread(application)
    try:
        yield AsgiLiveServer(host="127.0.0.1", port=port)
    finally:
        stop()
        channel_layers.backends.clear()
        client = Redis.from_url(url)
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
