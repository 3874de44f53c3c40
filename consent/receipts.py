"""The visitor's consent receipt, with the fields of the Kantara Initiative Consent Receipt
Specification v1.1 (the basis of ISO/IEC TS 27560)."""

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from . import conf
from .configuration import Configuration
from .models import ConsentRecord

RECEIPT_VERSION = "KI-CR-v1.1.0"


def _controller() -> dict:
    company = getattr(settings, "PORTAL_COMPANY_NAME", "")
    return {
        "piiController": company,
        "contact": _("Data protection officer"),
        "email": getattr(settings, "DPO_EMAIL", ""),
        "onBehalf": False,
    }


def consent_receipt(
    *, request: HttpRequest, record: ConsentRecord, configuration: Configuration
) -> dict:
    """The receipt of `record`: who decided what, when, under which policy and banner."""
    policy = configuration.policy
    purposes = []
    for category in configuration.categories:
        third_parties = sorted(
            {cookie.provider for cookie in category.cookies if not cookie.first_party}
        )
        purposes.append(
            {
                "purpose": category.description,
                "purposeCategory": [category.name],
                "purposeId": category.slug,
                "consentType": "NOT REQUIRED" if category.is_necessary else "EXPLICIT",
                "piiCategory": [cookie.name for cookie in category.cookies],
                "primaryPurpose": category.is_necessary,
                "termination": "; ".join(
                    sorted({f"{cookie.name}: {cookie.duration}" for cookie in category.cookies})
                ),
                "thirdPartyDisclosure": bool(third_parties),
                "thirdPartyName": ", ".join(third_parties),
                "consented": bool(record.states.get(category.slug, False)),
            }
        )
    site = request.build_absolute_uri("/")
    return {
        "version": RECEIPT_VERSION,
        "jurisdiction": conf.get("CONSENT_JURISDICTION"),
        "consentTimestamp": int(record.created_at.timestamp()),
        "consentTime": record.created_at.isoformat(),
        "collectionMethod": _("Cookie banner on %(site)s") % {"site": site},
        "consentReceiptID": str(record.receipt_id),
        "publicKey": "",
        "language": record.language,
        "piiPrincipalId": str(record.consent_id),
        "piiControllers": [{**_controller(), "url": site}],
        "policyUrl": request.build_absolute_uri(policy.url) if policy else "",
        "policyVersion": str(record.policy_version or ""),
        "services": [
            {
                "service": _("Cookies and similar technologies on %(site)s") % {"site": site},
                "purposes": purposes,
            }
        ],
        "sensitive": False,
        "spiCat": [],
        "action": record.action,
        "globalPrivacyControl": record.gpc,
        "configurationRevision": record.config_revision,
        "bannerTextSha256": record.banner_sha256,
    }
