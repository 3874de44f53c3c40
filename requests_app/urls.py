from django.urls import path

from . import views

app_name = "requests_app"

urlpatterns = [
    path("requests/new/", views.request_new, name="request-new"),
    path("requests/new/sent/", views.request_sent, name="request-sent"),
    path("requests/verify/<str:token>/", views.request_verify_view, name="request-verify"),
    path("requests/status/<str:token>/", views.request_status, name="request-status"),
    path("requests/download/<str:token>/", views.request_download, name="request-download"),
    path("contact/", views.contact, name="contact"),
    path("contact/sent/", views.contact_sent, name="contact-sent"),
]
