"""Signed links: tokens in the URLs the portal mails to people.

A token carries a small payload signed with the project's secret and a salt per kind of
link, so a token made for one link cannot open another, an altered one fails, and an old
one expires. Errors say plainly whether a link is invalid or expired.
"""

import datetime
import zlib

from django.core import signing
from django.utils.translation import gettext_lazy as _

MAX_TOKEN_LENGTH = 512


class LinkError(Exception):
    def __init__(self, message, *, expired: bool = False):
        super().__init__(message)
        self.expired = expired


def link_token(salt: str, **payload) -> str:
    return signing.dumps(payload, salt=salt)


def link_payload(salt: str, token: str, *, max_age: datetime.timedelta | None) -> dict:
    """The payload of a valid token; LinkError otherwise."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise LinkError(_("This link is not valid."))
    try:
        payload = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkError(_("This link has expired."), expired=True) from None
    # A correctly signed token can still be unreadable (bad zlib data, JSON nested deeper
    # than the parser's stack): invalid, never an error.
    except (signing.BadSignature, ValueError, TypeError, RecursionError, zlib.error):
        raise LinkError(_("This link is not valid.")) from None
    if not isinstance(payload, dict):
        raise LinkError(_("This link is not valid."))
    return payload
