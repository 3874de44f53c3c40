"""Declare the purposes of registration and parental consent in the register."""

from django.db import migrations

from requests_app.register import register_seed

SLUGS = ["registration", "parental-consent"]


def seed(apps, schema_editor):
    register_seed(apps.get_model("requests_app", "ProcessingPurpose"))


def unseed(apps, schema_editor):
    apps.get_model("requests_app", "ProcessingPurpose").objects.filter(slug__in=SLUGS).delete()


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0003_staff_roles")]

    operations = [migrations.RunPython(seed, unseed)]
