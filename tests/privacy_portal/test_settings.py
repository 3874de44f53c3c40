"""Settings as a deployment sees them: each test starts a fresh process with its own
environment, so nothing of the test run's configuration leaks in."""

import json
import secrets
from pathlib import Path

import pytest

from privacy_portal.release import code_fingerprint
from tests.conftest import BASE_DIR, run_manage

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "portal.example.com",
    "EMAIL_URL": "smtp+tls://mailer:secret@mail.example.com:587",
    "PERSONAL_DATA_HASH_KEY": secrets.token_urlsafe(40),
    "CACHE_URL": "redis://127.0.0.1:6379/0",
    # The documented deployment: one TLS-terminating proxy in front.
    "DJANGO_TRUSTED_PROXIES": "1",
}
NO_PROXY_ENV = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_TRUSTED_PROXIES"}


def test_check_deploy_is_clean_with_only_the_production_variables():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_defaults_are_https_hsts_and_secure_cookies():
    script = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'ssl': s.SECURE_SSL_REDIRECT, 'hsts': s.SECURE_HSTS_SECONDS, "
        "'preload': s.SECURE_HSTS_PRELOAD, 'session': s.SESSION_COOKIE_SECURE, "
        "'csrf': s.CSRF_COOKIE_SECURE, 'debug': s.DEBUG, "
        "'mailer': s.MAILERS['default']['BACKEND']}))"
    )
    result = run_manage("shell", "-c", script, env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "ssl": True,
        "hsts": 31_536_000,
        "preload": True,
        "session": True,
        "csrf": True,
        "debug": False,
        "mailer": "django.core.mail.backends.smtp.EmailBackend",
    }


def test_missing_secret_key_with_debug_off_fails_with_a_clear_message():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_debug_mode_starts_without_a_secret_key():
    result = run_manage("check", env={"DJANGO_DEBUG": "true"})

    assert result.returncode == 0, result.stderr


def test_missing_email_url_is_reported_by_check_deploy():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "EMAIL_URL"}

    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode != 0
    assert "privacy_portal.W001" in result.stderr


@pytest.mark.parametrize(
    "database_url",
    ["sqlite:////nonexistent-directory/portal.sqlite3", "postgres://nobody@127.0.0.1:9/none"],
)
def test_healthz_is_503_when_the_database_does_not_answer(database_url):
    script = (
        "from django.test import Client; r = Client().get('/healthz'); "
        "print(r.status_code, r.content.decode())"
    )
    env = {
        "DJANGO_DEBUG": "true",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": database_url,
        "DJANGO_LOG_LEVEL": "CRITICAL",
    }

    result = run_manage("shell", "-c", script, env=env)

    assert result.returncode == 0, result.stderr
    status, body = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "503"
    assert json.loads(body) == {"status": "error", "database": "unreachable", "cache": "ok"}


def test_collectstatic_writes_hashed_and_compressed_files(tmp_path: Path):
    env = {**PRODUCTION_ENV, "DJANGO_STATIC_ROOT": str(tmp_path)}

    result = run_manage("collectstatic", "--noinput", "-v0", env=env)

    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())
    hashed = manifest["paths"]["portal/site.css"]
    assert hashed != "portal/site.css"
    assert hashed.startswith("portal/site.")
    assert hashed.endswith(".css")
    assert (tmp_path / hashed).is_file()
    assert (tmp_path / f"{hashed}.gz").is_file()
    assert (tmp_path / f"{hashed}.br").is_file()


