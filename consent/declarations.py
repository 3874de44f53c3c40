"""The categories every installation has, and the cookies the portal itself sets.

Used by a data migration (with historical models) and by the demo loader, so a fresh
installation declares every cookie it can set before any visitor arrives.
"""

CATEGORIES = [
    {
        "slug": "necessary",
        "name": "Strictly necessary",
        "description": (
            "Run the site and remember your choices. Always on, never used to track you."
        ),
        "is_necessary": True,
        "order": 0,
    },
    {
        "slug": "preferences",
        "name": "Preferences",
        "description": "Remember settings you choose, such as your language.",
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
        "is_necessary": False,
        "order": 2,
    },
    {
        "slug": "marketing",
        "name": "Marketing",
        "description": "Personalise and measure ads, and share data with ad partners.",
        "is_necessary": False,
        "order": 3,
    },
]

COOKIES = [
    {
        "name": "portal_consent",
        "provider": "This website",
        "purpose": "Remembers your cookie choices (signed, so it cannot be forged).",
        "duration": "1 year",
        "category": "necessary",
    },
    {
        "name": "csrftoken",
        "provider": "This website",
        "purpose": "Protects the site's forms against cross-site request forgery.",
        "duration": "1 year",
        "category": "necessary",
    },
    {
        "name": "sessionid",
        "provider": "This website",
        "purpose": (
            "Keeps staff signed in, and remembers a registration in progress between its steps."
        ),
        "duration": "2 weeks",
        "category": "necessary",
    },
    {
        "name": "_ga",
        "provider": "Google Analytics (Google)",
        "purpose": "Distinguishes visitors so that visits can be counted.",
        "duration": "2 years",
        "category": "analytics",
    },
    {
        "name": "_ga_*",
        "provider": "Google Analytics (Google)",
        "purpose": "Keeps the state of a visit for our Google Analytics property (_ga_<id>).",
        "duration": "2 years",
        "category": "analytics",
    },
]


def declarations_seed(category_model, cookie_model) -> int:
    """Create the categories and cookies that are missing; return how many were added."""
    added = 0
    categories = {}
    for data in CATEGORIES:
        category, created = category_model.objects.get_or_create(
            slug=data["slug"], defaults={k: v for k, v in data.items() if k != "slug"}
        )
        categories[category.slug] = category
        added += created
    for data in COOKIES:
        _, created = cookie_model.objects.get_or_create(
            name=data["name"],
            provider=data["provider"],
            defaults={
                "purpose": data["purpose"],
                "duration": data["duration"],
                "category": categories[data["category"]],
            },
        )
        added += created
    return added
