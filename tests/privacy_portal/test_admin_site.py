"""Staff sign-in: a second factor in production, throttled and logged failures."""

import logging
import re
import time
from http import HTTPStatus

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.test import Client
from django_otp.oath import TOTP

from privacy_portal.admin_site import SEEN_KEY, SIGNED_IN_KEY
from privacy_portal.services import totp_device_enrol
from tests.conftest import run_manage

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def otp_required(settings):
    settings.ADMIN_REQUIRE_OTP = True


@pytest.fixture(autouse=True)
def _one_long_window(settings):
    """Failures count per fixed window; a very long one keeps a test inside one window."""
    settings.LOGIN_FAILURE_WINDOW_MINUTES = 10**6


@pytest.fixture
def staff(db):
    return User.objects.create_superuser("dana", "dana@example.com", "correct horse battery")


def current_code(device) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def sign_in(client: Client, password: str = "correct horse battery", **extra):
    return client.post(LOGIN, {"username": "dana", "password": password, **extra})


def test_without_a_second_factor_a_signed_in_staff_user_cannot_reach_the_admin(otp_required, staff):
    client = Client()
    client.force_login(staff)  # a session with the password only

    response = client.get("/admin/")

    assert response.status_code == HTTPStatus.FOUND
    assert response.headers["Location"].startswith("/admin/login/")
    page = client.get(response.headers["Location"])
    assert "Code from your authenticator app" in page.text


def test_the_password_alone_does_not_sign_in(otp_required, staff):
    totp_device_enrol(user=staff)
    client = Client()

    response = sign_in(client)

    assert response.status_code == HTTPStatus.OK
    assert client.get("/admin/").status_code == HTTPStatus.FOUND


def test_a_staff_user_without_an_enrolled_device_cannot_sign_in(otp_required, staff):
    client = Client()

    sign_in(client, otp_token="123456")

    assert client.get("/admin/").status_code == HTTPStatus.FOUND


def test_password_and_current_code_open_the_admin(otp_required, staff):
    device = totp_device_enrol(user=staff)
    client = Client()

    response = sign_in(client, otp_token=current_code(device))

    assert response.status_code == HTTPStatus.FOUND
    assert client.get("/admin/").status_code == HTTPStatus.OK


def test_a_wrong_code_is_refused(otp_required, staff):
    device = totp_device_enrol(user=staff)
    wrong = f"{(int(current_code(device)) + 500_000) % 1_000_000:06d}"
    client = Client()

    response = sign_in(client, otp_token=wrong)

    assert response.status_code == HTTPStatus.OK
    assert client.get("/admin/").status_code == HTTPStatus.FOUND


def test_without_the_requirement_the_password_is_enough(settings, staff):
    settings.ADMIN_REQUIRE_OTP = False
    client = Client()

    sign_in(client)

    assert client.get("/admin/").status_code == HTTPStatus.OK


def test_repeated_failures_are_throttled_per_user_name_and_logged(settings, staff, caplog):
    settings.ADMIN_REQUIRE_OTP = False
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    caplog.set_level(logging.WARNING, logger="privacy_portal.security")

    answers = [sign_in(Client(), password=f"guess {n}").status_code for n in range(3)]
    refused = sign_in(Client())  # even the right password, once the limit is reached

    assert answers == [HTTPStatus.OK] * 3
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many attempts" in refused.text
    failures = [r for r in caplog.records if "sign-in failed" in r.getMessage()]
    assert len(failures) == 3
    assert "'dana'" in failures[0].getMessage()
    assert any("sign-in refused" in r.getMessage() for r in caplog.records)


def test_failures_from_one_address_are_throttled_across_user_names(settings, staff):
    settings.ADMIN_REQUIRE_OTP = False
    settings.LOGIN_FAILURES_PER_IP = 2
    for name in ("eve", "mallory"):
        Client().post(LOGIN, {"username": name, "password": "x"})

    assert sign_in(Client()).status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_a_success_does_not_count_as_a_failure(settings, staff):
    settings.ADMIN_REQUIRE_OTP = False
    settings.LOGIN_FAILURES_PER_USERNAME = 1
    for _ in range(3):
        assert sign_in(Client()).status_code == HTTPStatus.FOUND


