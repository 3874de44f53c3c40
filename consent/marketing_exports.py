"""The marketing lists as CSV rows: the suppression list and the audience of a purpose.

Both come from consent.preferences, so an export can never disagree with
`marketing_allowed`: the audience is exactly who that service lets us contact.
"""

from collections.abc import Iterator

from .preferences import (
    marketing_audience,
    marketing_suppression,
    refused_purposes,
    unsubscribe_url,
)

SUPPRESSION_HEADER = ["email", "email_hash", "refused_purposes", "erased"]
AUDIENCE_HEADER = ["email", "name", "language", "unsubscribe_url"]


def suppression_rows() -> Iterator[list[str]]:
    """Every address that refused a purpose; erased people appear as their keyed hash only."""
    for preference in marketing_suppression().order_by("email_hash"):
        yield [
            preference.email,
            preference.email_hash,
            ";".join(refused_purposes(preference)),
            "yes" if preference.erased_at else "no",
        ]


def audience_rows(purpose: str) -> Iterator[list[str]]:
    """Everyone who may be contacted for `purpose`, with their one-click unsubscribe URL."""
    for preference in marketing_audience(purpose).order_by("email"):
        url = unsubscribe_url(preference, purpose)
        yield [preference.email, preference.name, preference.language, url]
