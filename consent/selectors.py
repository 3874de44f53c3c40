"""Reads for the consent app: whether to ask, and what has been recorded."""

import datetime
import uuid
from dataclasses import dataclass
from typing import Literal

from django.utils import timezone

from . import conf
from .configuration import Configuration
from .cookies import ConsentState
from .models import ConsentRecord

PromptReason = Literal["new", "expired", "policy", "changed", "refusal", ""]


@dataclass(frozen=True)
class Prompt:
    """Which categories the banner asks about now, and why (empty: no banner)."""

    categories: frozenset[str]
    reason: PromptReason

    @property
    def needed(self) -> bool:
        return bool(self.categories)


NO_PROMPT = Prompt(frozenset(), "")
# Global Privacy Control means "do not sell or share": these stay off while it is sent.
GPC_LOCKED = frozenset({"marketing"})


def consent_prompt(
    *,
    state: ConsentState | None,
    configuration: Configuration,
    gpc: bool = False,
    now: datetime.datetime | None = None,
) -> Prompt:
    """Ask about everything on a first visit, after `CONSENT_MAX_AGE_DAYS`, or when a policy
    version that requires it took effect; otherwise only about categories whose declaration
    changed (or that were never decided), plus refused ones after `CONSENT_REFUSAL_REASK_DAYS`.
    Under Global Privacy Control the GPC-locked categories are never asked about: they stay off.
    """
    everything = configuration.optional_slugs - (GPC_LOCKED if gpc else frozenset())
    if not everything:
        return NO_PROMPT
    if state is None:
        return Prompt(everything, "new")
    now = now or timezone.now()
    age = now - state.decided_at
    if age > datetime.timedelta(days=conf.get("CONSENT_MAX_AGE_DAYS")):
        return Prompt(everything, "expired")
    policy = configuration.policy
    if policy and policy.reconsent_since and state.decided_at < policy.reconsent_since:
        return Prompt(everything, "policy")
    fingerprints = configuration.fingerprints
    changed = frozenset(
        slug
        for slug in everything
        if slug not in state.states or state.fingerprints.get(slug) != fingerprints[slug]
    )
    if changed:
        redeclared = any(slug in state.states for slug in changed)
        return Prompt(changed, "changed" if redeclared else "new")
    if age > datetime.timedelta(days=conf.get("CONSENT_REFUSAL_REASK_DAYS")):
        refused = frozenset(slug for slug in everything if not state.states.get(slug))
        if refused:
            return Prompt(refused, "refusal")
    return NO_PROMPT


def consent_latest_record(*, consent_id: uuid.UUID) -> ConsentRecord | None:
    return ConsentRecord.objects.for_consent_id(consent_id).order_by("-created_at", "-id").first()
