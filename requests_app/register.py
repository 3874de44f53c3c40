"""The purposes the portal itself processes personal data for (register of processing).

A data migration declares them in every installation; the DPO completes them in the admin
(recipients, retention) to match the company. Apps refer to them by identifier.
"""

PURPOSES = [
    {
        "slug": "data-subject-requests",
        "name": "Handling your data-protection requests",
        "description": (
            "To answer requests to see, correct, erase, restrict or move your personal data, "
            "or to object to its use, and to be able to show that we did."
        ),
        "legal_basis": "legal_obligation",
        "data_categories": "Name, e-mail address, the request and our correspondence about it",
        "retention": "Three years after the request is closed; anonymised after an erasure",
        "source": "You",
    },
    {
        "slug": "enquiries",
        "name": "Answering your questions and comments",
        "description": "To answer what you ask us through the contact form.",
        "legal_basis": "legitimate_interests",
        "data_categories": "Name, e-mail address, your message",
        "retention": "Two years after the last message",
        "source": "You",
    },
    {
        "slug": "cookie-consent",
        "name": "Proof of your cookie choices",
        "description": (
            "To respect your cookie choices and to be able to prove what you agreed to or "
            "refused, and when."
        ),
        "legal_basis": "legal_obligation",
        "data_categories": (
            "Consent id, your choices, the date, the policy version and banner text shown, "
            "the first part of your IP address, your browser's user agent"
        ),
        "retention": "As long as the choice applies, then three years as proof",
        "source": "Your browser",
    },
    {
        "slug": "registration",
        "name": "News and offers for registered visitors",
        "description": (
            "To send registered visitors the news and offers they chose, about the topics "
            "they chose."
        ),
        "legal_basis": "consent",
        "data_categories": "Name, e-mail address, country, interests, marketing choices",
        "retention": "Until you unsubscribe or ask us to delete it",
        "source": "You",
    },
    {
        "slug": "parental-consent",
        "name": "A parent's consent for a child",
        "description": (
            "To ask a parent or guardian before a child below the age of digital consent "
            "registers, to keep the child's registration while they consent, and to prove "
            "that they did (Art. 8)."
        ),
        "legal_basis": "legal_obligation",
        "data_categories": (
            "The child's first name, country and year of birth; the parent's e-mail address; "
            "when we asked and how the parent answered (kept without the child's data)"
        ),
        "retention": (
            "The child's data until consent is refused, withdrawn or ends; the record of the "
            "answer three years longer"
        ),
        "source": "The child, then the parent",
    },
    {
        "slug": "staff-accounts",
        "name": "Staff accounts of this portal",
        "description": "To let our staff sign in and to record who did what.",
        "legal_basis": "contract",
        "data_categories": "Username, name, e-mail address, sign-in times, roles",
        "retention": "While the account is in use; afterwards only what the audit trail needs",
        "source": "Our staff administration",
    },
]


def register_seed(purpose_model) -> int:
    """Create the purposes that are missing; return how many were added."""
    added = 0
    for data in PURPOSES:
        _purpose, created = purpose_model.objects.get_or_create(
            slug=data["slug"], defaults={k: v for k, v in data.items() if k != "slug"}
        )
        added += created
    return added
