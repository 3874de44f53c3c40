"""Reads of the versioned policy.

Each public page needs one query: the version rows are fetched without their body, which is
loaded only when the rendered HTML is not cached yet.
"""

import datetime
import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

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


IN_FORCE_CACHE_SECONDS = 60
# Each process also keeps the answer for as long as it keeps the cookie configuration (which
# carries the same version for the banner), saving the shared cache's round trip and
# unpickling on every first visit; page and banner agree on the version in force.
IN_FORCE_LOCAL_SECONDS = 5
_NONE = "none"
_local_in_force: dict[str, tuple[float, PolicyVersion | None]] = {}


def _in_force_key(language: str, today: datetime.date) -> str:
    return f"policy:in-force:{language}:{today.isoformat()}"


def policy_in_force_cached(*, language: str) -> PolicyVersion | None:
    """policy_in_force for the public pages, kept in the shared cache for a minute and in
    this process for IN_FORCE_LOCAL_SECONDS.

    Every first visit to a policy page needs it, and asking the database each time held
    those pages to a fraction of a bare page. Publishing a version drops the entries (see
    services.policy_in_force_forget): the publishing process shows the new version at once,
    every other one within IN_FORCE_LOCAL_SECONDS when the cache is shared (Redis), as it
    shows the banner's new configuration; a per-process cache may lag by up to a minute.
    The key has the date, so a version that takes effect at midnight is picked up then.
    """
    today = timezone.localdate()
    key = _in_force_key(language, today)
    now = time.monotonic()
    local = _local_in_force.get(key)
    if local is not None and local[0] > now:
        return local[1]
    cached = cache.get(key)
    if cached is None:
        version = policy_in_force(language=language, today=today)
        cache.set(key, version if version is not None else _NONE, IN_FORCE_CACHE_SECONDS)
    else:
        version = None if cached == _NONE else cached
    if len(_local_in_force) > 16:  # yesterday's keys
        _local_in_force.clear()
    _local_in_force[key] = (now + IN_FORCE_LOCAL_SECONDS, version)
    return version


def policy_in_force_forget() -> None:
    """Drop the cached versions in force (after a publication)."""
    today = timezone.localdate()
    _local_in_force.clear()
    cache.delete_many([_in_force_key(code, today) for code, _name in settings.LANGUAGES])


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
