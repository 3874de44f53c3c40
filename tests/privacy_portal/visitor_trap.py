"""A test-only middleware that records what of the visitor a page read (see
test_shared_pages.py): their user, messages, session or CSRF token."""

from django.contrib.auth.models import AnonymousUser
from django.utils.functional import SimpleLazyObject


class _Messages:
    def __init__(self, reads: list[str]):
        self.reads = reads

    def __iter__(self):
        self.reads.append("messages")
        return iter(())

    def __len__(self):
        self.reads.append("messages")
        return 0


class VisitorTrapMiddleware:
    """Put innermost: replaces the user and the messages with recording stand-ins, and
    notes afterwards whether the session or the CSRF token was touched."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.visitor_reads = reads = []
        user, messages = getattr(request, "user", None), getattr(request, "_messages", None)
        request.user = SimpleLazyObject(lambda: reads.append("user") or AnonymousUser())
        request._messages = _Messages(reads)
        response = self.get_response(request)
        # The outer middleware gets back what it set (the messages middleware stores them).
        if messages is not None:
            request._messages = messages
        else:
            del request._messages
        if user is not None:
            request.user = user
        else:
            del request.user
        session = getattr(request, "session", None)
        if session is not None and session.accessed:
            reads.append("session")
        if "CSRF_COOKIE" in request.META:
            reads.append("csrf token")
        return response
