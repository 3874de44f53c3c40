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


def _banner_warnings() -> list[str]:
    from consent.checks import check_banner_csp, check_shared_pages

    return [m.id for m in check_banner_csp(None) + check_shared_pages(None)]


def test_the_projects_own_csp_lets_the_banner_load():
    assert _banner_warnings() == []


@pytest.mark.parametrize(
    ("policy", "static_url", "warnings"),
    [
        ({"default-src": ["'none'"]}, "/static/", ["consent.W002", "consent.W002"]),
        (
            {"default-src": ["'self'"], "script-src": ["'self'", "'strict-dynamic'"]},
            "/static/",
            ["consent.W002"],
        ),
        ({"default-src": ["'self'"]}, "https://cdn.example.com/static/", ["consent.W002"] * 2),
        ({"default-src": ["https://cdn.example.com"]}, "https://cdn.example.com/static/", []),
        ({"default-src": ["https:"]}, "https://cdn.example.com/static/", []),
        ({"style-src": ["'self'"], "script-src": ["'self'"]}, "/static/", []),
    ],
)
def test_a_csp_that_blocks_the_banners_files_is_flagged(settings, policy, static_url, warnings):
    settings.SECURE_CSP = policy
    settings.STATIC_URL = static_url

    assert _banner_warnings() == warnings


def test_a_cookie_page_shared_with_decided_visitors_is_flagged(settings):
    settings.SHARED_PAGE_PRIVATE_COOKIES = []

    assert _banner_warnings() == ["consent.W003"]
