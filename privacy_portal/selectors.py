"""Reads of the versioned policy.

Each public page needs one query: the version rows are fetched without their body, which is
loaded only when the rendered HTML is not cached yet.
"""

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from .local_cache import LocalCache
from .models import PolicyVersion, PolicyVersionQuerySet

if TYPE_CHECKING:
    from consent.policy import PolicyInfo


def _preferring(queryset: PolicyVersionQuerySet, language: str) -> PolicyVersionQuerySet:
    """Restrict to `language` and the default language, the requested one first.

    One query answers "this language if it exists, else the default" for every page.
    """
    languages = {language, settings.LANGUAGE_CODE}
    preference = Case(
        When(language=language, then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    return queryset.filter(language__in=languages).alias(preference=preference)


def policy_in_force(*, language: str, today: datetime.date | None = None) -> PolicyVersion | None:
    """The published version in effect today, in `language` or else the default language."""
    today = today or timezone.localdate()
    published = PolicyVersion.objects.published().filter(effective_date__lte=today)
    return _preferring(published, language).defer("body").order_by("preference", "-number").first()


# The version in force is asked for by every policy page and banner; each process keeps it
# for as long as it keeps the cookie configuration (which carries the same version for the
# banner), so page and banner agree on the version in force.
IN_FORCE_LOCAL_SECONDS = 5
_in_force = LocalCache(seconds=IN_FORCE_LOCAL_SECONDS, size=16)  # by language and date


def policy_in_force_cached(*, language: str) -> PolicyVersion | None:
    """policy_in_force for the public pages, kept in this process for IN_FORCE_LOCAL_SECONDS.

    Publishing a version drops the copies (services.policy_in_force_forget): the publishing
    process shows the new version at once, every other one within IN_FORCE_LOCAL_SECONDS.
    The key has the date, so a version that takes effect at midnight is picked up then.
    """
    today = timezone.localdate()
    return _in_force.get_or_set(
        (language, today), lambda: policy_in_force(language=language, today=today)
    )


def policy_in_force_forget() -> None:
    """Drop this process's copies of the versions in force (after a publication)."""
    _in_force.clear()


def policy_version_get(*, number: int, language: str) -> PolicyVersion | None:
    """A published version by number, in `language` or else the default language."""
    published = PolicyVersion.objects.published().filter(number=number)
    return _preferring(published, language).defer("body").order_by("preference").first()


def policy_version_with_previous(
    *, number: int, language: str
) -> tuple[PolicyVersion | None, PolicyVersion | None]:
    """Version `number` and the published version before it, in one query."""
    published = PolicyVersion.objects.published().filter(number__lte=number)
    candidates = list(
        _preferring(published, language).order_by("preference", "-number")[:2]
        if number > 1
        else _preferring(published, language).order_by("preference")[:1]
    )
    current = next((v for v in candidates if v.number == number), None)
    if current is None:
        return None, None
    previous = next(
        (v for v in candidates if v.number < number and v.language == current.language), None
    )
    return current, previous


def policy_history(*, language: str) -> list[PolicyVersion]:
    """Every published version, newest first, in `language` or else the default language."""
    versions = list(
        _preferring(PolicyVersion.objects.published(), language)
        .defer("body")
        .order_by("preference", "-number")
    )
    chosen = versions[0].language if versions else language
    return [version for version in versions if version.language == chosen]


def policy_latest_published(*, language: str) -> PolicyVersion | None:
    """The highest-numbered published version in `language`, whatever its effective date."""
    return PolicyVersion.objects.published().in_language(language).order_by("-number").first()


def policy_next_number(*, language: str) -> int:
    latest = PolicyVersion.objects.in_language(language).order_by("-number").first()
    return latest.number + 1 if latest else 1


def policy_info_for_consent(language: str) -> "PolicyInfo | None":
    """The policy in force as the consent app needs it (CONSENT_POLICY_PROVIDER)."""
    from consent.policy import PolicyInfo  # the consent app stays free of this project

    version = policy_in_force(language=language)
    if version is None:
        return None
    reconsent = (
        PolicyVersion.objects.published()
        .in_language(version.language)
        .filter(requires_reconsent=True, effective_date__lte=timezone.localdate())
        .order_by("-number")
        .only("effective_date", "published_at")
        .first()
    )
    reconsent_since = None
    if reconsent is not None:
        # In force from the start of its effective date, and never before it was published.
        start = datetime.datetime.combine(reconsent.effective_date, datetime.time.min)
        reconsent_since = max(timezone.make_aware(start), reconsent.published_at)
    return PolicyInfo(
        number=version.number,
        language=version.language,
        url=version.get_absolute_url(),
        reconsent_since=reconsent_since,
    )
