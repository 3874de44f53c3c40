"""Personal data held by the consent app: consent records linked to a person's address.

Consent records are proof of consent and stay in the (sealed) log. What ties them to a
person is the link between their browser's consent id and their e-mail address; erasure
deletes that link, after which the records identify nobody.
"""

from django.utils.translation import gettext_lazy as _

from requests_app.registry import DataSource, Erased, ErasureContext

from .models import ConsentRecord, ConsentSubject


def _consent_ids(email: str) -> list:
    return list(
        ConsentSubject.objects.filter(email__iexact=email).values_list("consent_id", flat=True)
    )


class ConsentRecordSource(DataSource):
    name = "Cookie consent records"
    record_type = "Cookie consent record"
    purpose = "cookie-consent"

    def records(self, email):
        records = ConsentRecord.objects.filter(consent_id__in=_consent_ids(email))
        for record in records.order_by("created_at", "id"):
            yield self.item(
                record.pk,
                {
                    "time": record.created_at,
                    "consent id": record.consent_id,
                    "choice": record.get_action_display(),
                    "categories": record.states,
                    "policy version": record.policy_version,
                    "banner text SHA-256": record.banner_sha256,
                    "IP prefix": record.ip_prefix,
                    "browser": record.user_agent,
                    "Global Privacy Control": record.gpc,
                },
            )

    def erase(self, context: ErasureContext) -> list[Erased]:
        reason = _(
            "Kept as proof of consent (Art. 7(1), 17(3)(b)); the link between your browser's "
            "consent id and your e-mail address is deleted, so it no longer identifies you."
        )
        records = ConsentRecord.objects.filter(consent_id__in=_consent_ids(context.email))
        return [
            self.held(context, pk) or self.erased(pk, "anonymised", reason)
            for pk in records.values_list("pk", flat=True)
        ]


class ConsentLinkSource(DataSource):
    name = "Consent ids linked to you"
    record_type = "Consent id link"
    purpose = "cookie-consent"

    def records(self, email):
        for link in ConsentSubject.objects.filter(email__iexact=email).order_by("linked_at"):
            yield self.item(
                link.pk,
                {"consent id": link.consent_id, "linked": link.linked_at, "given in": link.source},
            )

    def erase(self, context):
        outcomes = []
        for link in ConsentSubject.objects.filter(email__iexact=context.email):
            if held := self.held(context, link.pk):
                outcomes.append(held)
                continue
            link.delete()
            outcomes.append(self.erased(link.pk, "deleted"))
        return outcomes


# Records first: they are found through the links, which the second source deletes.
SOURCES = [ConsentRecordSource(), ConsentLinkSource()]
