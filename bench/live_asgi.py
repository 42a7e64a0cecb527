"""What the live benchmark's uvicorn processes serve: the site's ASGI app
(``mlsd_site.asgi``), and beside its live-room sockets a no-op relay that measures the floor
on the same processes in the same seconds.

``/ws/bench/relay/<pair>/listen/`` joins the channel-layer group of ``pair``;
``/ws/bench/relay/<pair>/send/`` passes every text frame it gets to that group as it is. The
relay goes through what a keystroke goes through (uvicorn, the Origin check, the session
middleware, a Channels consumer, the Redis channel layer, the other process's consumer, its
socket) and does nothing else: no JSON, no checks, no coalescing, no database (not even
the upkeep of its connections that Channels does before every message, which the live
consumer skips too).
"""

import os
from importlib import import_module

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
# The site's app first: importing it sets Django up, which the imports below need.
site_application = import_module("mlsd_site.asgi").application

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.consumer import get_handler_name  # noqa: E402
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from interviews.live.routing import websocket_urlpatterns  # noqa: E402


class RelayConsumer(AsyncWebsocketConsumer):
    """One end of a no-op relay (see the module)."""

    async def dispatch(self, message: dict) -> None:
        # As LiveRoomConsumer.dispatch: no database connection upkeep per message.
        await getattr(self, get_handler_name(message))(message)

    async def connect(self) -> None:
        kwargs = self.scope["url_route"]["kwargs"]
        self.group = f"bench-relay-{kwargs['pair']}"
        self.listening = kwargs["end"] == "listen"
        await self.accept()
        if self.listening:
            await self.channel_layer.group_add(self.group, self.channel_name)

    async def disconnect(self, code: int) -> None:
        if self.listening:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None
                      ) -> None:
        if text_data is not None and not self.listening:
            await self.channel_layer.group_send(self.group, {"type": "relay", "text": text_data})

    async def relay(self, message: dict) -> None:
        await self.send(text_data=message["text"])


application = ProtocolTypeRouter({
    "http": site_application,
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter([
        path("ws/bench/relay/<int:pair>/<str:end>/", RelayConsumer.as_asgi()),
        *websocket_urlpatterns,
    ]))),
})
