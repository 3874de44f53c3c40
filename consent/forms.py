"""Validation of a cookie decision, posted by the banner's form or its module (JSON).

Every decision passes through here, so this is the portal's hottest validation. The fields
are Django form fields (their parsing, validators and messages), built once per cookie
configuration and used as plain validators: a `Form` instance deep-copies its fields and
builds bound fields on every request, which cost about as much CPU as the INSERT it guards.
"""

from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .banner import SCOPE_ALL, SCOPE_PROMPT
from .configuration import Configuration
from .models import ConsentRecord


@dataclass(frozen=True)
class ConsentChoice:
    """A valid decision as posted: what was clicked, on which banner, and where to return."""

    action: str
    categories: frozenset[str]
    scope: str
    revision: str
    next: str


class ConsentChoiceInvalid(Exception):
    """The posted decision is not valid; `errors` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]], *, stale: bool):
        super().__init__(" ".join(message for messages in errors.values() for message in messages))
        self.errors, self.stale = errors, stale


def _fields_build(slugs: tuple[str, ...]) -> dict[str, forms.Field]:
    return {
        "action": forms.ChoiceField(
            label=_("action"),
            choices=ConsentRecord.Action.choices,
            error_messages={"invalid_choice": _("Unknown action %(value)s.")},
        ),
        "categories": forms.MultipleChoiceField(
            label=_("categories"),
            required=False,
            choices=[(slug, slug) for slug in slugs],
            error_messages={"invalid_choice": _("Unknown cookie category %(value)s.")},
        ),
        "scope": forms.ChoiceField(
            label=_("scope"),
            required=False,
            choices=[(SCOPE_PROMPT, SCOPE_PROMPT), (SCOPE_ALL, SCOPE_ALL)],
        ),
        "revision": forms.CharField(
            label=_("configuration revision"), required=False, max_length=16
        ),
        "next": forms.CharField(label=_("return address"), required=False, max_length=2000),
    }


# Fields never change after construction (cleaning does not mutate them), so one set per
# list of declared categories serves every request and thread.
_FIELDS: dict[tuple[str, ...], dict[str, forms.Field]] = {}


def _fields(configuration: Configuration) -> dict[str, forms.Field]:
    slugs = tuple(sorted(configuration.slugs))
    fields = _FIELDS.get(slugs)
    if fields is None:
        if len(_FIELDS) > 16:
            _FIELDS.clear()
        fields = _FIELDS[slugs] = _fields_build(slugs)
    return fields


def consent_choice_clean(data, *, configuration: Configuration) -> ConsentChoice:
    """The decision in `data` (a QueryDict from the form, a dict from JSON), or
    ConsentChoiceInvalid with every field's messages; `stale` when the configuration changed
    while the visitor was choosing (nothing they saw may be recorded then)."""
    cleaned, errors = {}, {}
    for name, field in _fields(configuration).items():
        try:
            cleaned[name] = field.clean(field.widget.value_from_datadict(data, {}, name))
        except ValidationError as error:
            errors[name] = error.messages
    stale = False
    revision = cleaned.get("revision")
    if revision and revision != configuration.revision:
        stale = True
        errors["revision"] = [
            str(
                _(
                    "The cookie settings changed while you were choosing. "
                    "Nothing was saved; please review them and choose again."
                )
            )
        ]
    if errors:
        # Field order, as a form lists them.
        ordered = {name: errors[name] for name in _fields(configuration) if name in errors}
        raise ConsentChoiceInvalid(ordered, stale=stale)
    return ConsentChoice(
        action=cleaned["action"],
        categories=frozenset(cleaned["categories"]),
        scope=cleaned["scope"] or SCOPE_ALL,
        revision=revision,
        next=cleaned["next"],
    )
