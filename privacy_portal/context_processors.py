"""Template context every page needs: company, DPO address, links to the portal's parts."""

from functools import cache

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

# Parts of the portal provided by the apps. A link appears as soon as its app serves the
# URL, so no page ever links to a 404 while the portal is being assembled.
SITE_LINKS = {
    "cookies_url": "consent:cookies",
    "register_url": "registration:register",
    "preferences_url": "preferences:request",
    "request_new_url": "requests_app:request-new",
    "contact_url": "requests_app:contact",
}


@cache
def _site_links(urlconf: str) -> dict[str, str]:
    links = {}
    for key, name in SITE_LINKS.items():
        try:
            links[key] = reverse(name, urlconf=urlconf)
        except NoReverseMatch:
            links[key] = ""
    return links


def portal(request: HttpRequest) -> dict[str, str]:
    return {
        "company_name": settings.PORTAL_COMPANY_NAME,
        "dpo_email": settings.DPO_EMAIL,
        **_site_links(getattr(request, "urlconf", None) or settings.ROOT_URLCONF),
    }
