"""htmx plumbing shared by both apps' views: the typed request and a log-in check that an
htmx request can show and retry."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def login_required_htmx(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Like ``login_required``, except that an htmx request gets a 401 it can show and retry
    (a redirect would be followed and the log-in page swapped into the answer)."""

    @wraps(view)
    def wrapper(request: HtmxHttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.htmx:
            return HttpResponse(
                "You are logged out. Log in again in another tab: your text is kept in this "
                "browser until it is saved.", status=401, content_type="text/plain",
            )
        return redirect_to_login(request.get_full_path())

    return wrapper
