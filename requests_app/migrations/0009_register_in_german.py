"""German texts for the seeded purposes of the register of processing (those the DPO has
not rewritten), shown to German visitors on the forms and in their access exports."""

from django.db import migrations

from requests_app.register import register_translate, register_untranslate


def translate(apps, schema_editor):
    register_translate(apps.get_model("requests_app", "ProcessingPurpose"), language="de")


def untranslate(apps, schema_editor):
    register_untranslate(apps.get_model("requests_app", "ProcessingPurpose"), language="de")


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0008_register_german_fields")]

    operations = [migrations.RunPython(translate, untranslate)]
