"""The preference centre and one-click unsubscribe (RFC 8058)."""

from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from privacy_portal.forms import posted
from privacy_portal.links import LinkError
from privacy_portal.ratelimit import rate_limit_request, too_many_response
from privacy_portal.views import bad_link_response

from . import preferences as service
from .marketing import MarketingPurpose
from .preferences_forms import PreferenceCentreForm, PreferencesLinkForm
from .visitor import gpc_signal

GET_POST = ["GET", "HEAD", "POST"]


@require_http_methods(GET_POST)
def preferences_request(request: HttpRequest) -> HttpResponse:
    """Ask for a link. The answer is the same, in the same time, whether or not the address
    is known."""
    form = PreferencesLinkForm(posted(request))
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if rate_limit_request(
            request,
            "preferences",
            per_ip=settings.PREFERENCES_RATE_PER_IP,
            email=email,
            per_email=settings.PREFERENCES_RATE_PER_EMAIL,
        ):
            return too_many_response(request)
        if not form.cleaned_data["website"]:
            # The look-up and the mail happen in a task: known or not, the answer is the same
            # and takes the same time.
            service.preferences_link_request(email=email)
        return HttpResponseRedirect(reverse("preferences:sent"), status=HTTPStatus.SEE_OTHER)
    status = HTTPStatus.BAD_REQUEST if form.is_bound else HTTPStatus.OK
    return render(request, "consent/preferences_request.html", {"form": form}, status=status)


@require_safe
def preferences_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request, "consent/preferences_sent.html", {"days": settings.PREFERENCES_LINK_DAYS}
    )


@never_cache
@require_http_methods(GET_POST)
def preference_centre(request: HttpRequest, token: str) -> HttpResponse:
    try:
        preference = service.preference_from_centre_link(token)
    except LinkError as error:
        return bad_link_response(request, expired=error.expired)
    if gpc_signal(request):
        # An identified visitor sends Global Privacy Control: no sharing, honoured at once.
        service.marketing_preferences_set(
            preference=preference,
            changes={purpose.value: False for purpose in service.SHARING},
            actor=service.Actor.GPC,
        )
        preference.refresh_from_db()
    form = PreferenceCentreForm(posted(request), preference=preference)
    saved = False
    if request.method == "POST" and form.is_valid():
        choices = form.choices()
        if gpc_signal(request):
            choices.update({purpose.value: False for purpose in service.SHARING})
        service.marketing_preferences_set(
            preference=preference, changes=choices, actor=service.Actor.PERSON
        )
        preference.refresh_from_db()
        form = PreferenceCentreForm(preference=preference)
        saved = True
    context = {"form": form, "preference": preference, "saved": saved, "gpc": gpc_signal(request)}
    return render(request, "consent/preference_centre.html", context)


@never_cache
@csrf_exempt  # RFC 8058: a mail client posts it with no page, no session and no token
@require_http_methods(GET_POST)
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks to confirm (link scanners change nothing); POST unsubscribes at once."""
    try:
        preference, purpose = service.preference_from_unsubscribe_link(token)
    except LinkError as error:
        return bad_link_response(request, expired=error.expired)
    label = MarketingPurpose(purpose).label
    if request.method == "POST":
        service.marketing_preferences_set(
            preference=preference, changes={purpose: False}, actor=service.Actor.UNSUBSCRIBE
        )
        return render(request, "consent/unsubscribed.html", {"label": label})
    return render(request, "consent/unsubscribe.html", {"label": label})
