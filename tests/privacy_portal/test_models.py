import datetime

import pytest
from django.db import IntegrityError, transaction

from privacy_portal.models import PolicyVersion, PublishedPolicyVersionError
from privacy_portal.services import policy_draft_create, policy_publish

pytestmark = pytest.mark.django_db


def test_published_version_cannot_be_saved_with_changes(demo_policy):
    version = PolicyVersion.objects.get(number=1)
    original = version.body
    version.body = "Rewritten history."

    with pytest.raises(PublishedPolicyVersionError):
        version.save()

    assert PolicyVersion.objects.get(number=1).body == original


def test_published_version_cannot_be_updated_through_a_queryset(demo_policy):
    with pytest.raises(PublishedPolicyVersionError):
        PolicyVersion.objects.filter(number=1).update(body="Rewritten history.")

    assert "Rewritten" not in PolicyVersion.objects.get(number=1).body


def test_published_version_cannot_be_deleted(demo_policy):
    version = PolicyVersion.objects.get(number=1)

    with pytest.raises(PublishedPolicyVersionError):
        version.delete()
    with pytest.raises(PublishedPolicyVersionError):
        PolicyVersion.objects.all().delete()

    assert PolicyVersion.objects.published().count() == 2


def test_draft_can_be_edited_and_deleted(demo_policy):
    draft = policy_draft_create(language="en", body="## Draft")
    draft.body = "## Better draft"
    draft.save()
    PolicyVersion.objects.filter(pk=draft.pk).update(summary_of_changes="Edited")

    draft.delete()

    assert not PolicyVersion.objects.filter(number=3).exists()


def test_version_numbers_are_unique_per_language(demo_policy):
    with transaction.atomic(), pytest.raises(IntegrityError):
        PolicyVersion.objects.create(number=2, language="en", body="Duplicate")
    PolicyVersion.objects.create(number=2, language="de", body="Deutsch")


def test_database_refuses_a_published_row_without_effective_date(db):
    with transaction.atomic(), pytest.raises(IntegrityError):
        PolicyVersion.objects.create(
            number=1, language="en", body="x", status=PolicyVersion.Status.PUBLISHED
        )


def test_publishing_freezes_the_text_with_its_fingerprint(db):
    draft = policy_draft_create(
        language="en", body="## Personal data\n\nText.", effective_date=datetime.date(2026, 1, 1)
    )

    version = policy_publish(version=draft)

    assert version.is_published
    assert version.published_at is not None
    assert len(version.body_sha256) == 64
    version.body = "Changed"
    with pytest.raises(PublishedPolicyVersionError):
        version.save()