def test_export_root_from_the_environment_is_a_usable_path(tmp_path: Path):
    env = {**PRODUCTION_ENV, "EXPORT_ROOT": str(tmp_path / "exports")}
    script = "from django.conf import settings as s; print((s.EXPORT_ROOT / 'x.zip').parent)"

    result = run_manage("shell", "-v0", "-c", script, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(tmp_path / "exports")


def test_the_release_is_the_code_fingerprint_unless_set():
    script = "from django.conf import settings; print(settings.PORTAL_RELEASE)"

    unset = run_manage("shell", "-v0", "-c", script, env=PRODUCTION_ENV)
    given = run_manage(
        "shell", "-v0", "-c", script, env={**PRODUCTION_ENV, "PORTAL_RELEASE": "a1b2c3"}
    )

    assert unset.returncode == 0, unset.stderr
    assert unset.stdout.strip() == code_fingerprint(BASE_DIR)
    assert given.stdout.strip() == "a1b2c3"


# --- Proxies and hosts (issue 13, finding 7) ---------------------------------------------------
FORWARDED = (
    "import json; from django.conf import settings as s; from django.test import Client; "
    "r = Client().get('/i18n/setlang/', HTTP_HOST='portal.example.com', "
    "HTTP_X_FORWARDED_PROTO='https'); "
    "print(json.dumps({'header': s.SECURE_PROXY_SSL_HEADER, 'proxies': s.CONSENT_TRUSTED_PROXIES, "
    "'redirected': r.status_code == 301 and r.headers['Location'].startswith('https://')}))"
)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (NO_PROXY_ENV, {"header": None, "proxies": 0, "redirected": True}),
        (
            {**NO_PROXY_ENV, "DJANGO_TRUSTED_PROXIES": "0"},
            {"header": None, "proxies": 0, "redirected": True},
        ),
        (
            PRODUCTION_ENV,
            {"header": ["HTTP_X_FORWARDED_PROTO", "https"], "proxies": 1, "redirected": False},
        ),
        (
            {**PRODUCTION_ENV, "DJANGO_TRUSTED_PROXIES": "2"},
            {"header": ["HTTP_X_FORWARDED_PROTO", "https"], "proxies": 2, "redirected": False},
        ),
    ],
    ids=["undeclared", "none", "one proxy", "two proxies"],
)
def test_forwarded_headers_are_trusted_only_from_a_declared_proxy(env, expected):
    result = run_manage(
        "shell", "-v0", "-c", FORWARDED, env={**env, "DJANGO_LOG_LEVEL": "CRITICAL"}
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == expected


def test_check_deploy_says_what_to_set_when_no_proxy_is_declared():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=NO_PROXY_ENV)

    assert result.returncode != 0
    assert "privacy_portal.W004" in result.stderr
    assert "DJANGO_TRUSTED_PROXIES" in result.stderr


def test_check_deploy_is_clean_when_serving_clients_directly():
    env = {**NO_PROXY_ENV, "DJANGO_TRUSTED_PROXIES": "0"}

    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("hosts", ["*", "portal.example.com,*", "*.example.com"])
def test_a_wildcard_allowed_host_is_refused_in_production(hosts):
    result = run_manage("check", env={**PRODUCTION_ENV, "DJANGO_ALLOWED_HOSTS": hosts})

    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS" in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_a_wildcard_allowed_host_is_fine_for_development():
    result = run_manage("check", env={"DJANGO_DEBUG": "true", "DJANGO_ALLOWED_HOSTS": "*"})

    assert result.returncode == 0, result.stderr


BASE_URL = "from django.conf import settings; print(settings.PORTAL_BASE_URL)"


@pytest.mark.parametrize(
    ("extra", "base_url"),
    [
        (
            {"DJANGO_ALLOWED_HOSTS": ".example.com,privacy.example.com"},
            "https://privacy.example.com",
        ),
        (
            {
                "DJANGO_ALLOWED_HOSTS": ".example.com",
                "PORTAL_BASE_URL": "https://privacy.example.com/",
            },
            "https://privacy.example.com",
        ),
    ],
)
def test_mail_links_start_with_a_real_host(extra, base_url):
    result = run_manage("shell", "-v0", "-c", BASE_URL, env={**PRODUCTION_ENV, **extra})

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == base_url


def test_a_subdomain_pattern_alone_needs_the_base_url_set():
    env = {**PRODUCTION_ENV, "DJANGO_ALLOWED_HOSTS": ".example.com"}

    result = run_manage("shell", "-v0", "-c", BASE_URL, env=env)

    assert result.returncode != 0
    assert "PORTAL_BASE_URL" in result.stderr
