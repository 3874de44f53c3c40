"""Keyed hashes of e-mail addresses.

Where the portal must still recognise a person after erasing them (an erased requester, a
suppressed address), it keeps an HMAC of the normalised address instead of the address:
the same input always gives the same hash, and without the key nobody can test guesses.
"""

import hashlib
import hmac

from django.conf import settings


def email_normalise(email: str) -> str:
    return email.strip().lower()


def email_hash(email: str) -> str:
    key = settings.PERSONAL_DATA_HASH_KEY.encode()
    return hmac.new(key, email_normalise(email).encode(), hashlib.sha256).hexdigest()
