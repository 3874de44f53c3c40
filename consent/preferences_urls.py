"""The preference centre and one-click unsubscribe."""

from django.urls import path

from . import preferences_views as views

app_name = "preferences"

urlpatterns = [
    path("preferences/", views.preferences_request, name="request"),
    path("preferences/sent/", views.preferences_sent, name="sent"),
    path("preferences/<str:token>/", views.preference_centre, name="centre"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
