"""Settings for the privacy portal.

This is the one place that reads the environment (django-environ). Production needs no
edits here: every value comes from an environment variable documented in `.env.example`.
Development conveniences (a throw-away secret key, console e-mail, local hosts) apply only
when `DJANGO_DEBUG` is true; with debug off, HTTPS, HSTS and secure cookies are the default
and a missing secret key (or a `*` in the allowed hosts) stops start-up with a clear message.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from privacy_portal.release import code_fingerprint

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local `.env` is read when present; real environment variables always win.
# DJANGO_ENV_FILE lets tests and deployments point elsewhere (or at /dev/null).
_env_file = Path(env.str("DJANGO_ENV_FILE", default=str(BASE_DIR / ".env")))
if _env_file.is_file():
    env.read_env(_env_file)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. With DJANGO_DEBUG off the portal refuses to start "
            "without a secret key: set DJANGO_SECRET_KEY to a long random value (for example "
            "the output of `python -c 'import secrets; print(secrets.token_urlsafe(50))'`), "
            "or set DJANGO_DEBUG=true for local development."
        )
    # Development only: never used when debug is off (see the check above).
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [],
)
if not DEBUG and any("*" in host for host in ALLOWED_HOSTS):
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS contains a wildcard (*). With DJANGO_DEBUG off the portal refuses "
        "to start with it: it would answer to any Host header a client sends. List the host "
        "names it serves, e.g. DJANGO_ALLOWED_HOSTS=privacy.example.com (.example.com allows "
        "example.com and its subdomains)."
    )
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Django's admin with the portal's site: a second factor and throttled sign-in.
    "privacy_portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # WhiteNoise serves static files under runserver too, exactly as in production.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "django_countries",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "privacy_portal",
    "consent",
    "requests_app",
]

MIDDLEWARE = [
    # A new visitor's first visit answered from this process's copy, like a static file:
    # first, so the copy carries every header the stack below added (an HTTP request to an
    # HTTPS-only site is redirected below and never stored).
    "privacy_portal.shared_pages.SharedPageMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Google's analytics hosts, for visitors who have not refused analytics (consent/csp.py).
    "consent.csp.AnalyticsCspMiddleware",
    "privacy_portal.security.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF, so refused attempts are counted too.
    "privacy_portal.ratelimit.RateLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # The signed-in user, its second factor, the audit log and messages: under /admin/ only
    # (no public page reads them; privacy_portal/admin_middleware.py).
    "privacy_portal.admin_middleware.AdminAuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "privacy_portal.audit.StaffAuditMiddleware",
    "privacy_portal.admin_middleware.AdminMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it sees a view's exception first: the database being away is a friendly 503.
    "privacy_portal.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "privacy_portal.urls"
WSGI_APPLICATION = "privacy_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "privacy_portal.context_processors.portal",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# SQLite in the project folder unless DATABASE_URL says otherwise (e.g. postgres://...).
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
# A connection the server ended (a restart, a fail-over) is replaced before a request uses
# it. On PostgreSQL the portal's backend checks the socket for that, without a round trip
# (privacy_portal/postgresql/base.py); a server that vanished without closing its
# connections fails one request per process (the 503 page) before they are replaced.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "privacy_portal.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------
# Per-process memory by default; set CACHE_URL=redis://... to share the cache (and the rate
# limits built on it) between processes and servers.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://privacy-portal")}
# django-environ lower-cases the URL's options for Django's Redis backend, base options
# included, which Django then ignores: `redis://...?key_prefix=portal2` (two portals on one
# Redis) must reach the cache as KEY_PREFIX.
for _option in ("key_prefix", "timeout", "version"):
    if _option in CACHES["default"]:
        CACHES["default"][_option.upper()] = CACHES["default"].pop(_option)
# Redis through the portal's backend: short timeouts, and this process's memory answers while
# Redis is away, so its outage fails no request (privacy_portal/shared_cache.py).
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "privacy_portal.shared_cache.RedisCache"

# --- E-mail (Django 6.1 mailers) --------------------------------------------------------------
_email_url = env.str("EMAIL_URL", default="consolemail://" if DEBUG else "")
EMAIL_URL_CONFIGURED = bool(_email_url)
_email = env.email_url_config(_email_url or "smtp://localhost:25")
_mailer_options = {
    option: _email[key]
    for option, key in [
        ("host", "EMAIL_HOST"),
        ("port", "EMAIL_PORT"),
        ("username", "EMAIL_HOST_USER"),
        ("password", "EMAIL_HOST_PASSWORD"),
        ("use_tls", "EMAIL_USE_TLS"),
        ("use_ssl", "EMAIL_USE_SSL"),
        ("file_path", "EMAIL_FILE_PATH"),
    ]
    if _email.get(key) not in (None, "")
}
if _email["EMAIL_BACKEND"].endswith(".smtp.EmailBackend"):
    _mailer_options.setdefault("timeout", env.int("EMAIL_TIMEOUT", default=10))
MAILERS = {"default": {"BACKEND": _email["EMAIL_BACKEND"], "OPTIONS": _mailer_options}}

# --- The portal -----------------------------------------------------------------------------
PORTAL_COMPANY_NAME = env.str("PORTAL_COMPANY_NAME", default="Example Company")
DPO_EMAIL = env.str("DPO_EMAIL", default="dpo@example.com")
GA_MEASUREMENT_ID = env.str("GA_MEASUREMENT_ID", default="")
DEFAULT_FROM_EMAIL = env.str(
    "DJANGO_DEFAULT_FROM_EMAIL", default=f"{PORTAL_COMPANY_NAME} <{DPO_EMAIL}>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Changes with every deployment (set it to the release's commit); it is part of the cache
# keys of rendered policies, so a new release never serves an old rendering. Unset, it is a
# fingerprint of the code itself.
PORTAL_RELEASE = env.str("PORTAL_RELEASE", default="") or code_fingerprint(BASE_DIR)

# --- Security -------------------------------------------------------------------------------
# With debug off these default to the secure choice; each can be turned off explicitly
# (for example DJANGO_SECURE_SSL_REDIRECT=false when the proxy already redirects).
_https = not DEBUG
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=_https)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=_https)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=_https)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=_https)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# The proxies in front of the app that append the client's address to X-Forwarded-For
# (usually one, the TLS-terminating proxy of the documented deployment). Unset or 0 means
# none: the app faces its clients, whose X-Forwarded-For and X-Forwarded-Proto are their own
# word and ignored (a rotated X-Forwarded-For would otherwise escape every per-IP limit).
# Unset, `check --deploy` asks for it (privacy_portal.W004); None here means undeclared.
TRUSTED_PROXIES = env.int("DJANGO_TRUSTED_PROXIES", default=None)
# A declared proxy terminates TLS and says so in X-Forwarded-Proto, so its word is taken;
# DJANGO_BEHIND_TLS_PROXY=false for proxies that do not set the header.
if env.bool("DJANGO_BEHIND_TLS_PROXY", default=bool(TRUSTED_PROXIES)):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# Forms carry the token in a field, so no script needs the cookie. (The banner and the language
# switch carry none: they are checked by origin, privacy_portal/origin.py.)
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Features no page of the portal uses are switched off for it and anything it embeds.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
}

# Staff sign-in: a second factor (TOTP, django-otp) is required whenever debug is off.
# Enrol a device with `manage.py totp_enroll <username>`.
ADMIN_REQUIRE_OTP = env.bool("ADMIN_REQUIRE_OTP", default=not DEBUG)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Privacy portal")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Failed admin sign-ins per user name and per address in LOGIN_FAILURE_WINDOW_MINUTES; one
# more attempt is answered 429 (and logged) until the window ends.
LOGIN_FAILURES_PER_USERNAME = env.int("LOGIN_FAILURES_PER_USERNAME", default=5)
LOGIN_FAILURES_PER_IP = env.int("LOGIN_FAILURES_PER_IP", default=20)
LOGIN_FAILURE_WINDOW_MINUTES = env.int("LOGIN_FAILURE_WINDOW_MINUTES", default=15)
# A staff session ends this long after sign-in however busy, and sooner after this long
# without an admin page (privacy_portal.admin_site). Public pages create no session (but
# for the registration's age screen), so the first visit never touches the session table.
ADMIN_SESSION_MAX_HOURS = env.int("ADMIN_SESSION_MAX_HOURS", default=10)
ADMIN_SESSION_IDLE_MINUTES = env.int("ADMIN_SESSION_IDLE_MINUTES", default=30)

# Per-minute limits per client address, counted in the cache (share it with CACHE_URL):
# every public POST, every page opened from a mailed link, and cookie decisions.
RATE_LIMIT_POST_PER_MINUTE = env.int("RATE_LIMIT_POST_PER_MINUTE", default=30)
RATE_LIMIT_TOKEN_PER_MINUTE = env.int("RATE_LIMIT_TOKEN_PER_MINUTE", default=30)
RATE_LIMIT_CONSENT_PER_MINUTE = env.int("RATE_LIMIT_CONSENT_PER_MINUTE", default=120)
RATE_LIMIT_UNSUBSCRIBE_PER_MINUTE = env.int("RATE_LIMIT_UNSUBSCRIBE_PER_MINUTE", default=600)

# Django's own CSP; nothing inline is allowed. The public pages use no nonce (the banner's
# style and module are static files), so the header is the same for every new visitor; the
# nonce is there for the admin's templates. Google's analytics hosts are added per response,
# only when GA_MEASUREMENT_ID is configured and the visitor has not refused analytics
# (consent.csp.AnalyticsCspMiddleware).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
CSRF_FAILURE_VIEW = "privacy_portal.views.csrf_failure"

# --- Background tasks (django.tasks) ---------------------------------------------------------
# Development runs tasks at once in the web process; production keeps them in the database
# for `manage.py db_worker`, so a slow or failing mail server never holds up a page.
_TASK_BACKENDS = {
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
}
TASKS = {
    "default": {
        "BACKEND": _TASK_BACKENDS[
            env.str("TASKS_BACKEND", default="immediate" if DEBUG else "database")
        ]
    }
}
# Outgoing mail is kept in an outbox and retried with growing pauses until it is delivered.
EMAIL_MAX_ATTEMPTS = env.int("EMAIL_MAX_ATTEMPTS", default=12)
# The first pause; each later one doubles (the fault scenarios in bench/ shorten it).
EMAIL_RETRY_SECONDS = env.int("EMAIL_RETRY_SECONDS", default=60)

# Absolute links in e-mails (verification, status, download) start with this. Without debug
# the default is the first allowed host that names one host (never a .example.com pattern).
_hosts = [host for host in ALLOWED_HOSTS if not host.startswith(".")]
if ALLOWED_HOSTS and not _hosts and not DEBUG and not env.str("PORTAL_BASE_URL", default=""):
    raise ImproperlyConfigured(
        "PORTAL_BASE_URL is not set and DJANGO_ALLOWED_HOSTS names no single host to take it "
        "from (a pattern like .example.com is no address for links in e-mails). Set "
        "PORTAL_BASE_URL, e.g. https://privacy.example.com, or add that host to "
        "DJANGO_ALLOWED_HOSTS."
    )
PORTAL_BASE_URL = env.str(
    "PORTAL_BASE_URL",
    default="http://127.0.0.1:8000" if DEBUG else f"https://{(_hosts or ['localhost'])[0]}",
).rstrip("/")

# --- Data-subject requests ------------------------------------------------------------------
# An unverified request is deleted after this many days (purge_expired).
REQUEST_VERIFY_DAYS = env.int("REQUEST_VERIFY_DAYS", default=3)
# Submissions per hour (the cache counts them: share it between processes with CACHE_URL).
REQUEST_RATE_PER_IP = env.int("REQUEST_RATE_PER_IP", default=10)
REQUEST_RATE_PER_EMAIL = env.int("REQUEST_RATE_PER_EMAIL", default=3)
CONTACT_RATE_PER_IP = env.int("CONTACT_RATE_PER_IP", default=10)
CONTACT_RATE_PER_EMAIL = env.int("CONTACT_RATE_PER_EMAIL", default=5)
# The access export's download link (and the file) lasts this many days.
EXPORT_LINK_DAYS = env.int("EXPORT_LINK_DAYS", default=14)
# Access exports are written here: outside the static and media paths, never served directly.
EXPORT_ROOT = Path(env.str("EXPORT_ROOT", default=str(BASE_DIR / "var" / "exports")))
# Keyed hashes of erased e-mail addresses (so an erased person is still recognised, never
# readable) use this secret; it must stay the same for the life of the data.
PERSONAL_DATA_HASH_KEY = env.str("PERSONAL_DATA_HASH_KEY", default=SECRET_KEY)

# Retention periods in months, by rule (see each app's personal_data.RETENTION), e.g.
# RETENTION_MONTHS=contact-messages=12,closed-requests=60. The register of processing shows
# people the periods in force; purge_expired enforces them.
RETENTION_MONTHS = {
    rule: int(months) for rule, months in env.dict("RETENTION_MONTHS", default={}).items()
}

# --- Registration, children and marketing ----------------------------------------------------
# "opt_in" (the EU-safe default: every marketing choice starts unticked) or "opt_out".
MARKETING_DEFAULT = env.str("MARKETING_DEFAULT", default="opt_in")
# The age of digital consent when a country is not in consent.ages.DIGITAL_CONSENT_AGES.
DIGITAL_CONSENT_AGE_DEFAULT = env.int("DIGITAL_CONSENT_AGE_DEFAULT", default=16)
# Days a parent has to answer, and a registrant to confirm their address.
PARENTAL_CONSENT_DAYS = env.int("PARENTAL_CONSENT_DAYS", default=7)
REGISTRATION_CONFIRM_DAYS = env.int("REGISTRATION_CONFIRM_DAYS", default=3)
# Days a young person who came of age has to confirm their own consent.
OWN_CONSENT_DAYS = env.int("OWN_CONSENT_DAYS", default=30)
# Days the preference-centre link works.
PREFERENCES_LINK_DAYS = env.int("PREFERENCES_LINK_DAYS", default=7)
PREFERENCES_RATE_PER_IP = env.int("PREFERENCES_RATE_PER_IP", default=10)
PREFERENCES_RATE_PER_EMAIL = env.int("PREFERENCES_RATE_PER_EMAIL", default=3)
REGISTER_RATE_PER_IP = env.int("REGISTER_RATE_PER_IP", default=10)
REGISTER_RATE_PER_EMAIL = env.int("REGISTER_RATE_PER_EMAIL", default=3)

# --- Consent (cookie banner and consent log) -------------------------------------------------
CONSENT_COOKIE_NAME = "portal_consent"
# Pages every new visitor shares (privacy_portal.shared_pages): a request carrying a session
# or one of these cookies is a known visitor and gets private pages; besides the language,
# the pages vary by these request headers (the banner honours Global Privacy Control).
SHARED_PAGE_PRIVATE_COOKIES = [CONSENT_COOKIE_NAME]
SHARED_PAGE_VARY = ["Sec-GPC"]
CONSENT_MAX_AGE_DAYS = env.int("CONSENT_MAX_AGE_DAYS", default=365)
CONSENT_REFUSAL_REASK_DAYS = env.int("CONSENT_REFUSAL_REASK_DAYS", default=180)
CONSENT_POLICY_PROVIDER = "privacy_portal.selectors.policy_info_for_consent"
CONSENT_JURISDICTION = env.str("CONSENT_JURISDICTION", default="EU")
# A decision's record is kept while it can apply and this many years longer as proof.
CONSENT_PROOF_YEARS = env.int("CONSENT_PROOF_YEARS", default=3)
# Whose X-Forwarded-For entry is the client's address (see TRUSTED_PROXIES above).
CONSENT_TRUSTED_PROXIES = TRUSTED_PROXIES or 0

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("de", _("German"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The switcher's cookie: for the visit only (declared as strictly necessary), like the others
# Secure in production, SameSite and out of reach of scripts.
LANGUAGE_COOKIE_AGE = None
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names (cache forever) plus gzip and brotli copies, served by WhiteNoise.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    # One line per task start and end is noise at INFO; failures still show.
    "loggers": {"django.tasks": {"level": "WARNING"}},
}
