"""Registration, the neutral age screen and the parental-consent flow, through HTTP."""

import datetime
import re
from http import HTTPStatus
from io import StringIO

import pytest
from django.core import mail, signing
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django.utils.html import strip_tags

from consent.ages import DIGITAL_CONSENT_AGES
from consent.models import MarketingPreference, ParentalConsent, ParentalConsentEvent, Registration
from consent.registration import MANAGE, PARENT
from privacy_portal.links import link_token
from tests.helpers import assert_mail_inert, hostile_name, link_in_mail, visible_text

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def years_ago(years: int, day: datetime.date = TODAY) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def register(client: Client, deliver, *, born: datetime.date, country: str, **extra):
    data = {
        "name": "Kim Lee",
        "email": "kim@example.org",
        "country": country,
        "date_of_birth": born.isoformat(),
        "interests": ["products", "events"],
        "marketing_email": "on",
        **extra,
    }
    with deliver():
        return client.post("/register/", data)


def ask_parent(client: Client, deliver, parent="parent@example.org"):
    with deliver():
        return client.post("/register/parent/", {"parent_email": parent})


@pytest.fixture
def child(client, demo_policy, deliver):
    """A 12-year-old in Germany whose parent has been asked."""
    register(client, deliver, born=years_ago(12), country="DE")
    ask_parent(client, deliver)
    return Registration.objects.get(is_child=True)


def parent_link(kind_path: str = "/parental-consent/") -> str:
    return link_in_mail(mail.outbox[-1], kind_path)


def states(registration_or_consent) -> list[str]:
    consent = getattr(registration_or_consent, "parental_consent", registration_or_consent)
    return list(consent.events.order_by("at", "id").values_list("state", flat=True))


def test_a_15_year_old_in_the_us_registers_directly(client, demo_policy, deliver):
    response = register(client, deliver, born=years_ago(15), country="US")

    assert response.headers["Location"] == "/register/sent/"
    registration = Registration.objects.get()
    assert registration.status == "awaiting_email"
    assert not registration.is_child
    assert registration.interests == ["events", "products"]
    assert registration.marketing_choices["email"] is True
    assert registration.marketing_choices["phone"] is False
    assert (registration.purpose, registration.policy_version) == ("registration", 2)

    with deliver():
        client.post(link_in_mail(mail.outbox[-1], "/register/confirm/"))
    registration.refresh_from_db()
    assert registration.status == "active"
    assert registration.confirmed_at is not None


def test_a_15_year_old_in_germany_goes_to_the_parental_flow(client, demo_policy, deliver):
    response = register(client, deliver, born=years_ago(15), country="DE")

    assert response.headers["Location"] == "/register/parent/"
    assert not Registration.objects.exists()  # nothing kept until a parent's address is given
    page = client.get("/register/parent/").content.decode()
    assert "One more step, Kim" in page


@pytest.mark.parametrize(("country", "age"), sorted(DIGITAL_CONSENT_AGES.items()))
def test_every_country_at_its_boundary(demo_policy, deliver, country, age):
    birthday_today = years_ago(age)
    birthday_tomorrow = birthday_today + datetime.timedelta(days=1)

    of_age = register(Client(), deliver, born=birthday_today, country=country)
    not_yet = register(Client(), deliver, born=birthday_tomorrow, country=country)

    assert of_age.headers["Location"] == "/register/sent/", (country, age)
    assert not_yet.headers["Location"] == "/register/parent/", (country, age)


def test_countries_outside_the_table_use_the_default_age(demo_policy, deliver, settings):
    settings.DIGITAL_CONSENT_AGE_DEFAULT = 16

    assert register(Client(), deliver, born=years_ago(15), country="JP").headers["Location"] == (
        "/register/parent/"
    )
    assert register(Client(), deliver, born=years_ago(16), country="JP").headers["Location"] == (
        "/register/sent/"
    )


def test_the_page_gives_no_hint_of_an_age_limit(client, demo_policy):
    html = client.get("/register/").content.decode()
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    text = strip_tags(main).lower()

    for hint in ["parent", "guardian", "child", "years old", "age of", "minimum", "under "]:
        assert hint not in text, hint
    assert not re.search(r"\b1[3-6]\b", text)
    date_input = re.search(r'<input[^>]*name="date_of_birth"[^>]*>', main).group(0)
    assert "min=" not in date_input
    assert "max=" not in date_input


def test_trying_again_with_an_older_date_in_the_same_session_is_refused(
    client, demo_policy, deliver
):
    register(client, deliver, born=years_ago(12), country="DE")

    again = register(client, deliver, born=years_ago(30), country="DE")

    assert again.headers["Location"] == "/register/parent/"  # the same, unexplained, step
    assert not Registration.objects.filter(is_child=False).exists()
    assert mail.outbox == []


