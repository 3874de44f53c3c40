"""Declare the purposes the portal itself processes personal data for."""

from django.db import migrations

from requests_app.register import PURPOSES, register_seed


def seed(apps, schema_editor):
    register_seed(apps.get_model("requests_app", "ProcessingPurpose"))


def unseed(apps, schema_editor):
    apps.get_model("requests_app", "ProcessingPurpose").objects.filter(
        slug__in=[p["slug"] for p in PURPOSES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0001_request_queue")]

    operations = [migrations.RunPython(seed, unseed)]
