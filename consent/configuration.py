"""The cookie configuration a visitor decides on: categories, cookies, policy in force.

Every page needs it (the banner), so it is built once and cached briefly. Its revision and
the per-category fingerprints are hashes of the declarations themselves, so any change the
DPO makes to a category or its cookies is noticed without anyone remembering to bump a
number; the visitor is then asked again about exactly the categories that changed.
"""

import hashlib
import json
import time
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.core.cache import cache

from .models import CookieCategory
from .policy import PolicyInfo, policy_info

CACHE_SECONDS = 60
# Each process also keeps the configuration for a few seconds, saving the shared cache's
# round trip and unpickling on every page and decision.
LOCAL_SECONDS = 5
_local: dict[str, tuple[float, "Configuration"]] = {}


@dataclass(frozen=True)
class CookieInfo:
    name: str
    provider: str
    purpose: str
    duration: str


@dataclass(frozen=True)
class CategoryInfo:
    slug: str
    name: str
    description: str
    is_necessary: bool
    cookies: tuple[CookieInfo, ...]

    @cached_property
    def fingerprint(self) -> str:
        material = json.dumps(
            [self.slug, self.name, self.description, self.is_necessary, self.cookies],
            default=lambda cookie: list(cookie.__dict__.values()),
            ensure_ascii=False,
        )
        return hashlib.sha256(material.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Configuration:
    categories: tuple[CategoryInfo, ...]
    policy: PolicyInfo | None

    @cached_property
    def optional(self) -> tuple[CategoryInfo, ...]:
        return tuple(c for c in self.categories if not c.is_necessary)

    @cached_property
    def slugs(self) -> frozenset[str]:
        return frozenset(c.slug for c in self.categories)

    @cached_property
    def optional_slugs(self) -> frozenset[str]:
        return frozenset(c.slug for c in self.optional)

    @cached_property
    def fingerprints(self) -> dict[str, str]:
        return {c.slug: c.fingerprint for c in self.categories}

    @cached_property
    def revision(self) -> str:
        material = ",".join(f"{slug}:{fp}" for slug, fp in sorted(self.fingerprints.items()))
        return hashlib.sha256(material.encode()).hexdigest()[:12]


def configuration_build(language: str) -> Configuration:
    categories = tuple(
        CategoryInfo(
            slug=category.slug,
            name=category.name,
            description=category.description,
            is_necessary=category.is_necessary,
            cookies=tuple(
                CookieInfo(c.name, c.provider, c.purpose, c.duration)
                for c in category.cookies.all()
            ),
        )
        for category in CookieCategory.objects.prefetch_related("cookies")
    )
    return Configuration(categories=categories, policy=policy_info(language))


def _cache_key(language: str) -> str:
    return f"consent:configuration:{language}"


def configuration_current(language: str) -> Configuration:
    """The configuration for `language`, from the caches when it is there."""
    now = time.monotonic()
    local = _local.get(language)
    if local is not None and local[0] > now:
        return local[1]
    key = _cache_key(language)
    configuration = cache.get(key)
    if configuration is None:
        configuration = configuration_build(language)
        cache.set(key, configuration, CACHE_SECONDS)
    _local[language] = (now + LOCAL_SECONDS, configuration)
    return configuration


def configuration_invalidate() -> None:
    """Forget the cached configuration (after the DPO changed the declarations). Other
    processes notice within LOCAL_SECONDS when the cache is shared (CACHE_URL), else within
    CACHE_SECONDS."""
    _local.clear()
    cache.delete_many([_cache_key(code) for code, _name in settings.LANGUAGES])
