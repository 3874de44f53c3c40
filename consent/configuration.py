"""The cookie configuration a visitor decides on: categories, cookies, policy in force.

Every page needs it (the banner), so each process builds it once and keeps it for a few
seconds (LOCAL_SECONDS): a change the DPO makes shows at once in the process that made it and
within those seconds in every other one. Its revision and
the per-category fingerprints are hashes of the declarations themselves, so any change the
DPO makes to a category or its cookies is noticed without anyone remembering to bump a
number; the visitor is then asked again about exactly the categories that changed.

The texts are in the visitor's language, but a fingerprint covers every language's text:
it is the same whatever language a visitor reads (switching language asks nothing again)
and changes when what visitors are told changes in any language.
"""

import hashlib
import json
from dataclasses import dataclass, replace
from functools import cached_property

from privacy_portal.local_cache import LocalCache
from privacy_portal.shared_pages import shared_pages_forget

from .declarations import FIRST_PARTY
from .models import CookieCategory
from .policy import PolicyInfo, policy_info
from .translated import default_language, language_code, site_languages, translated

LOCAL_SECONDS = 5
_configurations = LocalCache(seconds=LOCAL_SECONDS, size=16)  # one per language


@dataclass(frozen=True)
class CookieInfo:
    name: str
    provider: str
    purpose: str
    duration: str
    first_party: bool = False


@dataclass(frozen=True)
class CategoryInfo:
    slug: str
    name: str
    description: str
    is_necessary: bool
    cookies: tuple[CookieInfo, ...]
    # The language of these texts, and (JSON) the texts as shown in each other language.
    language: str = ""
    elsewhere: str = "{}"

    def texts(self) -> list:
        return [
            self.name,
            self.description,
            [[c.name, c.provider, c.purpose, c.duration] for c in self.cookies],
        ]

    @cached_property
    def fingerprint(self) -> str:
        by_language = {**json.loads(self.elsewhere), self.language: self.texts()}
        name, description, cookies = by_language.pop(default_language(), self.texts())
        material = [self.slug, name, description, self.is_necessary, cookies]
        # Only languages shown something else count, so a declaration without
        # translations keeps the fingerprint it had before there were any.
        default = [name, description, cookies]
        others = {code: texts for code, texts in sorted(by_language.items()) if texts != default}
        if others:
            material.append(others)
        encoded = json.dumps(material, ensure_ascii=False).encode()
        return hashlib.sha256(encoded).hexdigest()[:8]


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


def _category_info(category: CookieCategory, language: str) -> CategoryInfo:
    return CategoryInfo(
        slug=category.slug,
        name=translated(category, "name", language=language),
        description=translated(category, "description", language=language),
        is_necessary=category.is_necessary,
        cookies=tuple(
            CookieInfo(
                c.name,
                translated(c, "provider", language=language),
                translated(c, "purpose", language=language),
                translated(c, "duration", language=language),
                first_party=c.provider == FIRST_PARTY,
            )
            for c in category.cookies.all()
        ),
        language=language,
    )


def configuration_build(language: str) -> Configuration:
    language = language_code(language)
    categories = []
    for category in CookieCategory.objects.prefetch_related("cookies"):
        elsewhere = {
            code: _category_info(category, code).texts()
            for code in site_languages()
            if code != language
        }
        info = _category_info(category, language)
        categories.append(replace(info, elsewhere=json.dumps(elsewhere, ensure_ascii=False)))
    return Configuration(categories=tuple(categories), policy=policy_info(language))


def configuration_current(language: str) -> Configuration:
    """The configuration for `language`, as this process built it at most LOCAL_SECONDS ago."""
    return _configurations.get_or_set(language, lambda: configuration_build(language))


def configuration_invalidate() -> None:
    """Forget this process's configurations (after the DPO changed the declarations): this
    process shows the change at once, every other one within LOCAL_SECONDS. The pages
    shared between new visitors show the banner, so they go too."""
    _configurations.clear()
    shared_pages_forget()
