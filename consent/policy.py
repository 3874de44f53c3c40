"""The link between consent and the privacy policy in force.

The consent app does not depend on any policy model: the project names a provider in
CONSENT_POLICY_PROVIDER (this project: privacy_portal.selectors.policy_info_for_consent).
"""

import datetime
from dataclasses import dataclass

from django.utils.module_loading import import_string

from . import conf


@dataclass(frozen=True)
class PolicyInfo:
    number: int
    language: str
    url: str
    # When the newest version in force that asks visitors to choose again took effect (None:
    # no such version). Decisions made before it are asked again, whatever their language.
    reconsent_since: datetime.datetime | None


def policy_info(language: str) -> PolicyInfo | None:
    provider = conf.get("CONSENT_POLICY_PROVIDER")
    if not provider:
        return None
    return import_string(provider)(language)
