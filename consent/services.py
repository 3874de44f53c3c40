"""Writes of the consent app: recording a decision."""

import datetime
import uuid
from dataclasses import dataclass

from django.utils import timezone

from privacy_portal.hashing import email_normalise
from privacy_portal.local_cache import LocalCache

from . import conf
from .banner import Banner
from .cookies import ConsentState, consent_cookie_read
from .models import BannerText, ConsentRecord, ConsentSubject
from .selectors import GPC_LOCKED, consent_latest_record

Action = ConsentRecord.Action


@dataclass(frozen=True)
class Decision:
    state: ConsentState
    record: ConsentRecord
    created: bool


def consent_states_decide(
    *,
    action: str,
    requested: frozenset[str],
    scope: frozenset[str],
    previous: dict[str, bool],
    necessary: frozenset[str],
    gpc: bool,
) -> dict[str, bool]:
    """The state of every decided category after `action`.

    Only the categories in `scope` (those the visitor was asked about) change; the rest
    keep their earlier decision. Necessary categories are always on, and under Global
    Privacy Control the GPC-locked categories stay off whatever was clicked.
    """
    states = dict(previous)
    for slug in scope:
        if action == Action.ACCEPT_ALL:
            states[slug] = True
        elif action in (Action.REJECT_ALL, Action.WITHDRAW):
            states[slug] = False
        elif action == Action.CUSTOM:
            states[slug] = slug in requested
    states.update(dict.fromkeys(necessary, True))
    if gpc or action == Action.GPC:
        states.update(dict.fromkeys(GPC_LOCKED, False))
    return dict(sorted(states.items()))


# Banner texts this process knows are stored. A text is never deleted (records refer to it
# by hash), so the hour only bounds how long a test's or an operator's removal goes unseen.
_texts_stored = LocalCache(seconds=60 * 60, size=1024)


def _banner_text_keep(banner: Banner) -> None:
    """Store the banner's text once per hash (the log row refers to it by hash); a
    decision on a text this process has stored before costs no query for it."""
    if _texts_stored.get(banner.sha256):
        return
    BannerText.objects.get_or_create(
        sha256=banner.sha256, defaults={"language": banner.language, "text": banner.text}
    )
    _texts_stored.set(banner.sha256, True)


def _identical(record: ConsentRecord, states: dict, banner: Banner, action: str, gpc: bool) -> bool:
    """The same decision on the same configuration and policy. The banner's wording may
    differ (the reopened settings read "Your cookie settings"): the earlier row already
    proves this decision and what was shown when it was made."""
    policy = banner.configuration.policy
    return (
        record.states == states
        and record.action == action
        and record.config_revision == banner.configuration.revision
        and record.policy_version == (policy.number if policy else None)
        and record.gpc == gpc
    )


def consent_record(
    *,
    banner: Banner,
    action: str,
    requested: frozenset[str] = frozenset(),
    ip_prefix: str = "",
    user_agent: str = "",
    now: datetime.datetime | None = None,
) -> Decision:
    """Record a visitor's decision on what `banner` showed them and return the new state.

    The visitor keeps their consent id across decisions. Clicking the same decision again
    within CONSENT_DEDUP_HOURS adds no row: the log stays proof, not noise.

    No transaction: the record is one INSERT, atomic by itself, and this is the portal's
    hottest write (a transaction would add two round trips). The banner text stored just
    before it is kept on its own merit, whatever happens to the insert.
    """
    now = now or timezone.now()
    configuration, previous = banner.configuration, banner.state
    if action in (Action.WITHDRAW, Action.GPC):
        scope = configuration.optional_slugs
    else:
        scope = frozenset(c.slug for c in banner.categories if not c.is_necessary)
    if action == Action.GPC:
        scope = frozenset()
    necessary = configuration.slugs - configuration.optional_slugs
    states = consent_states_decide(
        action=action,
        requested=requested,
        scope=scope,
        previous=previous.states if previous else {},
        necessary=necessary,
        gpc=banner.gpc,
    )
    consent_id = previous.consent_id if previous else uuid.uuid4()
    policy = configuration.policy
    gpc = banner.gpc or action == Action.GPC

    latest = consent_latest_record(consent_id=consent_id) if previous else None
    window = datetime.timedelta(hours=conf.get("CONSENT_DEDUP_HOURS"))
    if (
        latest
        and _identical(latest, states, banner, action, gpc)
        and (now - latest.created_at < window)
    ):
        record, created = latest, False
    else:
        _banner_text_keep(banner)
        record = ConsentRecord(
            consent_id=consent_id,
            created_at=now,
            action=action,
            states=states,
            config_revision=configuration.revision,
            policy_version=policy.number if policy else None,
            policy_language=policy.language if policy else "",
            banner_sha256=banner.sha256,
            language=banner.language,
            ip_prefix=ip_prefix,
            user_agent=user_agent,
            gpc=gpc,
        )
        # Field validation in Python (24 µs); uniqueness (a fresh receipt id) is left to the
        # database's own constraint, which checking here would cost a query (STYLE.md).
        record.full_clean(validate_unique=False, validate_constraints=False)
        record.save(force_insert=True)
        created = True
        if gpc:
            # Someone we can identify sends GPC: no sharing of their details either.
            from .preferences import marketing_gpc_apply

            marketing_gpc_apply(consent_id=consent_id)

    fingerprints = configuration.fingerprints
    state = ConsentState(
        consent_id=consent_id,
        states=states,
        fingerprints={slug: fingerprints[slug] for slug in states if slug in fingerprints},
        revision=configuration.revision,
        policy_version=policy.number if policy else None,
        decided_at=record.created_at,
        gpc=record.gpc,
    )
    return Decision(state=state, record=record, created=created)


def consent_subject_link(*, request, email: str, source: str) -> ConsentSubject | None:
    """Remember that the visitor behind this browser's consent id gave `email` (in a form
    they submitted), so their consent records belong to their access export and erasure."""
    state = consent_cookie_read(request)
    if state is None:
        return None
    link, _created = ConsentSubject.objects.get_or_create(
        consent_id=state.consent_id, email=email_normalise(email), defaults={"source": source}
    )
    return link
