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
}


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
