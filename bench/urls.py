"""The project's URLs plus the references the benchmarks measure the portal's own stack
against: bare Django views (the same middleware, database and server as the portal's pages;
bench/anchor/ serves byte-for-byte copies of them in a bare project)."""

from django.db import connection
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

BARE_TABLE = "bench_bare_insert"
PAGE = "<!doctype html><title>bare</title>" + "<p>" + "x" * 10_000 + "</p>"


@csrf_exempt
def bare_insert(request):
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {BARE_TABLE} (payload) VALUES (%s)", [request.body[:200]])
    return HttpResponse(status=204)


def bare_page(request):
    """A bare view returning 10 KB of HTML (the reference for page views)."""
    return HttpResponse(PAGE)


urlpatterns = [
    path("bench/insert/", bare_insert),
    path("bench/page/", bare_page),
    path("", include("privacy_portal.urls")),
]
