"""The portal's admin site: Django's, with a second factor and throttled sign-in.

With ADMIN_REQUIRE_OTP on (the default whenever debug is off) a staff member must sign in
with their password and a TOTP code from an enrolled device (django-otp); a session signed
in with the password alone is treated as not staff. Failed sign-ins are counted per user
name and per address in the shared cache; past the limit the sign-in page answers 429 until
the window ends, and every failure and refusal is logged.
"""

import logging

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm

from consent.visitor import client_ip

from .dashboard_views import dashboard_context
from .ratelimit import rate_limit_count, rate_limit_exceeded, too_many_response

logger = logging.getLogger("privacy_portal.security")

USERNAME_SCOPE = "admin-login-failures:username"
ADDRESS_SCOPE = "admin-login-failures:ip"


class StaffSignInForm(OTPAdminAuthenticationForm):
    """django-otp's admin form, needing no device choice from someone with one device.

    django-otp asks for an explicit device (trying each would count failures against the
    others); with a single enrolled device there is nothing to choose, so the form takes it.
    Someone with several devices is shown the choice after the first attempt.
    """

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        if device is None:
            devices = list(devices_for_user(user, confirmed=True))
            if len(devices) == 1:
                device = devices[0]
        return device


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
    window = _window()
    rate_limit_exceeded(USERNAME_SCOPE, username, limit=0, window=window)
    rate_limit_exceeded(ADDRESS_SCOPE, address, limit=0, window=window)


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
        """Staff, and, where a second factor is required, verified by it in this session."""
        if not super().has_permission(request):
            return False
        return not settings.ADMIN_REQUIRE_OTP or request.user.is_verified()

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if request.method != "POST":
            return super().login(request, extra_context)
        username = str(request.POST.get("username", ""))[:150]
        address = client_ip(request) or "unknown"
        if login_blocked(username=username, address=address):
            logger.warning(
                "admin sign-in refused: too many failures for user name %r or from %s",
                username,
                address,
            )
            return too_many_response(request, window=_window())
        response = super().login(request, extra_context)
        # The login view redirects on success and shows the form again on failure.
        if response.status_code == 200:
            login_failure_count(username=username, address=address)
            logger.warning("admin sign-in failed for user name %r from %s", username, address)
        else:
            logger.info("admin sign-in: %r from %s", username, address)
        return response

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """The admin index, with the DPO's dashboard above the list of models: each part
        only for someone allowed to read what it counts."""
        context = {**(extra_context or {}), **dashboard_context(request.user)}
        return super().index(request, context)
