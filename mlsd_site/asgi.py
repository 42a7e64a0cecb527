"""The ASGI application: Django's pages over HTTP, and the live rooms' WebSockets.

``make run`` serves it with uvicorn (one process: the in-memory channel layer is enough);
production serves the pages with gunicorn (``wsgi.py``) and this only for ``/ws/`` (the
``live`` service in docker/compose.yml), with the Redis channel layer joining the processes.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlsd_site.settings")
# Set up Django (the app registry) before importing anything that imports models.
django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from interviews.live.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_application,
    # The Origin check stops another site's page from opening a socket with our cookies
    # (WebSockets are not covered by CSRF protection); the session says who is connecting.
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
})
