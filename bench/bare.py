"""A bare Django project, the reference of bench/stack_cost.py: the settings and middleware
`django-admin startproject` writes, the portal's database (and connection lifetime), and
the view of bench.urls that inserts one row. Settings and URLconf in one module:
DJANGO_SETTINGS_MODULE=bench.bare, served as `django.core.wsgi:get_wsgi_application()`.
"""

import os

import environ
from django.db import connection
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "bench.bare"
DATABASES = {"default": environ.Env().db_url("DATABASE_URL")}
# The portal's default, so that the figures compare the stacks, not connection policies.
DATABASES["default"]["CONN_MAX_AGE"] = 60
USE_TZ = True
STATIC_URL = "static/"


@csrf_exempt
def bare_insert(request):
    """bench.urls.bare_insert, the same INSERT into the same table."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_bare_insert (payload) VALUES (%s)", [request.body[:200]])
    return HttpResponse(status=204)


def healthz(request):
    return HttpResponse("ok")


urlpatterns = [path("bench/insert/", bare_insert), path("healthz", healthz)]
