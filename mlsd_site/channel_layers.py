"""The Redis channel layer's configuration, in one place for the settings and the tests."""

from urllib.parse import parse_qs, urlsplit

# Redis pub/sub (channels_redis's RedisPubSubChannelLayer), not the list-based
# RedisChannelLayer: the live rooms' messages are wake-ups (the log in PostgreSQL is the
# record, re-read after a gap, every 20 s and on every reconnect) and keystrokes (each
# superseded by the next, the saved answers being the record), so they need no queue that
# outlives a dropped connection. A group send is then one PUBLISH, and a process receives
# its messages as Redis pushes them, where the list layer paid four round trips per group
# send and three per message received, one message at a time per process, and silently
# dropped messages past its capacity. At 100 rooms typing (bench/live.py) that queue was the
# keystrokes' p99: 1,009 ms on the list layer against 21 ms on this one, the rest of the
# code the same (two runs on a shared machine), and on the list layer 17 rooms' last text
# never reached the console.
# A socket timeout bounds how long a publish waits on a Redis that stopped answering; the
# subscriber waits for messages with its own short timeout, so a quiet room stays connected.
SOCKET_TIMEOUT_S = 30


def redis_channel_layer(url: str, prefix: str) -> dict:
    """A ``CHANNEL_LAYERS["default"]`` entry for the Redis at ``url``, channels and groups
    under ``prefix`` and the database number of ``url``: pub/sub channels belong to the whole
    Redis server, not to a database, so two deployments (or test runs) on two databases of
    one server stay apart as they did on the list layer's keys."""
    return {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": url, "socket_timeout": SOCKET_TIMEOUT_S}],
                       "prefix": f"{prefix}-db{redis_database(url)}-"}}


def redis_database(url: str) -> str:
    """The database number a Redis URL selects (``/n`` or ``?db=n``; 0 when none). A
    ``unix://`` URL's path is the socket's, so only its query says."""
    parts = urlsplit(url)
    path = "" if parts.scheme == "unix" else parts.path.strip("/")
    return path or parse_qs(parts.query).get("db", ["0"])[0] or "0"