def test_the_pending_record_holds_only_the_allowed_fields(child):
    row = Registration.objects.filter(pk=child.pk).values().get()

    assert row["name"] == "Kim"  # first name only
    assert row["parent_email"] == "parent@example.org"
    assert row["country"] == "DE"
    assert row["birth_year"] == years_ago(12).year
    assert row["email"] == ""
    assert row["interests"] == []
    assert row["marketing_choices"] == {}
    assert row["status"] == "awaiting_parent"
    assert row["is_child"] is True
    assert "kim@example.org" not in str(row)
    assert states(child) == ["requested"]


def test_the_parent_sees_what_would_be_kept_and_why(client, child):
    html = client.get(parent_link()).content.decode()

    assert "Kim would like to register" in html
    for shown in ["Kim", "DE", str(child.birth_year), "parent@example.org"]:
        assert shown in html
    assert "Consent (Art. 6(1)(a))" in html  # from the register of processing
    assert "withdraw your consent" in html
    assert "I am this child&#x27;s parent or legal guardian." in html


def test_consent_needs_the_guardian_confirmation(client, child):
    response = client.post(parent_link(), {"decision": "consent"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Please confirm that you are the parent" in response.content.decode()
    child.refresh_from_db()
    assert child.status == "awaiting_parent"


def test_consent_activates_the_registration_and_sends_a_confirmation(client, child, deliver):
    with deliver():
        response = client.post(parent_link(), {"decision": "consent", "is_guardian": "on"})

    assert response.status_code == HTTPStatus.OK
    child.refresh_from_db()
    assert child.status == "active"
    confirmation = mail.outbox[-1]
    assert confirmation.to == ["parent@example.org"]
    assert "You consented" in confirmation.subject
    assert "/parental-consent/manage/" in confirmation.body
    assert states(child) == ["requested", "consented", "confirmation_sent"]


def test_decline_deletes_the_childs_data_at_once(client, child):
    consent = child.parental_consent

    client.post(parent_link(), {"decision": "decline"})

    assert not Registration.objects.exists()
    assert states(consent) == ["requested", "declined"]
    assert "Kim" not in str(list(ParentalConsent.objects.values()))


def test_silence_expires_and_deletes_the_childs_data(child, settings):
    consent = child.parental_consent
    Registration.objects.filter(pk=child.pk).update(
        awaiting_since=timezone.now()
        - datetime.timedelta(days=settings.PARENTAL_CONSENT_DAYS, hours=1)
    )
    dry = StringIO()
    call_command("purge_expired", "--dry-run", stdout=dry)
    assert "without a parent's answer: 1 past retention, would be deleted" in dry.getvalue()
    assert Registration.objects.exists()

    call_command("purge_expired", stdout=StringIO())

    assert not Registration.objects.exists()
    assert states(consent) == ["requested", "expired"]


def test_a_young_registration_is_not_expired_early(child):
    call_command("purge_expired", stdout=StringIO())

    assert Registration.objects.filter(pk=child.pk).exists()


def test_the_parent_reviews_and_revokes_from_the_management_link(client, child, deliver):
    with deliver():
        client.post(parent_link(), {"decision": "consent", "is_guardian": "on"})
    manage = parent_link("/parental-consent/manage/")
    consent = child.parental_consent

    page = client.get(manage).content.decode()
    assert "Kim" in page
    assert "Withdraw my consent" in page
    client.post(manage, {"revoke": "yes"})

    assert not Registration.objects.exists()
    assert states(consent)[-1] == "revoked"
    assert client.get(manage).status_code == HTTPStatus.GONE


@pytest.mark.parametrize(
    "token",
    ["garbage", signing.dumps({"g": 1}, salt="another.salt"), "x" * 600],
)
def test_forged_tokens_get_a_clear_400(client, child, token):
    for path in ["/parental-consent/", "/parental-consent/manage/", "/register/confirm/"]:
        response = client.get(f"{path}{token}/")
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "This link is not valid" in response.content.decode()


def test_an_altered_token_is_rejected(client, child):
    path = parent_link()
    token = path.rstrip("/").rsplit("/", 1)[1]
    altered = token[:-3] + ("aaa" if token[-3:] != "aaa" else "bbb")

    assert client.get(f"/parental-consent/{altered}/").status_code == HTTPStatus.BAD_REQUEST


def test_an_expired_parent_link_says_so(client, child, settings):
    path = parent_link()
    settings.PARENTAL_CONSENT_DAYS = -1

    response = client.post(path, {"decision": "consent", "is_guardian": "on"})

    assert response.status_code == HTTPStatus.GONE
    assert "This link has expired" in response.content.decode()
    child.refresh_from_db()
    assert child.status == "awaiting_parent"


def test_a_token_for_one_child_cannot_act_on_another(client, demo_policy, deliver):
    register(client, deliver, born=years_ago(12), country="DE")
    ask_parent(client, deliver, "first@example.org")
    other = Client()
    register(other, deliver, born=years_ago(11), country="FR")
    ask_parent(other, deliver, "second@example.org")
    first, second = Registration.objects.order_by("pk")
    # A correctly signed link naming the second child but carrying the first child's
    # parental-consent reference (as if someone edited the payload and re-signed it).
    crossed = link_token(PARENT, g=second.pk, c=str(first.parental_consent.reference))
    manage_for_first = link_token(MANAGE, g=first.pk, c=str(first.parental_consent.reference))

    response = client.post(f"/parental-consent/{crossed}/", {"decision": "decline"})
    wrong_kind = client.post(f"/parental-consent/{manage_for_first}/", {"decision": "decline"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert wrong_kind.status_code == HTTPStatus.BAD_REQUEST
    assert Registration.objects.count() == 2


def test_coming_of_age_ends_the_parents_consent_and_asks_the_young_person(client, child, deliver):
    with deliver():
        client.post(parent_link(), {"decision": "consent", "is_guardian": "on"})
    Registration.objects.filter(pk=child.pk).update(birth_year=TODAY.year - 18)

    with deliver():
        call_command("process_coming_of_age", stdout=StringIO())

    child.refresh_from_db()
    assert child.status == "awaiting_own_consent"
    asking = mail.outbox[-1]
    assert asking.to == ["parent@example.org"]
    assert "your registration, your decision" in asking.subject
    assert states(child)[-1] == "came_of_age"

    own = link_in_mail(asking, "/register/own-consent/")
    with deliver():
        client.post(own, {"email": "kim.lee@example.org"})
    child.refresh_from_db()
    assert (child.is_child, child.status, child.email, child.parent_email) == (
        False,
        "awaiting_email",
        "kim.lee@example.org",
        "",
    )
    assert child.birth_year is None
    assert mail.outbox[-1].to == ["kim.lee@example.org"]
    assert states(child)[-1] == "own_consent"


def test_children_not_yet_of_age_are_left_alone(client, child, deliver):
    with deliver():
        client.post(parent_link(), {"decision": "consent", "is_guardian": "on"})
    sent = len(mail.outbox)

    call_command("process_coming_of_age", stdout=StringIO())

    child.refresh_from_db()
    assert child.status == "active"
    assert len(mail.outbox) == sent


def test_marketing_choices_start_unticked_under_opt_in(client, demo_policy, settings):
    settings.MARKETING_DEFAULT = "opt_in"
    opt_in = client.get("/register/").content.decode()
    settings.MARKETING_DEFAULT = "opt_out"
    opt_out = client.get("/register/").content.decode()

    boxes = r'<input type="checkbox" name="marketing_email"[^>]*>'
    assert "checked" not in re.search(boxes, opt_in).group(0)
    assert "checked" in re.search(boxes, opt_out).group(0)


@pytest.mark.parametrize(
    "changes",
    [
        {"date_of_birth": "2090-01-01"},
        {"date_of_birth": "not a date"},
        {"country": "XX"},
        {"email": "nope"},
        {"name": ""},
    ],
)
def test_bad_registration_input_is_a_400_and_stores_nothing(client, demo_policy, deliver, changes):
    country = changes.pop("country", "DE")
    response = register(client, deliver, born=years_ago(30), country=country, **changes)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Please check the fields marked below." in response.content.decode()
    assert not Registration.objects.exists()


def test_the_parent_step_needs_a_screened_session(client, demo_policy):
    response = client.post("/register/parent/", {"parent_email": "p@example.org"})

    assert response.headers["Location"] == "/register/"
    assert not Registration.objects.exists()


def test_parental_consent_records_are_read_only_for_the_dpo_only(child, deliver):
    from django.contrib.auth.models import User

    from privacy_portal.roles import roles_sync

    dpo = User.objects.create_user("dpo2", "d@example.com", "pw", is_staff=True)
    dpo.groups.add(roles_sync()["DPO"])
    clerk = User.objects.create_user("clerk2", "c@example.com", "pw", is_staff=True)
    as_dpo, as_clerk = Client(), Client()
    as_dpo.force_login(dpo)
    as_clerk.force_login(clerk)
    url = "/admin/consent/parentalconsent/"
    detail = f"{url}{child.parental_consent.pk}/change/"

    listing = as_dpo.get(url)
    assert listing.status_code == HTTPStatus.OK
    assert "Parent asked" in listing.content.decode()
    page = as_dpo.get(detail).content.decode()
    assert "Parent asked" in page
    assert "Kim" not in visible_text(page)
    assert 'name="_save"' not in page
    assert as_dpo.post(detail, {}).status_code == HTTPStatus.FORBIDDEN
    assert as_clerk.get(url).status_code == HTTPStatus.FORBIDDEN
    assert ParentalConsentEvent.objects.count() == 1


def _came_of_age(client, child, deliver) -> str:
    with deliver():
        client.post(parent_link(), {"decision": "consent", "is_guardian": "on"})
    manage = parent_link("/parental-consent/manage/")
    Registration.objects.filter(pk=child.pk).update(birth_year=TODAY.year - 18)
    with deliver():
        call_command("process_coming_of_age", stdout=StringIO())
    return manage


def test_the_parent_cannot_revoke_once_the_child_came_of_age(client, child, deliver):
    manage = _came_of_age(client, child, deliver)

    response = client.post(manage, {"revoke": "yes"})

    assert "already been answered" in response.content.decode()
    assert Registration.objects.filter(pk=child.pk).exists()


def test_a_young_persons_own_registration_is_not_purged_before_its_deadline(client, child, deliver):
    _came_of_age(client, child, deliver)
    with deliver():
        client.post(link_in_mail(mail.outbox[-1], "/register/own-consent/"), {"email": "k@ex.org"})

    call_command("purge_expired", stdout=StringIO())

    child.refresh_from_db()
    assert child.status == "awaiting_email"
    with deliver():
        client.post(link_in_mail(mail.outbox[-1], "/register/confirm/"))
    child.refresh_from_db()
    assert child.status == "active"


def test_a_name_with_markup_arrives_as_plain_text_in_the_registration_mail(
    client, demo_policy, deliver
):
    name = hostile_name()

    register(client, deliver, born=years_ago(30), country="FR", name=name)

    assert Registration.objects.get().name == name
    assert_mail_inert(
        mail.outbox[-1],
        typed=name,
        subject="Please confirm your registration",
        links=["/register/confirm/"],
    )


def test_a_childs_first_name_with_markup_arrives_as_plain_text_in_the_parents_mails(
    client, demo_policy, deliver
):
    # Only the first word of a child's name is kept, so the attack has no spaces.
    first_name = """<a/href="https://evil.example/">O'Brien&<b>https://evil.example/x</a>"""

    register(client, deliver, born=years_ago(12), country="DE", name=f"{first_name} Lee")
    ask_parent(client, deliver)
    assert_mail_inert(
        mail.outbox[-1],
        typed=first_name,
        subject=f"Your consent is asked for {first_name}'s registration",
        links=["/parental-consent/"],
    )
    with deliver():
        client.post(parent_link(), {"decision": "consent", "is_guardian": "on"})
    assert_mail_inert(
        mail.outbox[-1],
        typed=first_name,
        subject=f"You consented to {first_name}'s registration",
        links=["/parental-consent/manage/"],
    )
    Registration.objects.update(birth_year=TODAY.year - 18)
    with deliver():
        call_command("process_coming_of_age", stdout=StringIO())
    assert_mail_inert(
        mail.outbox[-1],
        typed=first_name,
        subject=f"{first_name}: your registration, your decision",
        links=["/register/own-consent/"],
    )


def test_a_young_persons_unconfirmed_address_changes_no_existing_marketing_record(
    client, child, deliver
):
    # Issue 13, finding 3: the address a young person gives is not confirmed yet either.
    _came_of_age(client, child, deliver)
    own_consent = link_in_mail(mail.outbox[-1], "/register/own-consent/")
    register(Client(), deliver, born=years_ago(40), country="FR", email="kim.lee@example.org")
    with deliver():
        Client().post(link_in_mail(mail.outbox[-1], "/register/confirm/"))
    before = MarketingPreference.objects.values().get()

    with deliver():
        client.post(own_consent, {"email": "kim.lee@example.org"})

    assert MarketingPreference.objects.values().get() == before
    assert mail.outbox[-1].to == ["kim.lee@example.org"]


def test_a_young_persons_own_address_cannot_be_an_address_literal(client, child, deliver):
    _came_of_age(client, child, deliver)
    own_consent = link_in_mail(mail.outbox[-1], "/register/own-consent/")
    sent = len(mail.outbox)

    response = client.post(own_consent, {"email": "kim@[127.0.0.1]"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "addresses at an IP address or at localhost are not accepted" in (
        response.content.decode()
    )
    child.refresh_from_db()
    assert (child.status, child.email) == ("awaiting_own_consent", "")
    assert len(mail.outbox) == sent
