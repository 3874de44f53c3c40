"""The project's URLs plus the references the benchmarks measure against: bare Django views
(through the same middleware, the same database, the same server).

The targets are set against the barest views (one INSERT; a 10 KB page). The "floor" views
add only what Django itself makes any such endpoint pay (a CSRF check and an ORM row for a
decision; a CSRF token for a page with a form), so a run shows how much of a gap is the
portal's own work and how much is the framework's.
"""

import datetime
import uuid

from django.contrib.sessions.models import Session
from django.core import signing
from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

BARE_TABLE = "bench_bare_insert"
PAGE = "<!doctype html><title>bare</title>" + "<p>" + "x" * 10_000 + "</p>"


@csrf_exempt
def bare_insert(request):
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {BARE_TABLE} (payload) VALUES (%s)", [request.body[:200]])
    return HttpResponse(status=204)


@require_POST
def floor_decision(request):
    """The least a Django view recording a decision does: the CSRF check (middleware), the
    form parsed, one row saved through the ORM, a signed cookie, a 303. Any table would do;
    the sessions table is small and always there."""
    action = request.POST.get("action", "")
    Session.objects.create(
        session_key=uuid.uuid4().hex,
        session_data=action,
        expire_date=timezone.now() + datetime.timedelta(days=1),
    )
    response = HttpResponseRedirect("/", status=303)
    response.set_cookie("bench_decision", signing.dumps({"a": action}), samesite="Lax")
    return response


def bare_page(request):
    """A bare view returning 10 KB of HTML (the reference for page views)."""
    return HttpResponse(PAGE)


def bare_page_query(request):
    """The bare page after one database query: the floor for a page that must ask the
    database once."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return bare_page(request)


def bare_page_token(request):
    """The bare page with a form's CSRF token: what Django makes any first visit to a page
    with a form pay (a new secret, its masked copy, the cookie)."""
    return HttpResponse(PAGE.replace("</p>", f"</p><input value={get_token(request)}>"))


urlpatterns = [
    path("bench/insert/", bare_insert),
    path("bench/floor-decision/", floor_decision),
    path("bench/page/", bare_page),
    path("bench/page-query/", bare_page_query),
    path("bench/page-token/", bare_page_token),
    path("", include("privacy_portal.urls")),
]
