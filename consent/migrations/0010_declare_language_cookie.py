"""Declare the language switcher's cookie (django_language, a session cookie set only when
the visitor switches: a setting they asked for, so strictly necessary)."""

from django.db import migrations

from consent.declarations import declarations_seed, declarations_translate


def declare(apps, schema_editor):
    category, cookie = apps.get_model("consent", "CookieCategory"), apps.get_model("consent", "Cookie")
    declarations_seed(category, cookie)
    declarations_translate(category, cookie, language="de")


def undeclare(apps, schema_editor):
    apps.get_model("consent", "Cookie").objects.filter(name="django_language").delete()


class Migration(migrations.Migration):
    dependencies = [("consent", "0009_declarations_in_german")]

    operations = [migrations.RunPython(declare, undeclare)]
