"""What the banner shows a visitor, and the SHA-256 of its text as shown.

The same function renders the banner for a page and recomputes it when the decision
arrives, so the hash in the log is the hash of exactly the words the visitor read (the
language, the categories asked about, the GPC notice included).
"""

import hashlib
import re
from dataclasses import dataclass, replace
from functools import cached_property

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import json_script, strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from privacy_portal.local_cache import LocalCache

from . import conf
from .configuration import Configuration, configuration_current
from .cookies import ConsentState, consent_cookie_read
from .selectors import GPC_LOCKED, Prompt, consent_prompt
from .visitor import gpc_signal

SCOPE_PROMPT = "prompt"
SCOPE_ALL = "all"
GA_LOADER = "https://www.googletagmanager.com/gtag/js?id={id}"


@dataclass(frozen=True)
class BannerCategory:
    slug: str
    name: str
    description: str
    is_necessary: bool
    checked: bool
    locked: bool


@dataclass(frozen=True)
class Banner:
    """Everything the banner template needs, for one visitor and one scope."""

    configuration: Configuration
    state: ConsentState | None
    prompt: Prompt
    gpc: bool
    scope: str
    language: str
    has_decision: bool

    @cached_property
    def categories(self) -> list[BannerCategory]:
        asked = (
            self.prompt.categories
            if self.scope == SCOPE_PROMPT
            else frozenset(self.configuration.slugs)
        )
        return [
            BannerCategory(
                slug=c.slug,
                name=c.name,
                description=c.description,
                is_necessary=c.is_necessary,
                checked=c.is_necessary or bool(self.state and self.state.granted(c.slug)),
                locked=c.is_necessary or (self.gpc and c.slug in GPC_LOCKED),
            )
            for c in self.configuration.categories
            if c.is_necessary or c.slug in asked
        ]

    @property
    def effective_states(self) -> dict[str, bool] | None:
        """The decided states as they apply to this page: under Global Privacy Control the
        GPC-locked categories are off, whatever was accepted before the signal."""
        if self.state is None:
            return None
        states = dict(self.state.states)
        if self.gpc:
            states.update(dict.fromkeys(GPC_LOCKED & set(states), False))
        return states

    def granted(self, category: str) -> bool:
        return bool((self.effective_states or {}).get(category))

    @property
    def reason(self) -> str:
        return self.prompt.reason if self.scope == SCOPE_PROMPT else ""

    def context(
        self, request: HttpRequest | None, *, inline: bool = False, next_url: str | None = None
    ) -> dict:
        return {
            "banner": self,
            "categories": self.categories,
            "reason": self.reason,
            "has_decision": self.has_decision,
            "inline": inline,
            "prefix": "cs" if inline else "cc",
            "show": inline or (self.scope == SCOPE_PROMPT and self.prompt.needed),
            "endpoint": reverse("consent:decide"),
            "receipt_url": reverse("consent:receipt"),
            "cookies_url": reverse("consent:cookies"),
            "next": next_url or (request.get_full_path() if request is not None else "/"),
        }

    def html(
        self, request: HttpRequest | None, *, inline: bool = False, next_url: str | None = None
    ) -> SafeString:
        """The banner's HTML. Its form carries no CSRF token (the endpoint checks where a post
        comes from instead, privacy_portal.origin), so the banner is the same for every
        visitor in the same state and a page showing it can be shared."""
        context = self.context(request, inline=inline, next_url=next_url)
        return render_to_string("consent/_banner.html", context)

    @property
    def text_key(self) -> tuple:
        """Everything the visible text depends on. Which switches are on is not text (it is
        an attribute), so the visitor's state itself is not part of it."""
        return (
            self.configuration.revision,
            self.prompt,
            self.gpc,
            self.scope,
            self.language,
            self.has_decision,
        )

    @property
    def text(self) -> str:
        """The visible text, whitespace folded (attributes such as tokens are not text)."""
        return self._text_and_sha256[0]

    @property
    def sha256(self) -> str:
        return self._text_and_sha256[1]

    @property
    def _text_and_sha256(self) -> tuple[str, str]:
        # Kept per distinct text, so recording a decision does not render a template.
        return _texts.get_or_set(self.text_key, self._text_and_sha256_make)

    def _text_and_sha256_make(self) -> tuple[str, str]:
        html = replace(self, state=None).html(None)
        text = re.sub(r"\s+", " ", strip_tags(html)).strip()
        return text, hashlib.sha256(f"{self.language}\n{text}".encode()).hexdigest()


# The text of a banner depends only on its text_key and the templates of this release.
_texts = LocalCache(seconds=24 * 60 * 60, size=512)


def banner_build(
    *,
    configuration: Configuration,
    state: ConsentState | None,
    gpc: bool,
    language: str,
    scope: str | None = None,
) -> Banner:
    """The banner for a visitor in `state`: asking about what needs a decision (scope
    "prompt"), or, when nothing does, offering every category again (scope "all", hidden
    until the visitor reopens it)."""
    prompt = consent_prompt(state=state, configuration=configuration, gpc=gpc)
    if scope is None:
        scope = SCOPE_PROMPT if prompt.needed else SCOPE_ALL
    return Banner(configuration, state, prompt, gpc, scope, language, state is not None)


def banner_for(request: HttpRequest, *, scope: str | None = None) -> Banner:
    language = get_language() or "en"
    return banner_build(
        configuration=configuration_current(language),
        state=consent_cookie_read(request),
        gpc=gpc_signal(request),
        language=language,
        scope=scope,
    )


def ga_config(state: ConsentState | None) -> dict | None:
    """Google Analytics for the browser, only once analytics consent exists."""
    measurement_id = conf.ga_measurement_id()
    if not measurement_id or state is None or not state.granted("analytics"):
        return None
    return {"id": measurement_id, "src": GA_LOADER.format(id=measurement_id)}


def _config_script(config: dict) -> SafeString:
    """The module's configuration: JSON (escaped by Django's json_script) in a script
    element the module finds by a data attribute, never by an id. Policy HTML, shown on the
    same pages, keeps no script element and no data-* attribute, so it cannot forge it."""
    return mark_safe(  # noqa: S308 - json_script's escaped output, one attribute added
        json_script(config).replace("<script ", "<script data-consent-config ", 1)
    )


def banner_assets_html(request: HttpRequest) -> SafeString:
    """What `{% consent_banner %}` puts on a page: the banner's stylesheet, the banner (shown
    until a decision exists), its configuration for the module, the module, and the Google
    Analytics loader when — and only when — analytics consent exists.

    Nothing in it is per visitor but their decision: no CSRF token, no CSP nonce (the style
    and the module are static files the policy `'self'` allows), so every visitor who has not
    decided yet gets the same bytes."""
    banner = banner_for(request)
    state = banner.state
    config = {
        "state": banner.effective_states,
        "prompt": banner.prompt.needed,
        "gpc": banner.gpc,
        "gpcRecorded": bool(state and state.gpc),
        "ga": ga_config(state),
        "banner": reverse("consent:banner"),
    }
    return render_to_string(
        "consent/_banner_assets.html",
        {
            "banner_html": banner.html(request),
            "consent_config": config,
            "config_script": _config_script(config),
        },
    )
