"""Public pages of the request queue and the contact form. Answers never reveal whether an
address is known; bad or expired links get a plain 4xx page."""

from http import HTTPStatus

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from privacy_portal.forms import posted
from privacy_portal.ratelimit import rate_limit_request, too_many_response
from privacy_portal.views import bad_link_response

from . import tokens
from .forms import KIND_HELP, ContactForm, RequestForm
from .selectors import purposes_by_slug, request_from_token, request_public_events
from .services import (
    contact_message_submit,
    request_download_url,
    request_submit,
    request_verify,
)


def _bad_link(request: HttpRequest, error: tokens.TokenError) -> HttpResponse:
    return bad_link_response(request, expired=error.expired)


@require_http_methods(["GET", "HEAD", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    form = RequestForm(posted(request))
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if rate_limit_request(
            request,
            "request",
            per_ip=settings.REQUEST_RATE_PER_IP,
            email=email,
            per_email=settings.REQUEST_RATE_PER_EMAIL,
        ):
            return too_many_response(request)
        if not form.is_bot():
            request_submit(
                kind=form.cleaned_data["kind"],
                name=form.cleaned_data["name"],
                email=email,
                details=form.cleaned_data["details"],
                language=get_language(),
            )
        # The same answer whether or not we know the address (or caught a bot).
        return HttpResponseRedirect(
            reverse("requests_app:request-sent"), status=HTTPStatus.SEE_OTHER
        )
    context = {
        "form": form,
        "kind_help": KIND_HELP,
        "purpose": purposes_by_slug().get("data-subject-requests"),
        "verify_days": settings.REQUEST_VERIFY_DAYS,
    }
    status = HTTPStatus.BAD_REQUEST if form.is_bound else HTTPStatus.OK
    return render(request, "requests_app/request_new.html", context, status=status)


@require_safe
def request_sent(request: HttpRequest) -> HttpResponse:
    return render(
        request, "requests_app/request_sent.html", {"verify_days": settings.REQUEST_VERIFY_DAYS}
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def request_verify_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what is being confirmed (mail scanners that follow links confirm nothing);
    POST confirms the address and puts the request in the queue."""
    try:
        data_request = request_from_token(tokens.VERIFY, token)
    except tokens.TokenError as error:
        return _bad_link(request, error)
    status_url = reverse(
        "requests_app:request-status", args=[tokens.token_make(tokens.STATUS, data_request.pk)]
    )
    if data_request.status != data_request.Status.UNVERIFIED:
        return HttpResponseRedirect(status_url, status=HTTPStatus.SEE_OTHER)
    if request.method == "POST":
        request_verify(request=data_request, http_request=request)
        return HttpResponseRedirect(status_url, status=HTTPStatus.SEE_OTHER)
    return render(request, "requests_app/request_verify.html", {"data_request": data_request})


@never_cache
@require_safe
def request_status(request: HttpRequest, token: str) -> HttpResponse:
    try:
        data_request = request_from_token(tokens.STATUS, token)
    except tokens.TokenError as error:
        return _bad_link(request, error)
    download_url = ""
    if data_request.export_file and data_request.export_expires_at > timezone.now():
        download_url = request_download_url(data_request)
    context = {
        "data_request": data_request,
        "events": request_public_events(data_request),
        "download_url": download_url,
    }
    response = render(request, "requests_app/request_status.html", context)
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_safe
def request_download(request: HttpRequest, token: str) -> HttpResponse:
    """The access export, for whoever holds the link mailed to the verified address."""
    try:
        data_request = request_from_token(tokens.DOWNLOAD, token)
    except tokens.TokenError as error:
        return _bad_link(request, error)
    path = settings.EXPORT_ROOT / data_request.export_file
    if (
        not data_request.export_file
        or data_request.export_expires_at is None
        or data_request.export_expires_at <= timezone.now()
        or not path.is_file()
    ):
        return bad_link_response(request, expired=True)
    response = FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"{data_request.reference}-your-data.zip",
        content_type="application/zip",
    )
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    form = ContactForm(posted(request))
    if request.method == "POST" and form.is_valid():
        if rate_limit_request(
            request,
            "contact",
            per_ip=settings.CONTACT_RATE_PER_IP,
            email=form.cleaned_data["email"],
            per_email=settings.CONTACT_RATE_PER_EMAIL,
        ):
            return too_many_response(request)
        if not form.is_bot():
            contact_message_submit(
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                message=form.cleaned_data["message"],
                language=get_language(),
            )
        return HttpResponseRedirect(
            reverse("requests_app:contact-sent"), status=HTTPStatus.SEE_OTHER
        )
    context = {"form": form, "purpose": purposes_by_slug().get("enquiries")}
    status = HTTPStatus.BAD_REQUEST if form.is_bound else HTTPStatus.OK
    return render(request, "requests_app/contact.html", context, status=status)


@require_safe
def contact_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "requests_app/contact_sent.html")
