"""Registration and parental consent (needs requests_app's register of processing)."""

from django.urls import path

from . import registration_views as views

app_name = "registration"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/sent/", views.register_sent, name="sent"),
    path("register/parent/", views.register_parent, name="parent"),
    path("register/parent/sent/", views.register_parent_sent, name="parent-sent"),
    path("register/confirm/<str:token>/", views.register_confirm, name="confirm"),
    path("register/own-consent/<str:token>/", views.own_consent, name="own-consent"),
    path("parental-consent/manage/<str:token>/", views.parental_manage, name="parental-manage"),
    path("parental-consent/<str:token>/", views.parental_consent, name="parental-consent"),
]
