"""The audit log of staff actions in the admin (reads included).

`StaffAuditMiddleware` writes one StaffAction per admin request that concerns a model: the
changelist (with a keyed hash of any search term), a change or history page, the request
queue's own pages (subject, erase, extend, ...), bulk actions with the selected ids, and
autocomplete look-ups. It sits in the middleware rather than in each ModelAdmin so that a
new admin page is logged without anyone remembering to do so. The row is written after the
view answered, with its status; if it cannot be written the response is withheld (a 500),
so nothing is shown to staff without a trace.
"""

import getpass
import ipaddress
from collections.abc import Callable
from functools import cache

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from consent.visitor import client_ip

from .admin_middleware import admin_request
from .hashing import email_hash
from .models import StaffAction

MAX_IDS = 255


@cache
def _admin_prefixes() -> dict[str, str]:
    """URL-name prefix ("requests_app_datasubjectrequest_") -> model label, for every model
    registered on the admin site (the admin names its URLs after app label and model)."""
    return {
        f"{model._meta.app_label}_{model._meta.model_name}_": model._meta.label_lower
        for model in admin.site._registry
    }


def admin_target(request: HttpRequest) -> tuple[str, str, str] | None:
    """(model label, operation, object ids) for an admin request about a model, else None."""
    match = request.resolver_match
    if match is None or match.namespace != admin.site.name:
        return None
    if match.url_name == "autocomplete":
        label = f"{request.GET.get('app_label', '')}.{request.GET.get('model_name', '')}"
        return label[:100], "autocomplete", ""
    for prefix, label in _admin_prefixes().items():
        if match.url_name and match.url_name.startswith(prefix):
            operation = match.url_name.removeprefix(prefix)
            ids = str(match.kwargs.get("object_id") or match.kwargs.get("pk") or "")
            if request.method == "POST" and operation == "changelist":
                action = request.POST.get("action", "")
                if action:
                    operation = f"action:{action}"
                    ids = ",".join(request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME))
            if len(ids) > MAX_IDS:
                ids = ids[: MAX_IDS - 1] + "…"
            return label, operation[:100], ids
    return None


def _address(request: HttpRequest) -> str | None:
    address = client_ip(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def staff_action_log(request: HttpRequest, response: HttpResponse) -> StaffAction | None:
    """Record this admin request if it concerns a model and comes from a signed-in user."""
    target = admin_target(request)  # first: cheap, and public pages never load the user
    if target is None:
        return None
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    label, operation, ids = target
    search = request.GET.get("q", "").strip() if operation in ("changelist", "autocomplete") else ""
    return StaffAction.objects.create(
        created_at=timezone.now(),
        user=user,
        username=user.get_username(),
        method=request.method[:8],
        operation=operation,
        model=label,
        object_ids=ids,
        search_hash=email_hash(search) if search else "",
        path=request.path[:255],
        status_code=response.status_code,
        address=_address(request),
    )


def command_action_log(*, command: str, model: str, method: str = "EXPORT") -> StaffAction:
    """Record a management command that reads or writes personal data in bulk (the
    suppression list, an audience). The operator is the account running the command."""
    try:
        operator = getpass.getuser()
    except (KeyError, OSError):  # no such user in a container's passwd
        operator = "unknown"
    return StaffAction.objects.create(
        created_at=timezone.now(),
        user=None,
        username=f"{operator} (command line)"[:150],
        method=method,
        operation=f"command:{command}"[:100],
        model=model,
        path="manage.py " + command,
        status_code=200,
    )


class StaffAuditMiddleware:
    """Log the admin's requests about a model; public requests pass straight through."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not admin_request(request):
            return self.get_response(request)
        response = self.get_response(request)
        staff_action_log(request, response)
        return response
