"""What the banner shows a visitor, and the SHA-256 of its text as shown.

The same function renders the banner for a page and recomputes it when the decision
arrives, so the hash in the log is the hash of exactly the words the visitor read (the
language, the categories asked about, the GPC notice included).
"""

import hashlib
import re
import secrets
from dataclasses import dataclass, replace
from functools import cache, cached_property

from django.contrib.staticfiles import finders
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import escape, json_script, strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from . import conf
from .configuration import Configuration, configuration_current
from .cookies import ConsentState, consent_cookie_read
from .selectors import GPC_LOCKED, Prompt, consent_prompt
from .visitor import gpc_signal

SCOPE_PROMPT = "prompt"
SCOPE_ALL = "all"
GA_LOADER = "https://www.googletagmanager.com/gtag/js?id={id}"
# Stand-ins for the per-request parts of a rendered banner (the CSRF token, the return
# address), replaced on each use of the cached rendering. Random per process: no text a
# visitor or the DPO can enter will ever contain them.
TOKEN_HOLE = f"cc{secrets.token_hex(12)}t"
NEXT_HOLE = f"cc{secrets.token_hex(12)}n"


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
        self,
        request: HttpRequest | None,
        *,
        inline: bool = False,
        next_url: str | None = None,
        csrf_token: str | None = None,
    ) -> SafeString:
        """The banner's HTML for `request`. The template is rendered once per distinct
        banner (its text and switches) with stand-ins for the CSRF token and the return
        address, which are filled in here: a page or a decision's answer renders nothing.

        `csrf_token` is the token the surrounding page uses (a template's `csrf_token`);
        by default the request's own."""
        if request is None:
            context = self.context(None, inline=inline, next_url=next_url)
            return render_to_string("consent/_banner.html", context)
        skeleton = self._skeleton(inline)
        token = get_token(request) if csrf_token is None else str(csrf_token)
        next_url = next_url or request.get_full_path()
        return mark_safe(  # noqa: S308 - the skeleton is escaped HTML; both parts are escaped
            skeleton.replace(TOKEN_HOLE, escape(token)).replace(NEXT_HOLE, escape(next_url))
        )

    def _skeleton(self, inline: bool) -> str:
        # Everything the template reads: the text, which switches are on, the language it is
        # translated into, and where the URLs it reverses point.
        key = (
            self.text_key,
            tuple(c.checked for c in self.categories),
            inline,
            get_language(),
            get_urlconf(),
            get_script_prefix(),
        )
        skeleton = _SKELETONS.get(key)
        if skeleton is None:
            if len(_SKELETONS) > 512:
                _SKELETONS.clear()
            context = self.context(None, inline=inline, next_url=NEXT_HOLE)
            context["csrf_token"] = TOKEN_HOLE
            skeleton = _SKELETONS[key] = render_to_string("consent/_banner.html", context)
        return skeleton

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
        # Cached per distinct text, so recording a decision does not render a template.
        key = self.text_key
        if key not in _TEXTS:
            if len(_TEXTS) > 512:
                _TEXTS.clear()
            html = replace(self, state=None).html(None)
            text = re.sub(r"\s+", " ", strip_tags(html)).strip()
            digest = hashlib.sha256(f"{self.language}\n{text}".encode()).hexdigest()
            _TEXTS[key] = (text, digest)
        return _TEXTS[key]


_TEXTS: dict[tuple, tuple[str, str]] = {}
_SKELETONS: dict[tuple, str] = {}


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


@cache
def banner_css() -> str:
    """The banner's stylesheet, inlined into the page: no extra request per page view."""
    path = finders.find("consent/consent.css")
    with open(path, encoding="utf-8") as css:
        return css.read()


def _config_script(config: dict) -> SafeString:
    """The module's configuration: JSON (escaped by Django's json_script) in a script
    element the module finds by a data attribute, never by an id. Policy HTML, shown on the
    same pages, keeps no script element and no data-* attribute, so it cannot forge it."""
    return mark_safe(  # noqa: S308 - json_script's escaped output, one attribute added
        json_script(config).replace("<script ", "<script data-consent-config ", 1)
    )


def banner_assets_html(
    request: HttpRequest,
    *,
    csrf_token: str | None = None,
    nonce: str = "",
    next_url: str | None = None,
) -> SafeString:
    """What `{% consent_banner %}` puts on a page: the banner (shown until a decision
    exists), its styles, its configuration for the module, the module, and the Google
    Analytics loader when — and only when — analytics consent exists."""
    banner = banner_for(request)
    state = banner.state
    config = {
        "state": banner.effective_states,
        "prompt": banner.prompt.needed,
        "gpc": banner.gpc,
        "gpcRecorded": bool(state and state.gpc),
        "ga": ga_config(state),
    }
    return render_to_string(
        "consent/_banner_assets.html",
        {
            "banner_html": banner.html(request, csrf_token=csrf_token, next_url=next_url),
            "consent_config": config,
            "config_script": _config_script(config),
            "css": banner_css(),
            "nonce": nonce,
        },
    )


def banner_page_key(request: HttpRequest) -> str | None:
    """What the banner on a page depends on for a visitor who has not decided yet (the
    same for every such visitor, apart from their CSRF token and the CSP nonce), so pages
    can be rendered once for all of them; None once the visitor sent a decision."""
    if request.COOKIES.get(conf.get("CONSENT_COOKIE_NAME")):
        return None
    language = get_language() or "en"
    configuration = configuration_current(language)
    return f"{configuration.revision}:{language}:{int(gpc_signal(request))}"
