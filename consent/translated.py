"""Database texts in the visitor's language.

Declarations and purposes are written by the DPO in the admin, so they cannot come from
the gettext catalogues: each text visitors read has a twin per extra language
(`description_de` beside `description`, the site's default language). An empty twin shows
the default text, so a new declaration is never blank for anyone.
"""

from django.conf import settings
from django.db import models


def language_code(language: str) -> str:
    """The language part of a language code: de for de, de-at and de-AT."""
    return language.split("-")[0].lower()


def default_language() -> str:
    return language_code(settings.LANGUAGE_CODE)


def site_languages() -> list[str]:
    """The site's languages, the default one first."""
    codes = [language_code(code) for code, _name in settings.LANGUAGES]
    return list(dict.fromkeys([default_language(), *codes]))


def translated(instance: models.Model, field: str, *, language: str) -> str:
    """`field` of `instance` in `language`, or in the default language when there is no
    translation (no twin field, or an empty one)."""
    code = language_code(language or settings.LANGUAGE_CODE)
    if code != default_language():
        text = getattr(instance, f"{field}_{code}", "")
        if text:
            return text
    return getattr(instance, field)


def seeded_texts_fill(model, rows: list[dict], *, match: list[str], language: str) -> int:
    """For data migrations: give the rows of `model` that still read as seeded in `rows`
    (the same values in the `match` fields) the `language` texts of `rows` they lack. A
    text the DPO rewrote keeps its own wording: a translation of the old one would tell
    visitors something else. Returns how many rows were changed."""
    suffix = f"_{language}"
    changed = 0
    for data in rows:
        instance = model.objects.filter(**{k: data[k] for k in match}).first()
        if instance is None:
            continue
        missing = {
            k: v for k, v in data.items() if k.endswith(suffix) and not getattr(instance, k, "")
        }
        if missing:
            for name, value in missing.items():
                setattr(instance, name, value)
            instance.save(update_fields=list(missing))
            changed += 1
    return changed


def seeded_texts_clear(model, rows: list[dict], *, key: list[str], language: str) -> None:
    """Reverse of seeded_texts_fill: empty the `language` texts still as it filled them."""
    suffix = f"_{language}"
    for data in rows:
        texts = {k: v for k, v in data.items() if k.endswith(suffix)}
        if texts:
            model.objects.filter(**{k: data[k] for k in key}, **texts).update(
                **dict.fromkeys(texts, "")
            )


def fields_of(model, data: dict) -> dict:
    """The items of `data` that `model` has fields for, for seeding: a migration's
    historical model may predate the translations."""
    names = {f.name for f in model._meta.get_fields()}
    return {k: v for k, v in data.items() if k in names}
