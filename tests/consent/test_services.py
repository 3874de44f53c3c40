import datetime

import pytest
from django.test import RequestFactory
from django.utils import timezone

from consent.banner import banner_for
from consent.models import ConsentRecord
from consent.services import consent_record, consent_states_decide

pytestmark = pytest.mark.django_db

OPTIONAL = frozenset({"preferences", "analytics", "marketing"})
NECESSARY = frozenset({"necessary"})


@pytest.mark.parametrize(
    ("action", "requested", "expected"),
    [
        ("accept_all", set(), {"preferences": True, "analytics": True, "marketing": True}),
        ("reject_all", set(), {"preferences": False, "analytics": False, "marketing": False}),
        ("custom", {"analytics"}, {"preferences": False, "analytics": True, "marketing": False}),
        ("withdraw", set(), {"preferences": False, "analytics": False, "marketing": False}),
    ],
)
def test_actions_set_the_categories_in_scope(action, requested, expected):
    states = consent_states_decide(
        action=action,
        requested=frozenset(requested),
        scope=OPTIONAL,
        previous={},
        necessary=NECESSARY,
        gpc=False,
    )

    assert states == {"necessary": True, **expected}


def test_categories_outside_the_question_keep_their_earlier_state():
    states = consent_states_decide(
        action="reject_all",
        requested=frozenset(),
        scope=frozenset({"analytics"}),
        previous={"necessary": True, "preferences": True, "analytics": True, "marketing": True},
        necessary=NECESSARY,
        gpc=False,
    )

    assert states == {"necessary": True, "preferences": True, "analytics": False, "marketing": True}


def test_gpc_keeps_marketing_off_even_on_accept_all():
    states = consent_states_decide(
        action="accept_all",
        requested=frozenset(),
        scope=OPTIONAL,
        previous={},
        necessary=NECESSARY,
        gpc=True,
    )

    assert states["marketing"] is False
    assert states["analytics"] is True


def test_the_same_decision_after_the_dedup_window_is_recorded_again(client, demo_policy, settings):
    settings.CONSENT_DEDUP_HOURS = 24
    client.post("/consent/", {"action": "reject_all", "scope": "all"})
    first = ConsentRecord.objects.get()
    request = RequestFactory().get(
        "/", headers={"Cookie": f"portal_consent={client.cookies['portal_consent'].value}"}
    )
    banner = banner_for(request, scope="all")

    within = consent_record(
        banner=banner, action="reject_all", now=first.created_at + datetime.timedelta(hours=23)
    )
    after = consent_record(
        banner=banner, action="reject_all", now=timezone.now() + datetime.timedelta(hours=25)
    )

    assert within.created is False
    assert within.record == first
    assert after.created is True
    assert ConsentRecord.objects.count() == 2


def test_the_log_cannot_be_changed_or_deleted_through_the_orm(client, demo_policy):
    from consent.models import AppendOnlyError

    client.post("/consent/", {"action": "reject_all"})
    record = ConsentRecord.objects.get()

    record.action = "accept_all"
    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        record.delete()
    with pytest.raises(AppendOnlyError):
        ConsentRecord.objects.update(action="accept_all")
    with pytest.raises(AppendOnlyError):
        ConsentRecord.objects.all().delete()
    assert ConsentRecord.objects.get().action == "reject_all"
