"""The JSON API under ``/api/v1/`` (django-ninja): what a candidate does outside the browser,
with a personal access token (``mlsd_site/tokens.py``). ``auth.py`` signs a request in,
counts it against its rate limit and logs it with the token's name; ``errors.py`` is the one
error shape (``{"code", "message", "reason"}``); ``schemas.py`` the response shapes the
OpenAPI schema documents; ``endpoints.py`` the operations, each a call to the same services
and selectors as the pages; ``views.py`` the page that documents it all.
"""
