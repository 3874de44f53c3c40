"""The portal's admin site: Django's, with a second factor, throttled sign-in and sessions
that end.

With ADMIN_REQUIRE_OTP on (the default whenever debug is off) a staff member must sign in
with their password and a TOTP code from an enrolled device (django-otp); a session signed
in with the password alone is treated as not staff. Every failed sign-in gets the same
answer, whichever factor was wrong, so the page is no oracle for guessed passwords. Failed
sign-ins are counted per user name (normalised as the sign-in form normalises it, and
case-folded) and per address (an IPv6 client per /64) in the shared cache; past the limit
the sign-in page answers 429 until the window ends, and every failure and refusal is logged.

A staff session ends ADMIN_SESSION_MAX_HOURS after sign-in however busy, and after
ADMIN_SESSION_IDLE_MINUTES without an admin page: whoever finds an unlocked screen or a
copied cookie the next morning finds the sign-in page.
"""

import logging
import math
import time
import unicodedata

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm

from consent.visitor import client_ip

from .dashboard_views import dashboard_context
from .ratelimit import (
    rate_limit_address,
    rate_limit_count,
    rate_limits_exceeded,
    too_many_response,
)

logger = logging.getLogger("privacy_portal.security")

USERNAME_SCOPE = "admin-login-failures:username"
ADDRESS_SCOPE = "admin-login-failures:ip"
# When this session signed in, and when it last opened an admin page (seconds since the epoch).
SIGNED_IN_KEY = "portal_staff_signed_in_at"
SEEN_KEY = "portal_staff_seen_at"


class StaffSignInForm(OTPAdminAuthenticationForm):
    """django-otp's admin form, answering every failure as a wrong password is answered.

    django-otp tells a right password from a wrong one: it asks for the missing code, names
    the user's devices and puts the password back into the page. Someone guessing passwords
    must learn nothing from the answer, so a failure of either factor is the one
    "wrong user name, password or code" error, and nothing about the user goes back into the
    form. As the device choice can no longer be offered, the code is tried against each of
    the user's confirmed devices (TOTP devices: a miss on one slows that device's next
    attempts a little, by django-otp's throttle, and a match resets it).
    """

    error_messages = {
        **OTPAdminAuthenticationForm.error_messages,
        "invalid_login": _(
            "Please enter the correct %(username)s and password for a staff account, and the "
            "current code from your authenticator app. The %(username)s and password may be "
            "case-sensitive."
        ),
    }

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            self.user_cache = None
            raise self.get_invalid_login_error() from None

    def _update_form(self, user):
        """Nothing: the page after a failure is the same whoever the user name named."""

    def _verify_token(self, user, token, device=None):
        if device is not None:
            return super()._verify_token(user, token, device)
        for candidate in devices_for_user(user, confirmed=True, for_verify=True):
            if candidate.verify_token(token):
                return candidate
        raise ValidationError(self.otp_error_messages["invalid_token"], code="invalid_token")


def login_username_key(username: str) -> str:
    """The user name a failure counts against: NFKC-normalised, as the sign-in form
    normalises it before looking the user up, and case-folded, so `\uff53taffonly` (with a
    fullwidth s) and `STAFFONLY` spend the budget of `staffonly`."""
    return unicodedata.normalize("NFKC", username).casefold().strip()[:150]


def _window() -> int:
    return settings.LOGIN_FAILURE_WINDOW_MINUTES * 60


def login_blocked(*, username: str, address: str) -> bool:
    """True once this user name or this address has used up its failed attempts."""
    window = _window()
    return (
        rate_limit_count(USERNAME_SCOPE, username, window=window)
        >= settings.LOGIN_FAILURES_PER_USERNAME
        or rate_limit_count(ADDRESS_SCOPE, address, window=window) >= settings.LOGIN_FAILURES_PER_IP
    )


def login_failure_count(*, username: str, address: str) -> None:
    hits = [(USERNAME_SCOPE, username, 0), (ADDRESS_SCOPE, address, 0)]
    rate_limits_exceeded(hits, window=_window())


def staff_session_start(request: HttpRequest) -> None:
    """Note when this session signed in; the cookie and the stored session expire with it."""
    now = time.time()
    request.session[SIGNED_IN_KEY] = now
    request.session[SEEN_KEY] = now
    request.session.set_expiry(settings.ADMIN_SESSION_IDLE_MINUTES * 60)


def staff_session_current(request: HttpRequest) -> bool:
    """Whether this staff session is still within its limits; ends it when it is not, and
    otherwise counts this page as activity.

    A session from before these limits (or signed in outside the sign-in page) starts its
    working day at its first admin page.
    """
    session = request.session
    now = time.time()
    signed_in = session.setdefault(SIGNED_IN_KEY, now)
    seen = session.get(SEEN_KEY, now)
    max_age = settings.ADMIN_SESSION_MAX_HOURS * 3600
    idle = settings.ADMIN_SESSION_IDLE_MINUTES * 60
    if now - signed_in >= max_age or now - seen >= idle:
        logger.info("admin session of %r ended (idle or too old)", request.user.get_username())
        logout(request)
        return False
    session[SEEN_KEY] = now
    # The cookie and the stored row expire with the session too (saved on every admin page).
    session.set_expiry(max(1, math.ceil(min(idle, signed_in + max_age - now))))
    return True


class PortalAdminSite(admin.AdminSite):
    site_header = _("Privacy portal administration")
    site_title = _("Privacy portal")
    index_title = _("Privacy portal administration")
    login_template = "admin/portal_login.html"
    index_template = "admin/portal_index.html"

    @property
    def login_form(self) -> type[AdminAuthenticationForm]:
        if settings.ADMIN_REQUIRE_OTP:
            return StaffSignInForm
        return AdminAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        """Staff, where a second factor is required verified by it in this session, and in a
        session that has not outlived its limits."""
        if not super().has_permission(request):
            return False
        if settings.ADMIN_REQUIRE_OTP and not request.user.is_verified():
            return False
        return staff_session_current(request)

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if request.method != "POST":
            return super().login(request, extra_context)
        username = str(request.POST.get("username", ""))[:150]
        counted = {"username": login_username_key(username), "address": rate_limit_address(request)}
        address = client_ip(request) or "unknown"
        if login_blocked(**counted):
            logger.warning(
                "admin sign-in refused: too many failures for user name %r or from %s",
                username,
                address,
            )
            return too_many_response(request, window=_window())
        response = super().login(request, extra_context)
        # The login view redirects on success and shows the form again on failure.
        if response.status_code == 200:
            login_failure_count(**counted)
            logger.warning("admin sign-in failed for user name %r from %s", username, address)
        else:
            staff_session_start(request)
            logger.info("admin sign-in: %r from %s", username, address)
        return response

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """The admin index, with the DPO's dashboard above the list of models: each part
        only for someone allowed to read what it counts."""
        context = {**(extra_context or {}), **dashboard_context(request.user)}
        return super().index(request, context)
