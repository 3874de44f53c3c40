import datetime

import pytest
from django.core.exceptions import ValidationError

from privacy_portal.models import PolicyVersion
from privacy_portal.services import policy_body_sha256, policy_draft_create, policy_publish

pytestmark = pytest.mark.django_db


def test_new_draft_takes_the_next_number_and_copies_the_text(demo_policy):
    latest = PolicyVersion.objects.get(number=2)

    draft = policy_draft_create(language="en", based_on=latest)

    assert draft.number == 3
    assert draft.body == latest.body
    assert draft.status == PolicyVersion.Status.DRAFT


def test_publish_requires_an_effective_date(demo_policy):
    draft = policy_draft_create(language="en", body="## Text")

    with pytest.raises(ValidationError, match="effective date"):
        policy_publish(version=draft)
    assert PolicyVersion.objects.get(pk=draft.pk).status == PolicyVersion.Status.DRAFT


def test_publish_refuses_an_effective_date_before_the_previous_version(demo_policy):
    draft = policy_draft_create(
        language="en", body="## Text", effective_date=datetime.date(2020, 1, 1)
    )

    with pytest.raises(ValidationError, match="cannot be before"):
        policy_publish(version=draft)


def test_publish_refuses_an_empty_text(demo_policy):
    draft = policy_draft_create(language="en", body="   ", effective_date=datetime.date(2027, 1, 1))

    with pytest.raises(ValidationError, match="empty"):
        policy_publish(version=draft)


def test_publish_twice_is_refused(demo_policy):
    with pytest.raises(ValidationError, match="already published"):
        policy_publish(version=PolicyVersion.objects.get(number=2))


def test_publish_records_who_and_the_text_fingerprint(demo_policy, admin_user):
    draft = policy_draft_create(
        language="en", body="## New\n\nText.", effective_date=datetime.date(2027, 1, 1)
    )

    version = policy_publish(version=draft, by=admin_user)

    assert version.published_by == admin_user
    assert version.body_sha256 == policy_body_sha256("## New\n\nText.")