def test_totp_enroll_prints_a_link_and_enrols_a_confirmed_device(staff, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("totp_enroll", "dana", "--name", "phone", stdout=out)

    assert "otpauth://totp/" in out.getvalue()
    assert staff.totpdevice_set.get().name == "phone"
    assert staff.totpdevice_set.get().confirmed


def test_totp_enroll_refuses_unknown_and_non_staff_users(db):
    from django.core.management import CommandError, call_command

    User.objects.create_user("visitor", "v@example.com", "pw")
    with pytest.raises(CommandError, match="No user named"):
        call_command("totp_enroll", "nobody")
    with pytest.raises(CommandError, match="not a staff user"):
        call_command("totp_enroll", "visitor")


def test_production_requires_the_second_factor_by_default():
    from tests.privacy_portal.test_settings import PRODUCTION_ENV

    script = "from django.conf import settings as s; print(s.ADMIN_REQUIRE_OTP)"
    result = run_manage("shell", "-c", script, env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True"


# --- Throttling that holds (issue 13, finding 6) -----------------------------------------------
def test_look_alike_user_names_share_one_failure_budget(settings, db):
    settings.ADMIN_REQUIRE_OTP = False
    settings.LOGIN_FAILURES_PER_USERNAME = 3
    User.objects.create_superuser("staffonly", "s@example.com", "correct horse battery")
    # Each from an address of its own, so only the user name's budget can be spent.
    for n, name in enumerate(["staffonly", "\uff53taffonly", "STAFFONLY"]):
        Client().post(LOGIN, {"username": name, "password": "guess"}, REMOTE_ADDR=f"192.0.2.{n}")

    refused = Client().post(
        LOGIN,
        {"username": "staffonly", "password": "correct horse battery"},
        REMOTE_ADDR="192.0.2.99",
    )

    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS


def answer(response) -> tuple[int, tuple[str, ...], str]:
    """What a sign-in attempt tells the person who made it: status, messages and page (less
    the CSRF token and the CSP nonce, which are new on every page)."""
    page = re.sub(r'(name="csrfmiddlewaretoken" value|nonce)="[^"]*"', "", response.text)
    return response.status_code, tuple(map(str, get_messages(response.wsgi_request))), page


@pytest.mark.parametrize("devices", [1, 2])
def test_a_right_password_without_its_code_gets_the_same_answer_as_a_wrong_one(
    otp_required, staff, devices
):
    for n in range(devices):
        device = totp_device_enrol(user=staff, name=f"phone {n}")
    wrong_code = f"{(int(current_code(device)) + 500_000) % 1_000_000:06d}"

    attempts = {
        "wrong password": answer(sign_in(Client(), password="guess")),
        "right password, no code": answer(sign_in(Client())),
        "right password, wrong code": answer(sign_in(Client(), otp_token=wrong_code)),
        "wrong password, wrong code": answer(
            sign_in(Client(), password="guess", otp_token=wrong_code)
        ),
    }

    assert {status for status, _, _ in attempts.values()} == {HTTPStatus.OK}
    notes = {
        kind: re.findall(r'class="errornote">\s*([^<]*)', page)
        for kind, (_, _, page) in attempts.items()
    }
    assert len(set(attempts.values())) == 1, notes
    assert "correct horse battery" not in attempts["right password, no code"][2]


def test_a_right_password_without_its_code_counts_as_a_failure(settings, otp_required, staff):
    settings.LOGIN_FAILURES_PER_USERNAME = 2
    device = totp_device_enrol(user=staff)

    answers = [sign_in(Client()).status_code for _ in range(2)]

    assert answers == [HTTPStatus.OK] * 2
    refused = sign_in(Client(), otp_token=current_code(device))
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_with_several_devices_a_code_from_any_of_them_signs_in(otp_required, staff):
    totp_device_enrol(user=staff, name="phone")
    spare = totp_device_enrol(user=staff, name="spare phone")
    client = Client()

    response = sign_in(client, otp_token=current_code(spare))

    assert response.status_code == HTTPStatus.FOUND
    assert client.get("/admin/").status_code == HTTPStatus.OK


def fail_from(address: str, name: str = "eve") -> int:
    return Client().post(LOGIN, {"username": name, "password": "x"}, REMOTE_ADDR=address)


@pytest.mark.parametrize(
    ("spent_from", "then_from", "blocked"),
    [
        # IPv6: one /64 is one client's network, one budget.
        (["2001:db8:1:2::1", "2001:db8:1:2:ffff::7"], "2001:db8:1:2:abcd::5", True),
        (["2001:db8:1:2::1", "2001:db8:1:2:ffff::7"], "2001:db8:1:3::1", False),
        # IPv4 stays per address; an IPv4-mapped IPv6 address is that IPv4 address.
        (["192.0.2.7", "::ffff:192.0.2.7"], "192.0.2.7", True),
        (["192.0.2.7", "192.0.2.7"], "192.0.2.8", False),
    ],
)
def test_failures_count_per_ipv6_network_and_per_ipv4_address(
    settings, staff, spent_from, then_from, blocked
):
    settings.ADMIN_REQUIRE_OTP = False
    settings.LOGIN_FAILURES_PER_IP = 2
    for n, address in enumerate(spent_from):
        fail_from(address, name=f"eve{n}")

    status = fail_from(then_from, name="mallory").status_code

    assert (status == HTTPStatus.TOO_MANY_REQUESTS) is blocked


# --- Staff sessions end (issue 13, finding 12) -------------------------------------------------
@pytest.fixture
def signed_in(settings, staff) -> Client:
    """A staff member signed in through the sign-in page, as in production."""
    settings.ADMIN_SESSION_IDLE_MINUTES = 30
    settings.ADMIN_SESSION_MAX_HOURS = 10
    device = totp_device_enrol(user=staff)
    settings.ADMIN_REQUIRE_OTP = True
    client = Client()
    assert sign_in(client, otp_token=current_code(device)).status_code == HTTPStatus.FOUND
    return client


def move_back(client: Client, **ago: float) -> None:
    """Move the session's stored sign-in and last-activity times back (seconds), as if the
    clock had moved forward."""
    session = client.session
    for key, seconds in ago.items():
        session[key] = session.get(key, time.time()) - seconds
    session.save()


def test_a_staff_session_ends_after_the_idle_period(signed_in):
    assert signed_in.get("/admin/").status_code == HTTPStatus.OK
    move_back(signed_in, **{SEEN_KEY: 31 * 60, SIGNED_IN_KEY: 31 * 60})

    response = signed_in.get("/admin/requests_app/datasubjectrequest/")

    assert response.status_code == HTTPStatus.FOUND
    assert response.headers["Location"].startswith("/admin/login/?next=")
    assert signed_in.get("/admin/").status_code == HTTPStatus.FOUND


def test_activity_keeps_a_staff_session_going(signed_in):
    for _ in range(3):
        move_back(signed_in, **{SEEN_KEY: 20 * 60, SIGNED_IN_KEY: 20 * 60})

        assert signed_in.get("/admin/").status_code == HTTPStatus.OK


def test_a_staff_session_ends_after_the_working_day_however_busy(signed_in):
    move_back(signed_in, **{SIGNED_IN_KEY: 10 * 3600 + 60})

    response = signed_in.get("/admin/")

    assert response.status_code == HTTPStatus.FOUND
    assert response.headers["Location"].startswith("/admin/login/")
    assert signed_in.get("/admin/").status_code == HTTPStatus.FOUND


def test_the_staff_session_cookie_expires_with_the_session(signed_in):
    idle = signed_in.get("/admin/").cookies["sessionid"]
    move_back(signed_in, **{SIGNED_IN_KEY: 10 * 3600 - 600})
    near_the_end_of_the_day = signed_in.get("/admin/").cookies["sessionid"]

    assert 0 < int(idle["max-age"]) <= 30 * 60
    assert 0 < int(near_the_end_of_the_day["max-age"]) <= 600


def test_a_public_first_visit_neither_creates_nor_reads_a_session(demo_policy):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client()
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/privacy/")

    assert response.status_code == HTTPStatus.OK
    assert "sessionid" not in response.cookies
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"]]
