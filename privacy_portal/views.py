"""Public pages: home, the policy in force, its history, one version, a diff, health."""

import logging
from http import HTTPStatus

from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import selectors
from .caching import rendered_policy
from .diff import diff_policies
from .models import PolicyVersion
from .shared_cache import shared_cache_reachable
from .shared_pages import shared_page

logger = logging.getLogger(__name__)


@require_safe
@shared_page
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "privacy_portal/home.html")


def _policy_page(request: HttpRequest, version: PolicyVersion, *, in_force: bool) -> HttpResponse:
    policy = rendered_policy(
        body_sha256=version.body_sha256,
        load_body=lambda: version.body,  # deferred: loads only on a cache miss
    )
    context = {"version": version, "policy": policy, "in_force": in_force}
    return render(request, "privacy_portal/policy.html", context)


@require_safe
@shared_page
def policy(request: HttpRequest) -> HttpResponse:
    version = selectors.policy_in_force_cached(language=get_language())
    if version is None:
        raise Http404("No policy version has been published yet.")
    return _policy_page(request, version, in_force=True)


@require_safe
@shared_page
def policy_version(request: HttpRequest, number: int) -> HttpResponse:
    version = selectors.policy_version_get(number=number, language=get_language())
    if version is None:
        raise Http404("There is no published policy version with that number.")
    return _policy_page(request, version, in_force=False)


@require_safe
@shared_page
def policy_history(request: HttpRequest) -> HttpResponse:
    versions = selectors.policy_history(language=get_language())
    current = selectors.policy_in_force_cached(language=get_language())
    return render(
        request, "privacy_portal/history.html", {"versions": versions, "current": current}
    )


@require_safe
@shared_page
def policy_diff(request: HttpRequest, number: int) -> HttpResponse:
    version, previous = selectors.policy_version_with_previous(
        number=number, language=get_language()
    )
    if version is None:
        raise Http404("There is no published policy version with that number.")
    sections = diff_policies(previous.body, version.body) if previous else []
    context = {
        "version": version,
        "previous": previous,
        "changed": [s for s in sections if s.state != "unchanged"],
        "unchanged": [s for s in sections if s.state == "unchanged"],
    }
    return render(request, "privacy_portal/diff.html", context)


def bad_link_response(request: HttpRequest, *, expired: bool) -> HttpResponse:
    """The page for a mailed link that is not valid (400) or has expired (410)."""
    return render(
        request,
        "bad_link.html",
        {"expired": expired},
        status=HTTPStatus.GONE if expired else HTTPStatus.BAD_REQUEST,
    )


def wants_json(request: HttpRequest) -> bool:
    """An answer for a script (the consent module, an API client) rather than a page."""
    return "application/json" in request.headers.get("Accept", "") or (
        request.content_type == "application/json"
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form was posted without a valid CSRF token (usually an expired page)."""
    message = _(
        "This page has expired or your browser blocked a cookie this site needs. "
        "Nothing was saved. Please reload the page and try again."
    )
    if wants_json(request):
        return JsonResponse({"error": message}, status=HTTPStatus.FORBIDDEN)
    return render(request, "403.html", {"message": message}, status=HTTPStatus.FORBIDDEN)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the instance can serve, 503 when its database does not answer (for load
    balancers).

    The shared cache being away is reported ("status": "degraded", "cache": "unreachable")
    with a 200: the instance still serves every page and saves every form without it
    (privacy_portal/shared_cache.py), and every instance shares the one cache, so taking
    them out of rotation for it would turn a slower portal into none.
    """
    database = "ok"
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check: the database does not answer")
        database = "unreachable"
    cache = "ok" if shared_cache_reachable() else "unreachable"
    if cache != "ok":
        logger.warning("Health check: the shared cache does not answer; serving without it")
    if database != "ok":
        status, code = "error", HTTPStatus.SERVICE_UNAVAILABLE
    else:
        status, code = ("ok" if cache == "ok" else "degraded"), HTTPStatus.OK
    return JsonResponse({"status": status, "database": database, "cache": cache}, status=code)
