"""The Redis channel layer's configuration, in one place for the settings and the tests."""

# channels_redis waits for messages with a blocking BZPOPMIN of 5 s, and redis-py (from 6.0)
# gives every socket a 5 s read timeout by default: the two race, and a connection that
# loses raises TimeoutError inside the consumer, which drops the page's WebSocket without a
# close frame. A read timeout well above the blocking wait keeps a quiet room connected and
# still notices a Redis that stopped answering.
SOCKET_TIMEOUT_S = 30


def redis_channel_layer(url: str, prefix: str) -> dict:
    """A ``CHANNEL_LAYERS["default"]`` entry for the Redis at ``url``, keys under ``prefix``."""
    return {"BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": url, "socket_timeout": SOCKET_TIMEOUT_S}],
                       "prefix": prefix}}
