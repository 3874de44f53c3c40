"""The age of digital consent (GDPR Art. 8; COPPA for the United States).

Below it, a child may register only with a parent's or guardian's consent. The table holds
the ages the member states published; DIGITAL_CONSENT_AGES in settings overrides or adds
countries, DIGITAL_CONSENT_AGE_DEFAULT (16, the GDPR default) applies to the rest.
"""

import datetime

from django.conf import settings

DIGITAL_CONSENT_AGES: dict[str, int] = {
    **dict.fromkeys(["BE", "DK", "EE", "FI", "LV", "MT", "PT", "SE", "GB"], 13),
    **dict.fromkeys(["AT", "BG", "CY", "IT", "LT", "ES"], 14),
    **dict.fromkeys(["CZ", "FR", "GR", "SI"], 15),
    **dict.fromkeys(["HR", "DE", "HU", "IE", "LU", "NL", "PL", "RO", "SK"], 16),
    "US": 13,  # COPPA
}


def consent_age(country: str) -> int:
    table = {**DIGITAL_CONSENT_AGES, **getattr(settings, "DIGITAL_CONSENT_AGES", {})}
    return table.get(country.upper(), settings.DIGITAL_CONSENT_AGE_DEFAULT)


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    """Full years on `day`. Someone born on 29 February has their birthday on 1 March in
    other years (the day after 28 February)."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


def needs_parental_consent(birth_date: datetime.date, country: str, day: datetime.date) -> bool:
    return age_on(birth_date, day) < consent_age(country)


def coming_of_age_date(birth_year: int, country: str) -> datetime.date:
    """The first day a child of `birth_year` is certainly of age: only the year is kept
    (data minimisation), so this is 1 January after the year they reach the age."""
    return datetime.date(birth_year + consent_age(country) + 1, 1, 1)
