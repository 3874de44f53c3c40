"""The consent app's deployment checks refuse an insecure production configuration."""

import pytest

from tests.conftest import run_manage
from tests.privacy_portal.test_settings import PRODUCTION_ENV


def deploy_check(**changes: str | None):
    env = {**PRODUCTION_ENV, **changes}
    env = {key: value for key, value in env.items() if value is not None}
    return run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)


def test_a_clean_production_configuration_passes():
    result = deploy_check()

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("changes", "check_id"),
    [
        ({"PERSONAL_DATA_HASH_KEY": None}, "consent.E001"),
        ({"PERSONAL_DATA_HASH_KEY": PRODUCTION_ENV["DJANGO_SECRET_KEY"]}, "consent.E001"),
        ({"PERSONAL_DATA_HASH_KEY": "short-key"}, "consent.E002"),
        ({"DJANGO_SECURE_COOKIES": "false"}, "consent.E003"),
        ({"GA_MEASUREMENT_ID": "UA-1234-1'><script>"}, "consent.E004"),
        ({"ADMIN_REQUIRE_OTP": "false"}, "privacy_portal.W002"),
        ({"CACHE_URL": None}, "privacy_portal.W003"),
    ],
)
def test_an_insecure_production_setting_is_refused(changes, check_id):
    result = deploy_check(**changes)

    assert result.returncode != 0
    assert check_id in result.stderr


def test_debug_mode_is_not_held_to_production_rules():
    result = run_manage("check", "--deploy", env={"DJANGO_DEBUG": "true"})

    assert "consent.E00" not in result.stderr
