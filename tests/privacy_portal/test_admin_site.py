"""Staff sign-in: a second factor in production, throttled and logged failures."""

import logging
from http import HTTPStatus

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_otp.oath import TOTP

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
