import datetime
from http import HTTPStatus

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User

from privacy_portal.models import PolicyVersion
from privacy_portal.roles import roles_sync

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/privacy_portal/policyversion/"


@pytest.fixture
def dpo_client(client, demo_policy):
    dpo = User.objects.create_user("dpo", "dpo@example.com", "pw", is_staff=True)
    dpo.groups.add(roles_sync()["DPO"])
    client.force_login(dpo)
    return client


def _draft_form(**overrides) -> dict:
    return {
        "number": "3",
        "language": "en",
        "effective_date": "2027-01-01",
        "requires_reconsent": "on",
        "summary_of_changes": "Clarified retention.",
        "body": "## Personal data\n\nWe keep request records for three years.",
        **overrides,
    }


def test_dpo_sees_the_versions_in_the_changelist(dpo_client):
    response = dpo_client.get(CHANGELIST)

    assert response.status_code == HTTPStatus.OK
    assert response.content.decode().count('class="field-number"') == 2


def test_add_form_starts_from_the_latest_text_with_the_next_number(dpo_client):
    response = dpo_client.get(CHANGELIST + "add/")

    assert response.status_code == HTTPStatus.OK
    form = response.context["adminform"].form
    assert form.initial["number"] == 3
    assert form.initial["body"] == PolicyVersion.objects.get(number=2).body


def test_dpo_drafts_and_publishes_a_new_version(dpo_client, client):
    response = dpo_client.post(CHANGELIST + "add/", _draft_form())
    assert response.status_code == HTTPStatus.FOUND
    draft = PolicyVersion.objects.get(number=3)
    assert draft.status == PolicyVersion.Status.DRAFT
    assert client.get("/privacy/v/3/").status_code == HTTPStatus.NOT_FOUND

    response = dpo_client.post(
        CHANGELIST, {"action": "publish_selected", "_selected_action": [draft.pk]}, follow=True
    )

    assert "1 version published." in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_published
    assert draft.published_by.username == "dpo"
    assert LogEntry.objects.filter(object_id=str(draft.pk)).count() == 2
    assert client.get("/privacy/v/3/").status_code == HTTPStatus.OK


def test_a_new_version_needs_a_number_above_the_published_ones(dpo_client):
    response = dpo_client.post(CHANGELIST + "add/", _draft_form(number="2"))

    assert response.status_code == HTTPStatus.OK
    assert "already published" in response.content.decode()
    assert PolicyVersion.objects.count() == 2


def test_publishing_a_draft_without_effective_date_reports_why(dpo_client):
    dpo_client.post(CHANGELIST + "add/", _draft_form(effective_date=""))
    draft = PolicyVersion.objects.get(number=3)

    response = dpo_client.post(
        CHANGELIST, {"action": "publish_selected", "_selected_action": [draft.pk]}, follow=True
    )

    assert "Set an effective date before publishing." in response.content.decode()
    draft.refresh_from_db()
    assert not draft.is_published


def test_published_version_is_read_only_in_the_admin(dpo_client):
    version = PolicyVersion.objects.get(number=1)
    url = f"{CHANGELIST}{version.pk}/change/"

    page = dpo_client.get(url)
    assert page.status_code == HTTPStatus.OK
    assert 'name="_save"' not in page.content.decode()
    assert 'name="body"' not in page.content.decode()

    response = dpo_client.post(url, _draft_form(number="1", body="Rewritten history."))

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "Rewritten" not in PolicyVersion.objects.get(pk=version.pk).body


def test_published_version_cannot_be_deleted_in_the_admin(dpo_client):
    version = PolicyVersion.objects.get(number=1)

    response = dpo_client.post(f"{CHANGELIST}{version.pk}/delete/", {"post": "yes"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert PolicyVersion.objects.filter(pk=version.pk).exists()
    changelist = dpo_client.get(CHANGELIST).content.decode()
    assert "delete_selected" not in changelist


def test_draft_can_be_edited_in_the_admin(dpo_client):
    dpo_client.post(CHANGELIST + "add/", _draft_form())
    draft = PolicyVersion.objects.get(number=3)

    response = dpo_client.post(
        f"{CHANGELIST}{draft.pk}/change/", _draft_form(body="## Better\n\nwords")
    )

    assert response.status_code == HTTPStatus.FOUND
    draft.refresh_from_db()
    assert draft.body == "## Better\n\nwords"
    preview = dpo_client.get(f"{CHANGELIST}{draft.pk}/change/").content.decode()
    assert '<h2 id="policy-better">Better</h2>' in preview


def test_new_draft_from_an_existing_version(dpo_client):
    source = PolicyVersion.objects.get(number=2)

    dpo_client.post(CHANGELIST, {"action": "draft_from_selected", "_selected_action": [source.pk]})

    draft = PolicyVersion.objects.get(number=3)
    assert draft.body == source.body
    assert draft.effective_date is None
    assert not draft.is_published


def test_staff_outside_the_dpo_group_cannot_open_the_policy_admin(client, demo_policy):
    staff = User.objects.create_user("clerk", "clerk@example.com", "pw", is_staff=True)
    client.force_login(staff)

    assert client.get(CHANGELIST).status_code == HTTPStatus.FORBIDDEN
    assert client.get(CHANGELIST + "add/").status_code == HTTPStatus.FORBIDDEN


def test_effective_date_is_validated(dpo_client):
    response = dpo_client.post(CHANGELIST + "add/", _draft_form(effective_date="31/02/2027"))

    assert response.status_code == HTTPStatus.OK
    assert "Enter a valid date." in response.content.decode()
    assert not PolicyVersion.objects.filter(number=3).exists()
    assert datetime.date  # the form shows the error, nothing is stored
