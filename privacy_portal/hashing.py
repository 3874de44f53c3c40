"""E-mail addresses: one normal form, and keyed hashes of it.

Where the portal must still recognise a person after erasing them (an erased requester, a
suppressed address), it keeps an HMAC of the normalised address instead of the address:
the same input always gives the same hash, and without the key nobody can test guesses.
"""

import hashlib
import hmac
import re
import unicodedata

from django.conf import settings

# RFC 5322 dot-atom: a local part that reads the same with or without quotes around it.
DOT_ATOM = re.compile(r"[-!#$%&'*+/=?^_`{|}~0-9a-z]+(\.[-!#$%&'*+/=?^_`{|}~0-9a-z]+)*")


def email_normalise(email: str) -> str:
    """The one form of an address the portal stores, counts (rate limits) and hashes.

    Every spelling that reaches the same mailbox gives the same form: surrounding spaces
    go, compatibility characters fold (NFKC: `example.org` typed in fullwidth letters is
    the `example.org` a mail client sends to), case folds (as it always has here; in
    practice no provider tells mailboxes apart by case), and quotes that change nothing
    (`"alice"@x` is `alice@x`, RFC 5321 4.1.2) are dropped. Dots and `+tags` are kept:
    whether `a.lice+news@` reaches `alice@` is up to each provider, and they can be
    different people's mailboxes.
    """
    email = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", email).strip().lower())
    local, at, domain = email.rpartition("@")
    if at and len(local) > 2 and local[0] == local[-1] == '"' and DOT_ATOM.fullmatch(local[1:-1]):
        email = f"{local[1:-1]}@{domain}"
    return email


def email_hash(email: str) -> str:
    key = settings.PERSONAL_DATA_HASH_KEY.encode()
    return hmac.new(key, email_normalise(email).encode(), hashlib.sha256).hexdigest()
