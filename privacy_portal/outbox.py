"""The e-mail outbox: queue a message with the data it belongs to, deliver it in a task.

`email_queue` renders the message from templates and stores it in the same transaction as
the change it reports; after commit a task delivers it. A failure (mail server down,
refusing, timing out) is recorded and retried with growing pauses: by the task queue when it
can schedule (django-tasks-db), and by `manage.py send_queued_emails` in any case.

Subject and text are plain text (autoescaping off); the HTML part is that text escaped as a
whole, in which only the portal's own links become links: what a visitor typed (a name)
never becomes markup or a link in a mail sent from the company's address.
"""

import datetime
import logging
import secrets

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import DatabaseError, transaction
from django.tasks import default_task_backend, task
from django.template import Context, TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils import timezone, translation
from django.utils.html import escape, linebreaks
from django.utils.safestring import mark_safe

from .models import OutgoingEmail

logger = logging.getLogger(__name__)


def _retry_delay(attempts: int) -> datetime.timedelta:
    """1, 2, 4, ... minutes (EMAIL_RETRY_SECONDS doubling), at most six hours apart."""
    seconds = settings.EMAIL_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    return datetime.timedelta(seconds=min(seconds, 6 * 60 * 60))


def _unsubscribe_headers(to: str) -> dict[str, str]:
    """Every mail to someone with marketing preferences (a registrant) carries a one-click
    unsubscribe (RFC 8058), whatever the mail is about. Decided when the mail is sent, not
    when it is queued: a form's answer then takes the same time whether or not we know the
    address, and the link is for the person as they are at sending."""
    from consent.preferences import preference_for, unsubscribe_headers

    preference = preference_for(to) if to else None
    if preference is None or preference.erased_at:
        return {}
    return unsubscribe_headers(preference)


def _render_plain(template: str, context: dict) -> str:
    """A subject or text part: plain text, so nothing in it is HTML-escaped (O'Brien, not
    O&#x27;Brien). Autoescaping is switched off here, for every mail template, rather than
    in each template."""
    return get_template(template).template.render(Context(context, autoescape=False))


def _stand_ins(context: dict) -> dict[str, str]:
    """The portal's own links the caller put into the context (a verification, status or
    download link: a top-level value starting with PORTAL_BASE_URL), each with a random
    stand-in no one can type: context key -> stand-in. Values inside objects (a request's
    name) are never links."""
    base = settings.PORTAL_BASE_URL + "/"
    return {
        key: f"portallink{secrets.token_hex(16)}"
        for key, value in context.items()
        if isinstance(value, str) and value.startswith(base)
    }


def _html_body(marked_text: str, links: dict[str, str]) -> str:
    """The text part as HTML paragraphs: all of it escaped (django.utils.html's linebreaks
    escapes even text marked safe, unlike urlize), then each stand-in made the link it
    stands for. Nothing else becomes a link, whatever URL a visitor typed."""
    body = linebreaks(marked_text.strip(), autoescape=True)
    for stand_in, url in links.items():
        body = body.replace(stand_in, f'<a href="{escape(url)}">{escape(url)}</a>')
    return body


