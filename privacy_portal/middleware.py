"""A friendly 503 while the database is away, instead of a 500.

When PostgreSQL restarts, fails over or refuses connections, every page that reads or
writes fails with django.db's OperationalError or InterfaceError. That is an outage, not a
bug: visitors should be told to come back shortly, load balancers and crawlers should see a
503 with Retry-After (so they retry instead of indexing an error page), and the module and
other JSON clients should get JSON. Two hooks give the same answer:

- `DatabaseUnavailableMiddleware.process_exception` for errors raised by a view (including
  rendering its template), the usual case; it works with debug on too;
- `server_error`, the project's handler500, for errors raised outside a view (in another
  middleware), which Django turns into a 500 before any middleware could see them.

The page is rendered without the request's context processors and without the base layout
(whose cookie banner reads the database), so it needs nothing but templates and settings.
"""

import logging
import sys
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

from .views import wants_json

logger = logging.getLogger("privacy_portal.database")

DATABASE_ERRORS = (OperationalError, InterfaceError)
# Long enough for a restart or a fail-over, short enough that nobody waits for nothing.
RETRY_AFTER_SECONDS = 30


def database_unavailable_response(request: HttpRequest, error: BaseException) -> HttpResponse:
    """The 503 answer for a request that failed because the database is unreachable."""
    logger.error(
        "Database unavailable, answered 503 to %s %s: %s: %s",
        request.method,
        request.path,
        type(error).__name__,
        str(error).strip().splitlines()[0] if str(error).strip() else "",
    )
    message = _(
        "The service is briefly unavailable. What you sent may not have been saved: "
        "please try again in a few minutes."
    )
    if wants_json(request):
        response = JsonResponse(
            {"error": message, "retryAfter": RETRY_AFTER_SECONDS},
            status=HTTPStatus.SERVICE_UNAVAILABLE,
        )
    else:
        try:
            html = loader.render_to_string(
                "503.html",
                {
                    "company_name": settings.PORTAL_COMPANY_NAME,
                    "dpo_email": settings.DPO_EMAIL,
                },
            )
        except Exception:  # the page must never turn an outage back into a 500
            logger.exception("The 503 page could not be rendered; answering in plain text")
            response = HttpResponse(
                message,
                status=HTTPStatus.SERVICE_UNAVAILABLE,
                content_type="text/plain; charset=utf-8",
            )
        else:
            response = HttpResponse(html, status=HTTPStatus.SERVICE_UNAVAILABLE)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    # An outage page must not be kept by a proxy or browser once the database is back.
    response.headers["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Turn a view's OperationalError / InterfaceError into the 503 page (JSON for JSON
    clients); every other exception goes on to Django's usual handling."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_ERRORS):
            return database_unavailable_response(request, exception)
        return None


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """handler500: the 503 page when the error being handled is the database being away
    (raised outside a view, e.g. by a middleware), else Django's own 500 page."""
    error = sys.exception()
    if isinstance(error, DATABASE_ERRORS):
        return database_unavailable_response(request, error)
    return defaults.server_error(request, template_name)
