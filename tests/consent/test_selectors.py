import datetime
import uuid
from dataclasses import replace

import pytest
from django.utils import timezone

from consent.configuration import Configuration
from consent.cookies import ConsentState
from consent.policy import PolicyInfo
from consent.selectors import consent_prompt

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _state(configuration: Configuration, *, days_old: int = 1, policy: int = 2, **states):
    decided = {"necessary": True, **states}
    return ConsentState(
        consent_id=uuid.uuid4(),
        states=decided,
        fingerprints={slug: configuration.fingerprints[slug] for slug in decided},
        revision=configuration.revision,
        policy_version=policy,
        decided_at=NOW - datetime.timedelta(days=days_old),
    )


ALL_DECIDED = {"preferences": True, "analytics": True, "marketing": True}


def test_first_visit_asks_about_every_optional_category(configuration):
    prompt = consent_prompt(state=None, configuration=configuration, now=NOW)

    assert prompt.reason == "new"
    assert prompt.categories == {"preferences", "analytics", "marketing"}


def test_a_fresh_decision_asks_nothing(configuration):
    state = _state(configuration, **ALL_DECIDED)

    assert not consent_prompt(state=state, configuration=configuration, now=NOW).needed


def test_decision_older_than_max_age_asks_everything(configuration, settings):
    settings.CONSENT_MAX_AGE_DAYS = 365
    state = _state(configuration, days_old=366, **ALL_DECIDED)

    prompt = consent_prompt(state=state, configuration=configuration, now=NOW)

    assert prompt.reason == "expired"
    assert prompt.categories == {"preferences", "analytics", "marketing"}
    assert not consent_prompt(
        state=_state(configuration, days_old=364, **ALL_DECIDED),
        configuration=configuration,
        now=NOW,
    ).needed


def test_refusal_is_asked_again_after_the_refusal_period(configuration, settings):
    settings.CONSENT_REFUSAL_REASK_DAYS = 180
    states = {"preferences": True, "analytics": False, "marketing": False}

    young = consent_prompt(
        state=_state(configuration, days_old=179, **states), configuration=configuration, now=NOW
    )
    old = consent_prompt(
        state=_state(configuration, days_old=181, **states), configuration=configuration, now=NOW
    )

    assert not young.needed
    assert old.reason == "refusal"
    assert old.categories == {"analytics", "marketing"}


def test_a_changed_category_is_the_only_one_asked_about(configuration):
    state = _state(configuration, **ALL_DECIDED)
    changed = Configuration(
        categories=tuple(
            replace(c, description="New words") if c.slug == "analytics" else c
            for c in configuration.categories
        ),
        policy=configuration.policy,
    )

    prompt = consent_prompt(state=state, configuration=changed, now=NOW)

    assert changed.revision != configuration.revision
    assert prompt.reason == "changed"
    assert prompt.categories == {"analytics"}


def test_a_policy_version_requiring_reconsent_asks_everything(configuration):
    state = _state(configuration, policy=2, **ALL_DECIDED)  # decided a day ago
    newer = Configuration(
        categories=configuration.categories,
        policy=PolicyInfo(
            number=3,
            language="en",
            url="/privacy/v/3/",
            reconsent_since=NOW - datetime.timedelta(hours=1),
        ),
    )
    older = Configuration(
        categories=configuration.categories,
        policy=PolicyInfo(
            number=3,
            language="de",
            url="/privacy/v/3/",
            reconsent_since=NOW - datetime.timedelta(days=9),
        ),
    )

    assert consent_prompt(state=state, configuration=newer, now=NOW).reason == "policy"
    assert not consent_prompt(state=state, configuration=older, now=NOW).needed


def test_gpc_never_asks_about_marketing(configuration):
    prompt = consent_prompt(state=None, configuration=configuration, gpc=True, now=NOW)

    assert prompt.categories == {"preferences", "analytics"}
