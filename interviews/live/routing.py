"""WebSocket routes of live interviews (``mlsd_site/asgi.py`` mounts them)."""

from django.urls import path

from interviews.live.consumers import LiveRoomConsumer

websocket_urlpatterns = [
    path("ws/live/<int:room_id>/", LiveRoomConsumer.as_asgi(), name="live-socket"),
]
