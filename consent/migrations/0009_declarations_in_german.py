"""German texts for the seeded cookie categories and cookies (those the DPO has not
rewritten), so German visitors read the banner and the cookie table in German."""

from django.db import migrations

from consent.declarations import declarations_translate, declarations_untranslate


def translate(apps, schema_editor):
    declarations_translate(
        apps.get_model("consent", "CookieCategory"), apps.get_model("consent", "Cookie"), language="de"
    )


def untranslate(apps, schema_editor):
    declarations_untranslate(
        apps.get_model("consent", "CookieCategory"), apps.get_model("consent", "Cookie"), language="de"
    )


class Migration(migrations.Migration):
    dependencies = [("consent", "0008_declarations_german_fields")]

    operations = [migrations.RunPython(translate, untranslate)]
