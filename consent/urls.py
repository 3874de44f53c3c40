from django.urls import path

from . import views

app_name = "consent"

urlpatterns = [
    path("cookies/", views.cookies, name="cookies"),
    path("consent/", views.decide, name="decide"),
    path("consent/banner/", views.banner, name="banner"),
    path("consent/receipt/", views.receipt, name="receipt"),
]