def email_queue(
    *,
    to: str,
    template: str,
    context: dict,
    kind: str,
    purpose: str,
    headers: dict | None = None,
    language: str | None = None,
    related: str = "",
    scrub_after_send: bool = False,
) -> OutgoingEmail:
    """Render `<template>_subject.txt` and `.txt` (and `.html` if there is one) and queue.

    Call it inside the transaction that makes the change the message reports: the mail is
    stored with it, or not at all, and is delivered only after commit. The HTML part links
    only the context's top-level values that start with PORTAL_BASE_URL.
    """
    context = {
        "company_name": settings.PORTAL_COMPANY_NAME,
        "dpo_email": settings.DPO_EMAIL,
        "base_url": settings.PORTAL_BASE_URL,
        **context,
    }
    stand_ins = _stand_ins(context)
    links = {stand_in: context[key] for key, stand_in in stand_ins.items()}
    with translation.override(language or translation.get_language()):
        subject = " ".join(_render_plain(f"{template}_subject.txt", context).split())
        # The text is rendered once, with the stand-ins for the links: the text part is it
        # with the links put back, the HTML part is it escaped with the links made links.
        marked = _render_plain(f"{template}.txt", {**context, **stand_ins})
        text = marked
        for stand_in, url in links.items():
            text = text.replace(stand_in, url)
        try:
            html = render_to_string(f"{template}.html", context)
        except TemplateDoesNotExist:
            # The HTML part is the plain text, escaped, with links and paragraphs, in the
            # portal's mail layout: one wording to keep up to date, not two.
            html = render_to_string(
                "email/base.html",
                {
                    **context,
                    "subject": subject,
                    "body": mark_safe(_html_body(marked, links)),  # noqa: S308 - escaped
                },
            )
    email = OutgoingEmail(
        kind=kind,
        purpose=purpose,
        to=to,
        subject=subject,
        text=text,
        html=html,
        headers=headers or {},
        related=related,
        scrub_after_send=scrub_after_send,
        next_attempt_at=timezone.now(),
    )
    email.full_clean()
    email.save()
    transaction.on_commit(lambda: _delivery_enqueue(email.pk))
    return email


def _delivery_enqueue(email_id: int) -> None:
    """Hand a committed mail to the task worker. If the task cannot be stored (the database
    went away just after the commit), the mail is still in the outbox as due and
    `send_queued_emails` sends it: the visitor's submission, already saved, is not failed."""
    try:
        email_deliver.enqueue(email_id)
    except DatabaseError:
        logger.warning("e-mail %s: delivery not queued; send_queued_emails will send it", email_id)


def _send(email: OutgoingEmail) -> None:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to],
        headers={**_unsubscribe_headers(email.to), **email.headers},
    )
    if email.html:
        message.attach_alternative(email.html, "text/html")
    message.send()


def email_attempt(email_id: int) -> OutgoingEmail.Status | None:
    """Try to send one queued mail now; record the outcome. Returns the new status."""
    with transaction.atomic():
        email = (
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status=OutgoingEmail.Status.PENDING)
            .first()
        )
        if email is None:  # already sent, given up, or being sent by another worker
            return None
        email.attempts += 1
        try:
            _send(email)
        except Exception as error:  # any mail failure: record it, never lose the mail
            email.last_error = f"{type(error).__name__}: {error}"[:2000]
            if email.attempts >= settings.EMAIL_MAX_ATTEMPTS:
                email.status = OutgoingEmail.Status.FAILED
                logger.error("Giving up on e-mail %s after %s attempts", email.pk, email.attempts)
            else:
                email.next_attempt_at = timezone.now() + _retry_delay(email.attempts)
                logger.warning(
                    "E-mail %s not sent (attempt %s): %s", email.pk, email.attempts, error
                )
        else:
            email.status = OutgoingEmail.Status.SENT
            email.sent_at = timezone.now()
            email.last_error = ""
            if email.scrub_after_send:
                email.to, email.subject, email.text, email.html = "", "", "", ""
                email.headers, email.last_error = {}, ""
        email.save()
    if email.status == OutgoingEmail.Status.PENDING and default_task_backend.supports_defer:
        email_deliver.using(run_after=email.next_attempt_at).enqueue(email.pk)
    return email.status


@task
def email_deliver(email_id: int) -> str | None:
    status = email_attempt(email_id)
    return str(status) if status else None


def emails_send_due(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Attempt every pending mail whose next attempt is due (the retry sweep)."""
    counts: dict[str, int] = {}
    due = OutgoingEmail.objects.due(now or timezone.now()).order_by("next_attempt_at")
    for email_id in due.values_list("pk", flat=True):
        status = email_attempt(email_id)
        if status:
            counts[status] = counts.get(status, 0) + 1
    return counts


def emails_forget(*, related: str, to: str = "") -> int:
    """Delete the mails about a record whose life has ended (a child's registration declined,
    expired or revoked, a sign-up never confirmed), or only those sent to `to` (a parent
    whose role ended): what they say, a name and an address, must not outlive the record.
    Mails still waiting go too; they would report on something that no longer exists."""
    mails = OutgoingEmail.objects.filter(related=related)
    if to:
        mails = mails.filter(to__iexact=to)
    return mails.delete()[0]
