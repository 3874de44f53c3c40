"""The consent app's settings, with defaults, so the app can be dropped into any project.

Each value is read from Django settings under the same name when present.
"""

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class _Defaults:
    CONSENT_COOKIE_NAME: str = "portal_consent"
    # How long a decision lasts before the visitor is asked again.
    CONSENT_MAX_AGE_DAYS: int = 365
    # A refusal is asked again sooner (SPEC: 180 days).
    CONSENT_REFUSAL_REASK_DAYS: int = 180
    # The same decision clicked again within this window adds no log row.
    CONSENT_DEDUP_HOURS: int = 24
    # Sealing leaves out records younger than this, so writes still in flight are
    # never mistaken for insertions after sealing.
    CONSENT_SEAL_DELAY_SECONDS: int = 60
    # Largest body /consent/ reads; anything bigger is refused with 413.
    CONSENT_MAX_BODY_BYTES: int = 4096
    # The receipt's jurisdiction field (Kantara / ISO/IEC TS 27560).
    CONSENT_JURISDICTION: str = "EU"
    # A callable `(language) -> consent.policy.PolicyInfo | None` giving the privacy policy
    # in force; None when the project has no versioned policy.
    CONSENT_POLICY_PROVIDER: str | None = None
    # A decision's record is kept while the decision can apply (CONSENT_MAX_AGE_DAYS) and
    # this many years longer as proof; then its sealed batch is purged (purge_expired).
    CONSENT_PROOF_YEARS: int = 3
    # Number of reverse proxies in front of the app that append to X-Forwarded-For.
    CONSENT_TRUSTED_PROXIES: int = 0


_DEFAULTS = _Defaults()


def get(name: str):
    return getattr(settings, name, getattr(_DEFAULTS, name))


def cookie_secure() -> bool:
    """Secure whenever the project's session cookie is (production), unless set explicitly."""
    return getattr(settings, "CONSENT_COOKIE_SECURE", settings.SESSION_COOKIE_SECURE)


def ga_measurement_id() -> str:
    return getattr(settings, "GA_MEASUREMENT_ID", "") or ""
