import json
import zlib
from http import HTTPStatus

import pytest
from django.core import signing

from consent.cookies import SALT
from consent.models import BannerText, ConsentRecord
from tests.consent.conftest import banner_shown, decide, decide_json

pytestmark = pytest.mark.django_db

GA_ID = "G-TEST1234"


@pytest.fixture
def ga(settings):
    settings.GA_MEASUREMENT_ID = GA_ID
    return GA_ID


def test_first_visit_shows_the_banner_and_no_google_tag(client, demo_policy, ga):
    html = client.get("/privacy/").content.decode()

    assert banner_shown(html)
    assert 'role="dialog"' in html
    for label in ["Accept all", "Reject all", "Customise"]:
        assert label in html
    assert "googletagmanager" not in html
    assert GA_ID not in html


def test_accept_all_by_form_records_and_redirects_back(client, demo_policy, ga, configuration):
    client.get("/privacy/")
    response = decide(client, action="accept_all", revision=configuration.revision)

    assert response.status_code == HTTPStatus.SEE_OTHER
    assert response.headers["Location"] == "/privacy/"
    record = ConsentRecord.objects.get()
    assert record.action == "accept_all"
    assert record.states == {
        "analytics": True,
        "marketing": True,
        "necessary": True,
        "preferences": True,
    }
    assert record.config_revision == configuration.revision
    assert record.policy_version == 2
    assert BannerText.objects.get(sha256=record.banner_sha256).text.startswith(
        "Cookies on this site"
    )
    assert record.ip_prefix == "127.0.0.0/24"

    html = client.get("/privacy/").content.decode()
    assert not banner_shown(html)
    assert f"https://www.googletagmanager.com/gtag/js?id={GA_ID}" in html


def test_reject_all_keeps_google_out(client, demo_policy, ga):
    decide(client, action="reject_all")

    html = client.get("/privacy/").content.decode()

    assert not banner_shown(html)
    assert "googletagmanager" not in html
    assert ConsentRecord.objects.get().states["analytics"] is False


def test_custom_choice_by_json_answers_with_the_google_tag_to_load(client, demo_policy, ga):
    response = decide_json(
        client, {"action": "custom", "categories": ["analytics"], "scope": "prompt"}
    )

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["categories"] == {
        "analytics": True,
        "marketing": False,
        "necessary": True,
        "preferences": False,
    }
    assert body["ga"] == {
        "id": GA_ID,
        "src": f"https://www.googletagmanager.com/gtag/js?id={GA_ID}",
    }
    assert body["prompt"] is False
    # Nothing is left to ask: no banner is rendered for the answer.
    assert body["banner"] is None
    assert ConsentRecord.objects.get().action == "custom"


def test_the_banner_as_it_is_now_is_there_for_reopened_settings(client, demo_policy):
    decide_json(client, {"action": "accept_all", "scope": "prompt"})

    response = client.get("/consent/banner/")

    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response.headers["Cache-Control"]
    banner = response.json()["banner"]
    assert "data-consent-banner hidden" in banner
    assert 'name="scope" value="all"' in banner
    assert "Withdraw consent" in banner


def test_consent_cookie_is_signed_lax_and_lasts_the_configured_days(client, demo_policy, settings):
    settings.CONSENT_MAX_AGE_DAYS = 30
    settings.SESSION_COOKIE_SECURE = True  # production

    response = decide(client, action="reject_all")

    cookie = response.cookies["portal_consent"]
    assert cookie["samesite"] == "Lax"
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["max-age"] == 30 * 24 * 60 * 60
    data = signing.loads(cookie.value, salt="consent.cookie.v1")
    assert data["id"] == ConsentRecord.objects.get().consent_id.hex
    assert data["s"]["analytics"] is False
    assert data["p"] == 2


def test_repeated_identical_decisions_add_no_rows(client, demo_policy):
    decide(client, action="reject_all")
    decide(client, action="reject_all", scope="all")
    decide(client, action="reject_all", scope="all")
    decide_json(client, {"action": "reject_all", "scope": "all"})

    assert ConsentRecord.objects.count() == 1

    decide(client, action="accept_all", scope="all")

    records = list(ConsentRecord.objects.order_by("id"))
    assert [r.action for r in records] == ["reject_all", "accept_all"]
    assert records[0].consent_id == records[1].consent_id


def test_later_decisions_keep_the_consent_id(client, demo_policy):
    decide(client, action="accept_all")
    decide(client, action="withdraw", scope="all")

    first, second = ConsentRecord.objects.order_by("id")
    assert second.consent_id == first.consent_id
    assert second.action == "withdraw"
    assert second.states == {
        "analytics": False,
        "marketing": False,
        "necessary": True,
        "preferences": False,
    }


