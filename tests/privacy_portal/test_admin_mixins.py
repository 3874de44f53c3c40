"""Django's admin log names no person: records of personal data are logged by kind and id."""

import importlib
import json
from http import HTTPStatus

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from requests_app.models import ContactMessage, ProcessingPurpose

pytestmark = pytest.mark.django_db


def test_a_change_in_the_admin_is_logged_without_the_persons_name(demo_policy, admin_client):
    Client().post(
        "/contact/", {"name": "Ysolde Brackenridge", "email": "ysolde@example.org", "message": "Hi"}
    )
    message = ContactMessage.objects.get()

    response = admin_client.post(
        f"/admin/requests_app/contactmessage/{message.pk}/change/", {"answered": "on"}
    )

    assert response.status_code == HTTPStatus.FOUND
    entry = LogEntry.objects.get(object_id=str(message.pk))
    assert entry.object_repr == f"contact message {message.pk}"
    assert "Ysolde" not in entry.change_message
    assert "ysolde" not in entry.object_repr
    history = admin_client.get(f"/admin/requests_app/contactmessage/{message.pk}/history/")
    assert "Changed Answered." in history.content.decode()


def test_a_staff_account_changed_in_the_admin_is_logged_by_id(admin_client):
    user = User.objects.create_user("ysolde", "ysolde@example.org", "pw", first_name="Ysolde")

    admin_client.post(
        f"/admin/auth/user/{user.pk}/change/",
        {
            "username": "ysolde",
            "first_name": "Ysolde",
            "last_name": "Brackenridge",
            "email": "ysolde@example.org",
            "is_active": "on",
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        },
    )

    entry = LogEntry.objects.get(object_id=str(user.pk))
    assert entry.object_repr == f"user {user.pk}"
    assert "Last name" in json.loads(entry.change_message)[0]["changed"]["fields"]


def test_the_migration_rewrites_what_the_log_already_held(admin_user):
    message = ContactMessage.objects.create(
        name="Ysolde Brackenridge",
        email="ysolde@example.org",
        message="Hi",
        purpose=ProcessingPurpose.objects.get(slug="enquiries"),
    )
    old = LogEntry.objects.create(
        user=admin_user,
        content_type=ContentType.objects.get_for_model(ContactMessage),
        object_id=str(message.pk),
        object_repr=str(message),
        action_flag=CHANGE,
        change_message=json.dumps(
            [{"changed": {"name": "note", "object": "Ysolde's note", "fields": ["Answered"]}}]
        ),
    )
    migration = importlib.import_module(
        "privacy_portal.migrations.0006_admin_log_without_personal_data"
    )

    migration.neutralise(apps, None)

    old.refresh_from_db()
    assert old.object_repr == f"contact message {message.pk}"
    assert json.loads(old.change_message) == [{"changed": {"name": "note", "fields": ["Answered"]}}]
