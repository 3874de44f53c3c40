"""The project's URLs plus the reference the benchmarks measure against: a bare Django view
that inserts one row (through the same middleware, the same database, the same server)."""

from django.db import connection
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

BARE_TABLE = "bench_bare_insert"


@csrf_exempt
def bare_insert(request):
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {BARE_TABLE} (payload) VALUES (%s)", [request.body[:200]])
    return HttpResponse(status=204)


def bare_page(request):
    """A bare view returning 10 KB of HTML (the reference for page views)."""
    return HttpResponse("<!doctype html><title>bare</title>" + "<p>" + "x" * 10_000 + "</p>")


def bare_page_query(request):
    """The bare page after one database query: the floor for a page that must ask the
    database once (as /privacy/ asks for the version in force)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return bare_page(request)


urlpatterns = [
    path("bench/insert/", bare_insert),
    path("bench/page/", bare_page),
    path("bench/page-query/", bare_page_query),
    path("", include("privacy_portal.urls")),
]