def test_withdrawal_deletes_ga_cookies(client, demo_policy, ga):
    decide(client, action="accept_all")
    client.cookies["_ga"] = "GA1.1.123.456"
    client.cookies[f"_ga_{GA_ID[2:]}"] = "GS1.1.789"

    response = decide(client, action="withdraw", scope="all")

    for name in ["_ga", f"_ga_{GA_ID[2:]}"]:
        assert response.cookies[name].value == ""
        assert response.cookies[name]["max-age"] == 0
    assert "portal_consent" in response.cookies


@pytest.mark.parametrize(
    "cookie",
    [
        "garbage",
        "eyJpZCI6ImFiYyJ9:1abc:forged",
        signing.dumps({"id": "not-a-uuid", "s": {}, "f": {}, "r": "x", "t": 1}, salt="other"),
        signing.dumps(["a", "list"], salt="consent.cookie.v1", compress=True),
        signing.dumps(
            {"id": "0" * 32, "s": {"analytics": "yes"}, "f": {}, "r": "x", "p": None, "t": 1},
            salt="consent.cookie.v1",
            compress=True,
        ),
        "x" * 5000,
        # Correctly signed but unreadable (found by tests/test_fuzz.py): an id of another
        # type, "compressed" data that is not zlib, JSON nested deeper than the parser goes.
        signing.dumps({"id": 5, "s": {}, "f": {}, "r": "x", "p": None, "t": 1}, salt=SALT),
        signing.TimestampSigner(salt=SALT).sign("." + signing.b64_encode(b"not zlib").decode()),
        signing.TimestampSigner(salt=SALT).sign(
            "." + signing.b64_encode(zlib.compress(b"[" * 5000 + b"]" * 5000)).decode()
        ),
    ],
)
def test_tampered_or_malformed_cookie_counts_as_no_decision(client, demo_policy, ga, cookie):
    client.cookies["portal_consent"] = cookie

    response = client.get("/privacy/")

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert banner_shown(html)
    assert "googletagmanager" not in html
    assert client.get("/consent/receipt/").status_code == HTTPStatus.NOT_FOUND
    assert decide(client, action="reject_all").status_code == HTTPStatus.SEE_OTHER


def test_cookie_edited_to_grant_analytics_is_rejected(client, demo_policy, ga):
    response = decide(client, action="reject_all")
    value = response.cookies["portal_consent"].value
    payload, rest = value.split(":", 1)
    client.cookies["portal_consent"] = payload[:-2] + "AA:" + rest

    html = client.get("/privacy/").content.decode()

    assert banner_shown(html)
    assert "googletagmanager" not in html


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ("{not json", HTTPStatus.BAD_REQUEST, "not valid JSON"),
        ("[1, 2]", HTTPStatus.BAD_REQUEST, "must be a JSON object"),
        ('{"action": "sell_everything"}', HTTPStatus.BAD_REQUEST, "Unknown action"),
        (
            '{"action": "custom", "categories": ["analytics", "mind_reading"]}',
            HTTPStatus.BAD_REQUEST,
            "Unknown cookie category mind_reading",
        ),
        ('{"action": "custom", "categories": "analytics"}', HTTPStatus.BAD_REQUEST, "list"),
        ('{"action": {"nested": 1}}', HTTPStatus.BAD_REQUEST, "Unknown action"),
        ('{"action": "accept_all", "revision": "stale"}', HTTPStatus.CONFLICT, "changed"),
        ('"\\ud800"', HTTPStatus.BAD_REQUEST, "JSON object"),
    ],
)
def test_bad_json_input_is_a_clear_4xx_and_stores_nothing(
    client, demo_policy, payload, status, message
):
    response = client.post(
        "/consent/",
        payload,
        content_type="application/json",
        headers={"Accept": "application/json"},
    )

    assert response.status_code == status
    assert message in response.json()["error"]
    assert ConsentRecord.objects.count() == 0
    assert "portal_consent" not in response.cookies


def test_invalid_utf8_body_is_400(client, demo_policy):
    response = client.post("/consent/", b"\xff\xfe\xfa", content_type="application/json")

    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_oversized_body_is_413(client, demo_policy):
    payload = json.dumps({"action": "accept_all", "padding": "x" * 10_000})

    response = client.post("/consent/", payload, content_type="application/json")

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert ConsentRecord.objects.count() == 0


