"""Settings for the test suite: the project's settings with development defaults.

The environment still decides the database (DATABASE_URL), so the same suite runs on
SQLite and PostgreSQL. A developer's `.env` is ignored so that tests see only what the
test run sets.
"""

import os

os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ["DJANGO_ENV_FILE"] = os.devnull

from privacy_portal.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Static files are served from the finders in tests; no collectstatic manifest is needed.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
