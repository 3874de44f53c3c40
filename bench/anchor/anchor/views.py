"""The portal's bare reference views (bench/urls.py), copied byte for byte: the same code in
both projects, so a gap between them is the projects', not the views'.
tests/bench/test_comparison.py fails when the two copies differ."""

from django.db import connection
from django.http import HttpResponse
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
