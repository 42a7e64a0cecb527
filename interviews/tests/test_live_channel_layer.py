"""The live rooms' Redis channel layer (``mlsd_site.channel_layers``): Redis pub/sub, whose
channels belong to the whole server, kept apart per database as the list layer's keys were."""

from __future__ import annotations

import asyncio
import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels_redis.pubsub import RedisPubSubChannelLayer

from mlsd_site.channel_layers import redis_channel_layer, redis_database

pytestmark = pytest.mark.services


def test_the_database_number_is_read_from_the_url():
    assert [redis_database(url) for url in (
        "redis://127.0.0.1:6379/13", "redis://cache:6379", "redis://cache:6379/",
        "redis://cache?db=3", "rediss://user:secret@cache:6380/4", "unix:///run/redis.sock",
        "unix:///run/redis.sock?db=2")] == ["13", "0", "0", "3", "4", "0", "2"]


def _layer(url: str, prefix: str) -> RedisPubSubChannelLayer:
    config = redis_channel_layer(url, prefix)
    assert config["BACKEND"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    return RedisPubSubChannelLayer(**config["CONFIG"])


async def _round_trip(layer: RedisPubSubChannelLayer, channel: str, message: dict) -> dict:
    """Send ``message`` to the group until this layer's subscription hears it (a
    subscription is in place some moment after ``group_add`` returns). One receive waits
    throughout: a cancelled one would unsubscribe the channel."""
    heard = asyncio.ensure_future(layer.receive(channel))
    for _ in range(100):
        await layer.group_send("room", message)
        done, _ = await asyncio.wait({heard}, timeout=0.2)
        if done:
            return heard.result()
    heard.cancel()
    raise AssertionError("the layer never heard its own group")


def test_two_databases_of_one_redis_server_do_not_hear_each_others_groups(require_redis):
    prefix = f"mlsd-test-layer-{secrets.token_hex(4)}"

    async def scenario() -> tuple[dict, dict]:
        on_13 = _layer("redis://127.0.0.1:6379/13", prefix)
        on_12 = _layer("redis://127.0.0.1:6379/12", prefix)
        try:
            listener_13, listener_12 = await on_13.new_channel(), await on_12.new_channel()
            await on_13.group_add("room", listener_13)
            await on_12.group_add("room", listener_12)
            # Both subscriptions are in place once each layer has heard its own group.
            await _round_trip(on_12, listener_12, {"type": "probe"})
            heard_13 = await _round_trip(on_13, listener_13, {"type": "wake", "db": 13})
            # Had db 13's message reached db 12's group, it would come before this one.
            await on_12.group_send("room", {"type": "wake", "db": 12})
            heard_12 = {"type": "probe"}
            while heard_12 == {"type": "probe"}:  # a probe sent twice may still be queued
                heard_12 = await asyncio.wait_for(on_12.receive(listener_12), timeout=5)
            return heard_13, heard_12
        finally:
            await on_13.flush()
            await on_12.flush()

    # A loop of its own in a thread of its own: a browser test before this one may have left
    # an event loop on this thread (Playwright's sync API), where asyncio.run cannot run.
    with ThreadPoolExecutor(1) as thread:
        heard_13, heard_12 = thread.submit(asyncio.run, scenario()).result(timeout=60)
    assert heard_13 == {"type": "wake", "db": 13}
    assert heard_12 == {"type": "wake", "db": 12}
