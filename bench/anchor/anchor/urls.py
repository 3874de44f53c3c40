"""The anchor's URLs: startproject's admin, django-cookie-consent under /cookies/ (its
cookie-group list, accept and decline views), and the two bare reference views."""

from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("cookies/", include("cookie_consent.urls")),
    path("bench/insert/", views.bare_insert),
    path("bench/page/", views.bare_page),
]
