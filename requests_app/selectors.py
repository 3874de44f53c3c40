"""Reads of the request queue and of one person's data across the registered apps."""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch
from django.utils.translation import get_language, override
from django.utils.translation import gettext_lazy as _

from consent.translated import translated

from . import tokens
from .models import DataSubjectRequest, ProcessingPurpose, Recipient, RequestEvent
from .registry import DataSource, Item, data_sources, retention_text


@dataclass(frozen=True)
class PurposeInfo:
    slug: str
    name: str
    description: str
    legal_basis: str
    data_categories: str
    recipients: str
    retention: str
    source: str

    def as_dict(self) -> dict[str, str]:
        return dict(self.__dict__)


def purposes_by_slug(*, language: str | None = None) -> dict[str, PurposeInfo]:
    """The register of processing, for forms and exports, in `language` (by default the
    active one): two queries, whatever its size."""
    language = language or get_language() or settings.LANGUAGE_CODE
    purposes = ProcessingPurpose.objects.prefetch_related(
        Prefetch("recipients", queryset=Recipient.objects.order_by("name"))
    )

    def text(purpose: ProcessingPurpose, field: str) -> str:
        return translated(purpose, field, language=language)

    infos = {}
    for p in purposes:
        note = text(p, "recipients_note")
        with override(language):
            legal_basis = str(p.get_legal_basis_display())
        infos[p.slug] = PurposeInfo(
            slug=p.slug,
            name=text(p, "name"),
            description=text(p, "description"),
            legal_basis=legal_basis,
            data_categories=text(p, "data_categories"),
            recipients=", ".join([r.name for r in p.recipients.all()] + ([note] if note else []))
            or "—",
            # The periods the code enforces, where rules declare them (RETENTION in each
            # app's personal_data): never a text that could say otherwise.
            retention=_retention(p.slug, language) or text(p, "retention"),
            source=text(p, "source"),
        )
    return infos


def _retention(slug: str, language: str) -> str:
    with override(language):
        return retention_text(slug)


def subject_items(email: str) -> list[tuple[DataSource, list[Item]]]:
    """Everything held on `email`, source by source (the DPO's subject view)."""
    if not email.strip():  # an empty address would match every record that has none
        return []
    return [(source, list(source.records(email))) for source in data_sources()]


def request_from_token(kind: str, token: str) -> DataSubjectRequest:
    """The request a link is for; TokenError for a bad or expired link or a gone request."""
    payload = tokens.token_read(kind, token)
    request = DataSubjectRequest.objects.filter(pk=payload["r"]).first()
    if request is None:
        raise tokens.TokenError(_("This link is not valid."))
    if kind == tokens.DOWNLOAD and payload.get("f") != request.export_file:
        raise tokens.TokenError(_("This link has expired."), expired=True)
    return request


def request_public_events(request: DataSubjectRequest) -> list[RequestEvent]:
    return list(request.events.filter(visible_to_requester=True).order_by("at", "id"))
