"""The signed links a requester receives: verification and download links expire, the
status link lasts as long as the request. Each kind has its own salt."""

import datetime

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from privacy_portal.links import LinkError, link_payload, link_token

TokenError = LinkError

VERIFY = "requests.verify"
STATUS = "requests.status"
DOWNLOAD = "requests.download"


def _max_age(kind: str) -> datetime.timedelta | None:
    if kind == VERIFY:
        return datetime.timedelta(days=settings.REQUEST_VERIFY_DAYS)
    if kind == DOWNLOAD:
        return datetime.timedelta(days=settings.EXPORT_LINK_DAYS)
    return None


def token_make(kind: str, request_id: int, **extra) -> str:
    return link_token(kind, r=request_id, **extra)


def token_read(kind: str, token: str) -> dict:
    """The token's payload; TokenError when it is not valid for `kind` (or too old)."""
    payload = link_payload(kind, token, max_age=_max_age(kind))
    if not isinstance(payload.get("r"), int):
        raise TokenError(_("This link is not valid."))
    return payload