def test_bad_form_input_gets_a_readable_page(client, demo_policy):
    response = decide(client, action="custom", categories=["nonsense"])

    assert response.status_code == HTTPStatus.BAD_REQUEST
    html = response.content.decode()
    assert "Your cookie choice was not saved" in html
    assert "Unknown cookie category nonsense" in html


def test_a_previous_decision_survives_bad_input(client, demo_policy):
    decide(client, action="accept_all")

    decide_json(client, {"action": "withdraw", "revision": "stale"})

    assert ConsentRecord.objects.get().action == "accept_all"
    assert not banner_shown(client.get("/").content.decode())


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", ""]
)
def test_redirect_goes_only_to_this_site(client, demo_policy, target):
    response = decide(client, action="reject_all", next=target)

    assert response.headers["Location"] == "/"


def test_get_on_the_consent_endpoint_is_405(client, db):
    assert client.get("/consent/").status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_gpc_signal_is_honoured(client, demo_policy):
    html = client.get("/privacy/", headers={"Sec-GPC": "1"}).content.decode()

    assert "Your Global Privacy Control signal is honoured" in html
    assert 'id="cc-marketing"' not in html  # never asked about while GPC is sent

    decide(client, action="accept_all", headers={"Sec-GPC": "1"})

    record = ConsentRecord.objects.get()
    assert record.gpc is True
    assert record.states["marketing"] is False
    assert record.states["analytics"] is True  # an explicit choice for analytics still counts


def test_gpc_signal_from_the_module_is_logged_as_gpc(client, demo_policy):
    response = decide_json(client, {"action": "gpc", "scope": "all"}, **{"Sec-GPC": "1"})

    assert response.status_code == HTTPStatus.OK
    record = ConsentRecord.objects.get()
    assert record.action == "gpc"
    assert record.states == {"marketing": False, "necessary": True}
    # Analytics and preferences are still undecided: the banner keeps asking about them.
    assert response.json()["prompt"] is True
    html = client.get("/privacy/", headers={"Sec-GPC": "1"}).content.decode()
    assert banner_shown(html)
    assert 'id="cc-analytics"' in html


def test_receipt_lists_the_decision_with_kantara_fields(client, demo_policy):
    decide(client, action="custom", categories=["analytics"])
    record = ConsentRecord.objects.get()

    response = client.get("/consent/receipt/")

    assert response.status_code == HTTPStatus.OK
    assert "attachment" in response.headers["Content-Disposition"]
    receipt = response.json()
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["jurisdiction"] == "EU"
    assert receipt["consentReceiptID"] == str(record.receipt_id)
    assert receipt["piiPrincipalId"] == str(record.consent_id)
    assert receipt["consentTimestamp"] == int(record.created_at.timestamp())
    assert receipt["collectionMethod"].startswith("Cookie banner")
    assert receipt["policyUrl"] == "http://testserver/privacy/v/2/"
    assert receipt["policyVersion"] == "2"
    assert receipt["piiControllers"][0]["email"] == "dpo@example.com"
    purposes = {p["purposeId"]: p for p in receipt["services"][0]["purposes"]}
    assert purposes["analytics"]["consented"] is True
    assert purposes["marketing"]["consented"] is False
    assert purposes["necessary"]["consentType"] == "NOT REQUIRED"
    assert "_ga" in purposes["analytics"]["piiCategory"]


def test_receipt_without_a_decision_is_404(client, db):
    response = client.get("/consent/receipt/")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "No cookie decision" in response.json()["error"]


def test_cookie_page_declares_every_cookie_and_works_without_javascript(client, demo_policy):
    html = client.get("/cookies/").content.decode()

    for name in ["portal_consent", "csrftoken", "_ga", "_ga_*"]:
        assert f"<code>{name}</code>" in html
    assert "Google Analytics (Google)" in html
    assert 'action="/consent/"' in html
    assert 'value="all"' in html

    response = decide(
        client, action="custom", categories=["preferences"], scope="all", next="/cookies/"
    )

    assert response.headers["Location"] == "/cookies/"
    assert ConsentRecord.objects.get().states["preferences"] is True
    html = client.get("/cookies/").content.decode()
    assert "Your current choice was recorded" in html
    assert "Withdraw consent" in html
    assert 'id="cs-preferences" name="categories" value="preferences"' in html


def test_footer_has_cookie_settings_on_every_page(client, demo_policy):
    for path in ["/", "/privacy/", "/privacy/history/", "/cookies/"]:
        html = client.get(path).content.decode()
        assert "data-consent-open" in html
        assert "Cookie settings" in html
