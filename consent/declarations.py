"""The categories every installation has, and the cookies the portal itself sets.

Used by data migrations (with historical models) and by the demo loader, so a fresh
installation declares every cookie it can set, in English and German, before any visitor
arrives. The `_de` texts are the German twins (see translated.py).
"""

from .translated import fields_of, seeded_texts_clear, seeded_texts_fill

# The provider of the cookies the site sets itself: not a third party (consent receipts).
FIRST_PARTY = "This website"

CATEGORIES = [
    {
        "slug": "necessary",
        "name": "Strictly necessary",
        "description": (
            "Run the site and remember your choices. Always on, never used to track you."
        ),
        "name_de": "Unbedingt erforderlich",
        "description_de": (
            "Damit die Website funktioniert und sich Ihre Auswahl merkt. Immer aktiv, "
            "niemals zur Verfolgung Ihres Verhaltens genutzt."
        ),
        "is_necessary": True,
        "order": 0,
    },
    {
        "slug": "preferences",
        "name": "Preferences",
        "description": "Remember settings you choose, such as your language.",
        "name_de": "Präferenzen",
        "description_de": "Merken sich Einstellungen, die Sie wählen, etwa Ihre Sprache.",
        "is_necessary": False,
        "order": 1,
    },
    {
        "slug": "analytics",
        "name": "Analytics",
        "description": (
            "Google Analytics counts visits so we can improve the site. "
            "Data goes to Google, possibly in the USA."
        ),
        "name_de": "Statistik",
        "description_de": (
            "Google Analytics zählt Besuche, damit wir die Website verbessern können. "
            "Die Daten gehen an Google, möglicherweise in die USA."
        ),
        "is_necessary": False,
        "order": 2,
    },
    {
        "slug": "marketing",
        "name": "Marketing",
        "description": "Personalise and measure ads, and share data with ad partners.",
        "name_de": "Marketing",
        "description_de": (
            "Werbung personalisieren und messen sowie Daten mit Werbepartnern teilen."
        ),
        "is_necessary": False,
        "order": 3,
    },
]

COOKIES = [
    {
        "name": "portal_consent",
        "provider": FIRST_PARTY,
        "provider_de": "Diese Website",
        "purpose": "Remembers your cookie choices (signed, so it cannot be forged).",
        "duration": "1 year",
        "purpose_de": (
            "Speichert Ihre Cookie-Auswahl (signiert, damit sie nicht gefälscht werden kann)."
        ),
        "duration_de": "1 Jahr",
        "category": "necessary",
    },
    {
        "name": "csrftoken",
        "provider": FIRST_PARTY,
        "provider_de": "Diese Website",
        "purpose": "Protects the site's forms against cross-site request forgery.",
        "duration": "1 year",
        "purpose_de": (
            "Schützt die Formulare der Website vor Cross-Site-Request-Forgery "
            "(untergeschobenen Anfragen)."
        ),
        "duration_de": "1 Jahr",
        "category": "necessary",
    },
    {
        "name": "sessionid",
        "provider": FIRST_PARTY,
        "provider_de": "Diese Website",
        "purpose": (
            "Keeps staff signed in, and remembers a registration in progress between its steps."
        ),
        "duration": "2 weeks",
        "purpose_de": (
            "Hält Mitarbeitende angemeldet und merkt sich eine laufende Registrierung "
            "zwischen ihren Schritten."
        ),
        "duration_de": "2 Wochen",
        "category": "necessary",
    },
    {
        "name": "django_language",
        "provider": FIRST_PARTY,
        "provider_de": "Diese Website",
        "purpose": (
            "Remembers the language you picked with the language switcher, for this visit "
            "only. Set only when you switch."
        ),
        "duration": "Until the browser is closed",
        "purpose_de": (
            "Merkt sich die Sprache, die Sie mit der Sprachauswahl gewählt haben, nur für "
            "diesen Besuch. Wird nur beim Wechseln gesetzt."
        ),
        "duration_de": "Bis der Browser geschlossen wird",
        "category": "necessary",
    },
    {
        "name": "_ga",
        "provider": "Google Analytics (Google)",
        "purpose": "Distinguishes visitors so that visits can be counted.",
        "duration": "2 years",
        "purpose_de": "Unterscheidet Besucher, damit Besuche gezählt werden können.",
        "duration_de": "2 Jahre",
        "category": "analytics",
    },
    {
        "name": "_ga_*",
        "provider": "Google Analytics (Google)",
        "purpose": "Keeps the state of a visit for our Google Analytics property (_ga_<id>).",
        "duration": "2 years",
        "purpose_de": (
            "Speichert den Stand eines Besuchs für unsere Google-Analytics-Property (_ga_<id>)."
        ),
        "duration_de": "2 Jahre",
        "category": "analytics",
    },
]


def declarations_seed(category_model, cookie_model) -> int:
    """Create the categories and cookies that are missing; return how many were added."""
    added = 0
    categories = {}
    for data in CATEGORIES:
        category, created = category_model.objects.get_or_create(
            slug=data["slug"], defaults=fields_of(category_model, data)
        )
        categories[category.slug] = category
        added += created
    for data in COOKIES:
        _, created = cookie_model.objects.get_or_create(
            name=data["name"],
            provider=data["provider"],
            defaults=fields_of(
                cookie_model,
                {**data, "category": categories[data["category"]]},
            ),
        )
        added += created
    return added


def declarations_translate(category_model, cookie_model, *, language: str) -> int:
    """Fill the `language` texts of the seeded declarations that still read as seeded (see
    translated.seeded_texts_fill). Returns how many rows were changed."""
    return seeded_texts_fill(
        category_model, CATEGORIES, match=["slug", "name", "description"], language=language
    ) + seeded_texts_fill(
        cookie_model, COOKIES, match=["name", "provider", "purpose"], language=language
    )


def declarations_untranslate(category_model, cookie_model, *, language: str) -> None:
    """Reverse of declarations_translate."""
    seeded_texts_clear(category_model, CATEGORIES, key=["slug"], language=language)
    seeded_texts_clear(cookie_model, COOKIES, key=["name", "provider"], language=language)
