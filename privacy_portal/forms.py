"""Small helpers for the portal's forms."""

from django.http import HttpRequest, QueryDict


def posted(request: HttpRequest) -> QueryDict | None:
    """The POST data to bind a form to, or None on GET.

    Not `request.POST or None`: an empty POST (every box unticked, or nothing filled in) is
    still a submission, to be saved or answered with errors, not a fresh page.
    """
    return request.POST if request.method == "POST" else None
