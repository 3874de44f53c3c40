"""Registration pages and the parent's pages. The answers never say why a visitor is
sent to the parental flow, and links that are bad, old, or for data already deleted get a
plain 4xx page."""

import functools
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from privacy_portal.forms import posted
from privacy_portal.links import LinkError
from privacy_portal.ratelimit import rate_limit_request, too_many_response
from privacy_portal.views import bad_link_response
from requests_app.selectors import purposes_by_slug

from . import registration as flow
from .ages import coming_of_age_date
from .models import Registration
from .registration_forms import (
    OwnConsentForm,
    ParentDecisionForm,
    ParentEmailForm,
    RegistrationForm,
)

GET_POST = ["GET", "HEAD", "POST"]


def _redirect(name: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse(f"registration:{name}"), status=HTTPStatus.SEE_OTHER)


@require_http_methods(GET_POST)
def register(request: HttpRequest) -> HttpResponse:
    form = RegistrationForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if rate_limit_request(
            request,
            "register",
            per_ip=settings.REGISTER_RATE_PER_IP,
            email=data["email"],
            per_email=settings.REGISTER_RATE_PER_EMAIL,
        ):
            return too_many_response(request)
        if form.is_bot():
            return _redirect("sent")
        screen = flow.age_screen(
            session=request.session,
            name=data["name"],
            country=data["country"],
            birth_date=data["date_of_birth"],
        )
        if screen.child:
            return _redirect("parent")
        flow.registration_submit(
            name=data["name"],
            email=data["email"],
            country=data["country"],
            interests=data["interests"],
            marketing_choices=form.marketing_choices(),
            language=get_language(),
        )
        return _redirect("sent")
    context = {"form": form, "purpose": purposes_by_slug().get(flow.REGISTRATION_PURPOSE)}
    status = HTTPStatus.BAD_REQUEST if form.is_bound else HTTPStatus.OK
    return render(request, "consent/register.html", context, status=status)


@require_safe
def register_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request, "consent/register_sent.html", {"days": settings.REGISTRATION_CONFIRM_DAYS}
    )


@require_http_methods(GET_POST)
def register_parent(request: HttpRequest) -> HttpResponse:
    """The step a child is sent to: the address of a parent to ask."""
    remembered = request.session.get(flow.SCREEN_KEY)
    if not remembered or "first_name" not in remembered:  # not screened, or parent asked
        return _redirect("register")
    form = ParentEmailForm(posted(request))
    if request.method == "POST" and form.is_valid():
        if rate_limit_request(
            request,
            "register-parent",
            per_ip=settings.REGISTER_RATE_PER_IP,
            email=form.cleaned_data["parent_email"],
            per_email=settings.REGISTER_RATE_PER_EMAIL,
        ):
            return too_many_response(request)
        if not form.is_bot():
            flow.parental_consent_request(
                screen=flow.Screen(child=True, **remembered),
                parent_email=form.cleaned_data["parent_email"],
                language=get_language(),
            )
        flow.age_screen_done(session=request.session)
        return _redirect("parent-sent")
    context = {"form": form, "first_name": remembered["first_name"]}
    status = HTTPStatus.BAD_REQUEST if form.is_bound else HTTPStatus.OK
    return render(request, "consent/register_parent.html", context, status=status)


@require_safe
def register_parent_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request, "consent/register_parent_sent.html", {"days": settings.PARENTAL_CONSENT_DAYS}
    )


def from_link(kind: str):
    """Resolve the token of a mailed link into its registration; a bad, old or used-up link
    gets the plain 4xx page instead of the view."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request: HttpRequest, token: str) -> HttpResponse:
            try:
                registration = flow.registration_from_link(kind, token)
            except LinkError as error:
                return bad_link_response(request, expired=error.expired)
            return view(request, registration)

        return wrapper

    return decorator


@never_cache
@require_http_methods(GET_POST)
@from_link(flow.CONFIRM)
def register_confirm(request: HttpRequest, registration: Registration) -> HttpResponse:
    if request.method == "POST" and registration.status == Registration.Status.AWAITING_EMAIL:
        registration = flow.registration_confirm(registration=registration, http_request=request)
    return render(request, "consent/register_confirm.html", {"registration": registration})


def _parent_context(registration: Registration) -> dict:
    purposes = purposes_by_slug()
    return {
        "registration": registration,
        "purpose": purposes.get(flow.PARENTAL_PURPOSE),
        "registration_purpose": purposes.get(flow.REGISTRATION_PURPOSE),
        "coming_of_age": coming_of_age_date(registration.birth_year, registration.country),
    }


@never_cache
@require_http_methods(GET_POST)
@from_link(flow.PARENT)
def parental_consent(request: HttpRequest, registration: Registration) -> HttpResponse:
    """The parent sees exactly what would be kept and why, and consents or declines."""
    if registration.status != Registration.Status.AWAITING_PARENT:
        return render(request, "consent/parental_answered.html", {"registration": registration})
    form = ParentDecisionForm(posted(request))
    status = HTTPStatus.OK
    if request.method == "POST" and form.is_valid():
        consents = request.POST.get("decision") == "consent"
        try:
            flow.parental_consent_decide(
                registration=registration,
                consents=consents,
                is_guardian=form.cleaned_data["is_guardian"],
            )
        except ValidationError as error:
            form.add_error("is_guardian", error)
            status = HTTPStatus.BAD_REQUEST
        else:
            template = (
                "consent/parental_consented.html" if consents else "consent/parental_declined.html"
            )
            return render(request, template, {"registration": registration})
    return render(
        request,
        "consent/parental_consent.html",
        {**_parent_context(registration), "form": form},
        status=status,
    )


@never_cache
@require_http_methods(GET_POST)
@from_link(flow.MANAGE)
def parental_manage(request: HttpRequest, registration: Registration) -> HttpResponse:
    """From the confirmation mail: the child's data, and a way to revoke consent."""
    if not (registration.is_child and registration.status == Registration.Status.ACTIVE):
        # Not consented yet, or the child came of age: the parent's consent does not apply.
        return render(request, "consent/parental_answered.html", {"registration": registration})
    if request.method == "POST" and request.POST.get("revoke") == "yes":
        flow.parental_consent_revoke(registration=registration)
        return render(request, "consent/parental_revoked.html")
    return render(request, "consent/parental_manage.html", _parent_context(registration))


@never_cache
@require_http_methods(GET_POST)
@from_link(flow.OWN_CONSENT)
def own_consent(request: HttpRequest, registration: Registration) -> HttpResponse:
    """A young person who came of age confirms their own consent (or lets it lapse)."""
    if registration.status != Registration.Status.AWAITING_OWN_CONSENT:
        return render(request, "consent/parental_answered.html", {"registration": registration})
    form = OwnConsentForm(posted(request))
    if request.method == "POST" and form.is_valid():
        flow.registration_own_consent(registration=registration, email=form.cleaned_data["email"])
        return render(
            request, "consent/register_sent.html", {"days": settings.REGISTRATION_CONFIRM_DAYS}
        )
    status = HTTPStatus.BAD_REQUEST if form.is_bound else HTTPStatus.OK
    return render(
        request,
        "consent/own_consent.html",
        {"registration": registration, "form": form},
        status=status,
    )
