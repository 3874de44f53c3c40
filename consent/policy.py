"""The link between consent and the privacy policy in force.

The consent app does not depend on any policy model: the project names a provider in
CONSENT_POLICY_PROVIDER (this project: privacy_portal.selectors.policy_info_for_consent).
"""

from dataclasses import dataclass

from django.utils.module_loading import import_string

from . import conf


@dataclass(frozen=True)
class PolicyInfo:
    number: int
    language: str
    url: str
    # The newest version in force that asked visitors to choose again (0: none).
    reconsent_number: int


def policy_info(language: str) -> PolicyInfo | None:
    provider = conf.get("CONSENT_POLICY_PROVIDER")
    if not provider:
        return None
    return import_string(provider)(language)
