"""Consent endpoints: record a decision, the receipt, the cookie page."""

import json
from functools import lru_cache
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from privacy_portal.origin import cross_origin_protected
from privacy_portal.shared_pages import shared_page

from . import conf
from .banner import SCOPE_ALL, banner_build, banner_for, ga_config
from .configuration import configuration_current
from .cookies import consent_cookie_read, consent_cookie_set, ga_cookies_delete
from .csp import google_allowed
from .forms import ConsentChoiceInvalid, consent_choice_clean
from .receipts import consent_receipt
from .selectors import consent_latest_record
from .services import consent_record
from .visitor import ip_prefix, user_agent


class BadChoice(Exception):
    def __init__(self, status: HTTPStatus, message: str, fields: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.fields = status, message, fields or {}


def _wants_json(request: HttpRequest) -> bool:
    return request.content_type == "application/json" or "application/json" in request.META.get(
        "HTTP_ACCEPT", ""
    )


def _choice_data(request: HttpRequest):
    limit = conf.get("CONSENT_MAX_BODY_BYTES")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise BadChoice(HTTPStatus.BAD_REQUEST, _("Invalid Content-Length.")) from None
    if length > limit:
        raise BadChoice(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            _("The request is too large (at most %(limit)d bytes).") % {"limit": limit},
        )
    if request.content_type != "application/json":
        return request.POST
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise BadChoice(HTTPStatus.BAD_REQUEST, _("The request body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise BadChoice(HTTPStatus.BAD_REQUEST, _("The request body must be a JSON object."))
    return data


def _error(request: HttpRequest, error: BadChoice) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"error": error.message, "fields": error.fields}, status=error.status)
    context = {"message": error.message, "fields": error.fields}
    return render(request, "consent/error.html", context, status=error.status)


def _safe_next(request: HttpRequest, target: str) -> str:
    # A plain path ("/privacy/", not "//host" or "/\\host") is safe whatever the host, so
    # the common case skips validating the Host header against ALLOWED_HOSTS again.
    path = target.startswith("/") and not target.startswith(("//", "/\\"))
    allowed_hosts = set() if path else {request.get_host()}
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts=allowed_hosts, require_https=request.is_secure()
    ):
        return target
    return "/"


@lru_cache(maxsize=8)
def _receipt_url(urlconf: str | None, prefix: str) -> str:
    # Reversed once per URLconf and script prefix (reverse() is slow for a hot path).
    return reverse("consent:receipt")


@never_cache
@require_POST
@cross_origin_protected  # the banner's form carries no token: its pages are shared
def decide(request: HttpRequest) -> HttpResponse:
    """Record a cookie decision: JSON for the module, 303 back to the page for a form."""
    try:
        data = _choice_data(request)
        configuration = configuration_current(get_language())
        choice = consent_choice_clean(data, configuration=configuration)
    except ConsentChoiceInvalid as invalid:
        status = HTTPStatus.CONFLICT if invalid.stale else HTTPStatus.BAD_REQUEST
        return _error(request, BadChoice(status, str(invalid), invalid.errors))
    except BadChoice as error:
        return _error(request, error)

    banner = banner_for(request, scope=choice.scope)
    decision = consent_record(
        banner=banner,
        action=choice.action,
        requested=choice.categories,
        ip_prefix=ip_prefix(request),
        user_agent=user_agent(request),
    )
    state = decision.state
    target = _safe_next(request, choice.next)
    if _wants_json(request):
        after = banner_build(
            configuration=banner.configuration,
            state=state,
            gpc=banner.gpc,
            language=banner.language,
        )
        response = JsonResponse(
            {
                "consentId": str(state.consent_id),
                "action": decision.record.action,
                "categories": state.states,
                "recorded": decision.created,
                "gpc": state.gpc,
                "receipt": _receipt_url(get_urlconf(), get_script_prefix()),
                # The page the module runs in allowed Google's hosts in its CSP only if
                # this visitor had not refused analytics before: else from the next page.
                "ga": ga_config(state) if google_allowed(banner.state) else None,
                "prompt": after.prompt.needed,
                "message": _("Your choices have been saved."),
                # The banner to show in place of the one just answered when something still
                # needs a decision (e.g. after a GPC signal); else the module asks for it
                # (consent:banner) only if the visitor reopens the settings.
                "banner": after.html(request, next_url=target) if after.prompt.needed else None,
            }
        )
    else:
        response = HttpResponseRedirect(target, status=HTTPStatus.SEE_OTHER)
    consent_cookie_set(response, state)
    if not state.granted("analytics"):
        ga_cookies_delete(request, response)
    return response


@never_cache
@require_safe
def banner(request: HttpRequest) -> JsonResponse:
    """The banner for this visitor as it is now, for the module to show when the visitor
    reopens their cookie settings on a page where they have decided since it loaded (the
    module posts it by fetch, so its form's return address is never followed)."""
    return JsonResponse({"banner": banner_for(request).html(request, next_url="/")})


@never_cache
@require_safe
def receipt(request: HttpRequest) -> JsonResponse:
    """The visitor's own consent receipt, as a JSON download."""
    state = consent_cookie_read(request)
    record = consent_latest_record(consent_id=state.consent_id) if state else None
    if record is None:
        return JsonResponse(
            {"error": _("No cookie decision has been recorded in this browser.")},
            status=HTTPStatus.NOT_FOUND,
        )
    configuration = configuration_current(get_language())
    body = consent_receipt(request=request, record=record, configuration=configuration)
    response = JsonResponse(body, json_dumps_params={"indent": 2})
    filename = f"consent-receipt-{record.receipt_id}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_safe
@shared_page
def cookies(request: HttpRequest) -> HttpResponse:
    """The cookie declaration and the settings form (works without JavaScript)."""
    banner = banner_for(request, scope=SCOPE_ALL)
    context = {
        "settings_form": banner.html(request, inline=True),
        "configuration": banner.configuration,
        "state": banner.state,
    }
    return render(request, "consent/cookies.html", context)
