"""A minimal other project that uses only the consent app (see test_reuse.py)."""

from django.utils.csp import CSP

SECRET_KEY = "reuse-test-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "consent",
]
MIDDLEWARE = [
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]
ROOT_URLCONF = "tests.consent.reuse.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [__import__("pathlib").Path(__file__).parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
            ]
        },
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
STATIC_URL = "/static/"
USE_TZ = True
SECURE_CSP = {"default-src": [CSP.SELF], "style-src": [CSP.SELF, CSP.NONCE]}
# The cookie page is shared between visitors without a decision (privacy_portal.shared_pages).
SHARED_PAGE_PRIVATE_COOKIES = ["portal_consent"]
SHARED_PAGE_VARY = ["Sec-GPC"]
