"""Declare the four cookie categories and the cookies the portal itself can set."""

from django.db import migrations

from consent.declarations import COOKIES, CATEGORIES, declarations_seed


def seed(apps, schema_editor):
    declarations_seed(apps.get_model("consent", "CookieCategory"), apps.get_model("consent", "Cookie"))


def unseed(apps, schema_editor):
    Cookie = apps.get_model("consent", "Cookie")
    CookieCategory = apps.get_model("consent", "CookieCategory")
    for data in COOKIES:
        Cookie.objects.filter(name=data["name"], provider=data["provider"]).delete()
    CookieCategory.objects.filter(
        slug__in=[c["slug"] for c in CATEGORIES], cookies__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("consent", "0001_cookie_declarations_and_log")]

    operations = [migrations.RunPython(seed, unseed)]
