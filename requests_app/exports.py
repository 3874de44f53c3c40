"""The access export (GDPR Art. 15 and 20): one person's data, each item with its purpose,
legal basis, recipients, retention and source, as JSON, CSV per record type and a readable
HTML summary, in one zip."""

import datetime
import io
import json
import zipfile

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.text import slugify

from privacy_portal.spreadsheets import csv_writer

from .registry import Item
from .selectors import purposes_by_slug, subject_items

PURPOSE_COLUMNS = ["purpose", "legal_basis", "recipients", "retention", "source"]


def _csv(items: list[Item], purposes) -> str:
    columns = list(dict.fromkeys(label for item in items for label in item.data))
    out = io.StringIO()
    # Third parties write some of it (a contact message can name anyone's address).
    writer = csv_writer(out)
    writer.writerow(["record", *columns, *PURPOSE_COLUMNS])
    for item in items:
        purpose = purposes.get(item.purpose)
        values = [item.data.get(c, "") for c in columns]
        cells = [
            json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v for v in values
        ]
        info = (
            [
                purpose.name,
                purpose.legal_basis,
                purpose.recipients,
                purpose.retention,
                purpose.source,
            ]
            if purpose
            else [item.purpose, "", "", "", ""]
        )
        writer.writerow([item.key, *cells, *info])
    return out.getvalue()


def export_zip(*, email: str, request, generated_at: datetime.datetime) -> bytes:
    # In the requester's language, whoever builds it: it answers their request.
    purposes = purposes_by_slug(language=request.language)
    groups = [(source, items) for source, items in subject_items(email) if items]
    records = [
        {
            "source": item.source,
            "record_type": item.record_type,
            "record": item.key,
            "purpose": item.purpose,
            "data": item.data,
        }
        for _source, items in groups
        for item in items
    ]
    used = sorted({record["purpose"] for record in records})
    document = {
        "controller": settings.PORTAL_COMPANY_NAME,
        "data_protection_officer": settings.DPO_EMAIL,
        "request": request.reference,
        "subject": email,
        "generated_at": generated_at.isoformat(),
        "purposes": {slug: purposes[slug].as_dict() for slug in used if slug in purposes},
        "records": records,
    }
    with translation.override(request.language):
        summary = render_to_string(
            "requests_app/export/summary.html",
            {
                "document": document,
                "sections": [
                    (source, [(item, purposes.get(item.purpose)) for item in items])
                    for source, items in groups
                ],
                "purposes": purposes,
                "request": request,
                "company_name": settings.PORTAL_COMPANY_NAME,
                "dpo_email": settings.DPO_EMAIL,
            },
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.html", summary)
        archive.writestr("data.json", json.dumps(document, ensure_ascii=False, indent=2))
        for source, items in groups:
            archive.writestr(f"csv/{slugify(source.name)}.csv", _csv(items, purposes))
    return buffer.getvalue()
