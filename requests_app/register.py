"""The purposes the portal itself processes personal data for (register of processing).

Data migrations declare them, in English and German (the `_de` texts, see
consent/translated.py), in every installation; the DPO completes them in the admin
(recipients, retention) to match the company. Apps refer to them by identifier.
"""

from consent.translated import fields_of, seeded_texts_clear, seeded_texts_fill

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
        "name_de": "Bearbeitung Ihrer Datenschutzanfragen",
        "description_de": (
            "Um Anträge auf Auskunft, Berichtigung, Löschung, Einschränkung der Verarbeitung oder "
            "Übertragung Ihrer personenbezogenen Daten oder Ihren Widerspruch gegen ihre "
            "Verwendung zu beantworten und nachweisen zu können, dass wir das getan haben."
        ),
        "data_categories_de": "Name, E-Mail-Adresse, der Antrag und unser Schriftverkehr dazu",
        "retention_de": "Drei Jahre nach Abschluss des Antrags; nach einer Löschung anonymisiert",
        "source_de": "Sie",
    },
    {
        "slug": "enquiries",
        "name": "Answering your questions and comments",
        "description": "To answer what you ask us through the contact form.",
        "legal_basis": "legitimate_interests",
        "data_categories": "Name, e-mail address, your message",
        "retention": "Two years after the last message",
        "source": "You",
        "name_de": "Beantwortung Ihrer Fragen und Anmerkungen",
        "description_de": "Um zu beantworten, was Sie uns über das Kontaktformular fragen.",
        "data_categories_de": "Name, E-Mail-Adresse, Ihre Nachricht",
        "retention_de": "Zwei Jahre nach der letzten Nachricht",
        "source_de": "Sie",
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
        "name_de": "Nachweis Ihrer Cookie-Auswahl",
        "description_de": (
            "Um Ihre Cookie-Auswahl zu beachten und nachweisen zu können, wozu Sie wann "
            "eingewilligt oder was Sie abgelehnt haben."
        ),
        "data_categories_de": (
            "Einwilligungs-ID, Ihre Auswahl, das Datum, die Version der Datenschutzerklärung und "
            "der angezeigte Bannertext, der erste Teil Ihrer IP-Adresse, die Browserkennung "
            "(User-Agent)"
        ),
        "retention_de": "Solange die Auswahl gilt, danach drei Jahre als Nachweis",
        "source_de": "Ihr Browser",
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
        "name_de": "Neuigkeiten und Angebote für registrierte Besucher",
        "description_de": (
            "Um registrierten Besuchern die Neuigkeiten und Angebote zu senden, die sie gewählt "
            "haben, zu den Themen, die sie gewählt haben."
        ),
        "data_categories_de": "Name, E-Mail-Adresse, Land, Interessen, Marketing-Einstellungen",
        "retention_de": "Bis Sie sich abmelden oder uns um Löschung bitten",
        "source_de": "Sie",
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
        "name_de": "Einwilligung der Eltern für ein Kind",
        "description_de": (
            "Um einen Elternteil oder Erziehungsberechtigten zu fragen, bevor sich ein Kind unter "
            "dem Alter der digitalen Einwilligung registriert, die Registrierung des Kindes "
            "aufzubewahren, solange die Einwilligung besteht, und nachzuweisen, dass sie erteilt "
            "wurde (Art. 8)."
        ),
        "data_categories_de": (
            "Vorname, Land und Geburtsjahr des Kindes; die E-Mail-Adresse des Elternteils; wann "
            "wir gefragt haben und wie der Elternteil geantwortet hat (ohne die Daten des Kindes "
            "aufbewahrt)"
        ),
        "retention_de": (
            "Die Daten des Kindes, bis die Einwilligung verweigert oder widerrufen wird oder "
            "endet; der Nachweis der Antwort drei Jahre länger"
        ),
        "source_de": "Das Kind, dann der Elternteil",
    },
    {
        "slug": "staff-accounts",
        "name": "Staff accounts of this portal",
        "description": "To let our staff sign in and to record who did what.",
        "legal_basis": "contract",
        "data_categories": "Username, name, e-mail address, sign-in times, roles",
        "retention": "While the account is in use; afterwards only what the audit trail needs",
        "source": "Our staff administration",
        "name_de": "Konten der Mitarbeitenden dieses Portals",
        "description_de": (
            "Damit sich unsere Mitarbeitenden anmelden können und festgehalten wird, wer was "
            "getan hat."
        ),
        "data_categories_de": "Benutzername, Name, E-Mail-Adresse, Anmeldezeiten, Rollen",
        "retention_de": "Solange das Konto genutzt wird; danach nur, was der Prüfpfad braucht",
        "source_de": "Unsere Personalverwaltung",
    },
]


def register_seed(purpose_model) -> int:
    """Create the purposes that are missing; return how many were added."""
    added = 0
    for data in PURPOSES:
        _purpose, created = purpose_model.objects.get_or_create(
            slug=data["slug"], defaults=fields_of(purpose_model, data)
        )
        added += created
    return added


def register_translate(purpose_model, *, language: str) -> int:
    """Fill the `language` texts of the seeded purposes that still read as seeded."""
    return seeded_texts_fill(
        purpose_model, PURPOSES, match=["slug", "name", "description"], language=language
    )


def register_untranslate(purpose_model, *, language: str) -> None:
    """Reverse of register_translate."""
    seeded_texts_clear(purpose_model, PURPOSES, key=["slug"], language=language)
