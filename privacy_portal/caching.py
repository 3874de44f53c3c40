"""The rendered HTML of published policy bodies, kept in the cache.

A published body never changes, so its rendering (Markdown, placeholders, sanitising) is
kept under the body's fingerprint, plus everything else that shapes it: the release, the
company and DPO the placeholders name, and the language. Pages around it are shared or
private (privacy_portal.shared_pages); this saves their renderings the policy's own cost.
"""

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import get_language

from .rendering import RenderedPolicy, render_policy

RENDER_CACHE_SECONDS = 24 * 60 * 60


def _rendered_policy_key(body_sha256: str) -> str:
    material = [
        settings.PORTAL_RELEASE,
        settings.PORTAL_COMPANY_NAME,
        settings.DPO_EMAIL,
        get_language() or "",
        body_sha256,
    ]
    return "policy-html:" + hashlib.sha256("\x1f".join(material).encode()).hexdigest()[:32]


def rendered_policy(*, body_sha256: str, load_body: Callable[[], str]) -> RenderedPolicy:
    """The rendered HTML of a published body, cached by the body's fingerprint."""
    key = _rendered_policy_key(body_sha256)
    rendered = cache.get(key)
    if rendered is None:
        rendered = render_policy(load_body())
        cache.set(key, rendered, RENDER_CACHE_SECONDS)
    return rendered
