"""Signed tokens in the links the requester receives.

They carry the request's id, signed with the project's secret and a salt per purpose, so a
token made for one link cannot open another, and an altered one fails. Verification and
download links expire; the status link lasts as long as the request.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core import signing


class TokenError(Exception):
    """The token is malformed, altered, or expired (the message says which, plainly)."""


@dataclass(frozen=True)
class TokenKind:
    salt: str
    max_age: datetime.timedelta | None


def _verify_age() -> datetime.timedelta:
    return datetime.timedelta(days=settings.REQUEST_VERIFY_DAYS)


def _download_age() -> datetime.timedelta:
    return datetime.timedelta(days=settings.EXPORT_LINK_DAYS)


VERIFY = "requests.verify"
STATUS = "requests.status"
DOWNLOAD = "requests.download"
MAX_AGES = {VERIFY: _verify_age, STATUS: lambda: None, DOWNLOAD: _download_age}


def token_make(kind: str, request_id: int, **extra) -> str:
    return signing.dumps({"r": request_id, **extra}, salt=kind)


def token_read(kind: str, token: str) -> dict:
    """The token's payload; TokenError when it is not valid for `kind` (or too old)."""
    if len(token) > 512:
        raise TokenError("This link is not valid.")
    try:
        payload = signing.loads(token, salt=kind, max_age=MAX_AGES[kind]())
    except signing.SignatureExpired:
        raise TokenError("This link has expired.") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise TokenError("This link is not valid.") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("r"), int):
        raise TokenError("This link is not valid.")
    return payload
