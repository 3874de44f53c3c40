"""The personal-data registry: every app declares the personal data it holds.

Each installed app may have a `personal_data` module (found like `admin.py`) with a list
`SOURCES` of DataSource objects. A source knows how to find one person's records by e-mail
address, export them with their purpose, correct them, and erase or anonymise them. Nothing
registers itself on import: the registry reads the modules when first asked, and a project
can add sources from elsewhere with the PERSONAL_DATA_SOURCES setting (dotted paths).

Beside `SOURCES`, the same module declares in `RETENTION` how long each kind of record is
kept and what happens after (RetentionRule): `manage.py purge_expired` enforces them, and the
register of processing shows people each rule's own sentence, so the period they read is
the period enforced.
"""

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from importlib import import_module
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.module_loading import import_string, module_has_submodule
from django.utils.translation import gettext, ngettext

from .dates import add_months

Outcome = str  # "deleted" | "anonymised" | "retained" (ErasureItem.Outcome values)


@dataclass(frozen=True)
class Item:
    """One record of one person's data, as the export and the subject view show it."""

    source: str
    record_type: str
    key: str
    purpose: str
    data: dict[str, Any]
    rectifiable: tuple[str, ...] = ()


@dataclass(frozen=True)
class Erased:
    """What erasure did with one record; never the record's data."""

    source: str
    record_type: str
    key: str
    purpose: str
    outcome: Outcome
    reason: str = ""


@dataclass
class ErasureContext:
    """What an erasure knows beyond the address: legal holds and the request being worked."""

    email: str
    holds: list = field(default_factory=list)
    current_request_id: int | None = None

    def __post_init__(self):
        # An empty address would match every record that has none.
        if not self.email.strip():
            raise ValueError("An erasure needs an e-mail address.")

    def hold_for(self, record_type: str):
        return next((hold for hold in self.holds if hold.covers(record_type)), None)


def jsonable(value: Any) -> Any:
    """A value as it goes into an export (JSON and CSV)."""
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return value


class DataSource:
    """Base class: subclasses say what they hold and how to find, erase and correct it."""

    name: str = ""  # shown to the DPO and in the export, e.g. "Contact messages"
    record_type: str = ""  # one record, e.g. "Contact message"
    purpose: str = ""  # slug in the register of processing

    def records(self, email: str) -> Iterable[Item]:
        raise NotImplementedError

    def erase(self, context: ErasureContext) -> list[Erased]:
        raise NotImplementedError

    def rectify(self, key: str, changes: dict[str, str]) -> dict[str, Any]:
        """Apply corrections to one record; return the previous values."""
        raise NotImplementedError(f"{self.name} cannot be corrected here.")

    # Helpers for subclasses --------------------------------------------------------------
    def rectify_fields(
        self, instance: models.Model, changes: dict[str, str], *, allowed: set[str]
    ) -> dict[str, Any]:
        """Correct some of `allowed` fields of one record, validated; return the old values."""
        if not changes or set(changes) - allowed:
            fields = ", ".join(sorted(allowed))
            raise ValueError(f"Only these fields can be corrected here: {fields}.")
        previous = {name: getattr(instance, name) for name in changes}
        for name, value in changes.items():
            setattr(instance, name, value.strip())
        instance.full_clean(validate_unique=False)
        instance.save(update_fields=list(changes))
        return previous

    def item(self, key: Any, data: dict[str, Any], *, purpose: str = "", rectifiable=()) -> Item:
        data = {label: jsonable(value) for label, value in data.items()}
        return Item(
            self.name, self.record_type, str(key), purpose or self.purpose, data, tuple(rectifiable)
        )

    def erased(self, key: Any, outcome: Outcome, reason: str = "", *, purpose: str = "") -> Erased:
        return Erased(
            self.name, self.record_type, str(key), purpose or self.purpose, outcome, str(reason)
        )

    def held(self, context: ErasureContext, key: Any) -> Erased | None:
        hold = context.hold_for(self.record_type)
        if hold is None:
            return None
        return self.erased(key, "retained", f"Legal hold: {hold.reason}")


@cache
def _app_sources() -> tuple[DataSource, ...]:
    found: list[DataSource] = []
    for app_config in apps.get_app_configs():
        if module_has_submodule(app_config.module, "personal_data"):
            module = import_module(f"{app_config.name}.personal_data")
            found.extend(getattr(module, "SOURCES", []))
    return tuple(found)


def data_sources() -> list[DataSource]:
    """Every registered source: the apps' personal_data modules, then PERSONAL_DATA_SOURCES."""
    extra = [import_string(path)() for path in getattr(settings, "PERSONAL_DATA_SOURCES", [])]
    return [*_app_sources(), *extra]


def data_source(name: str) -> DataSource | None:
    return next((source for source in data_sources() if source.name == name), None)


# --- Retention ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A retention period in calendar months and days ("3 years" is 36 months: the same
    date three years on, whatever the leap years)."""

    months: int = 0
    days: int = 0

    def before(self, moment: datetime.datetime) -> datetime.datetime:
        """The moment `self` before `moment`: what is older than it is past retention."""
        return add_months(moment, -self.months) - datetime.timedelta(days=self.days)

    def __str__(self) -> str:
        parts = []
        years, months = divmod(self.months, 12)
        if years:
            parts.append(ngettext("%(count)d year", "%(count)d years", years) % {"count": years})
        if months:
            parts.append(
                ngettext("%(count)d month", "%(count)d months", months) % {"count": months}
            )
        if self.days or not parts:
            parts.append(
                ngettext("%(count)d day", "%(count)d days", self.days) % {"count": self.days}
            )
        return gettext(" and ").join(parts)


class RetentionRule:
    """How long one kind of record is kept, and what happens to it after.

    A rule lives in its app's personal_data module, next to the source whose records it
    governs. `period()` is the figure (a setting where operators choose it), `sentence`
    says it to people in the register of processing, for each purpose in `purposes`, and
    `purge(now)` deletes or anonymises what is past it, in one transaction, returning how
    many records it touched (with `dry_run`, only how many it would touch).
    """

    key: str = ""  # e.g. "contact-messages": its entry in RETENTION_MONTHS
    name: str = ""  # shown in the command's output, e.g. "Contact messages"
    purposes: tuple[str, ...] = ()  # slugs in the register of processing
    outcome: Outcome = "deleted"
    default: Period | None = None  # None: kept while needed, nothing expires by date
    days_setting: str = ""  # or a period in days that a setting of its own gives
    sentence: str = ""  # gettext_lazy, with %(period)s when there is a period

    def period(self) -> Period | None:
        if self.days_setting:
            return Period(days=getattr(settings, self.days_setting))
        months = getattr(settings, "RETENTION_MONTHS", {}).get(self.key)
        return self.default if months is None else Period(months=int(months))

    def text(self) -> str:
        period = self.period()
        return str(self.sentence) if period is None else str(self.sentence) % {"period": period}

    def cutoff(self, now: datetime.datetime) -> datetime.datetime:
        return self.period().before(now)

    def purge(self, now: datetime.datetime, *, dry_run: bool = False) -> int:
        """Delete or anonymise what is past retention at `now`, or with `dry_run` only count
        it; how many records."""
        return 0


@cache
def _app_rules() -> tuple[RetentionRule, ...]:
    found: list[RetentionRule] = []
    for app_config in apps.get_app_configs():
        if module_has_submodule(app_config.module, "personal_data"):
            module = import_module(f"{app_config.name}.personal_data")
            found.extend(getattr(module, "RETENTION", []))
    return tuple(found)


def retention_rules() -> list[RetentionRule]:
    """Every declared retention rule: the apps' personal_data modules, then
    PERSONAL_DATA_RETENTION (dotted paths)."""
    extra = [import_string(path)() for path in getattr(settings, "PERSONAL_DATA_RETENTION", [])]
    return [*_app_rules(), *extra]


def retention_text(purpose: str) -> str:
    """What the register of processing says about how long a purpose's data is kept: the
    sentence of every rule serving it, or "" when no rule does (the register's own text
    applies then)."""
    rules = [rule for rule in retention_rules() if purpose in rule.purposes]
    # The purpose's own records first, then what several purposes share (mails, sessions).
    rules.sort(key=lambda rule: len(rule.purposes) > 1)
    return " ".join(rule.text() for rule in rules)


def retention_enforce(
    *, now: datetime.datetime, dry_run: bool = False
) -> list[tuple[RetentionRule, int | Exception]]:
    """Run every rule with a period: each deletes or anonymises what is past it (or, with
    `dry_run`, counts it). A rule that fails does not stop the others: its error is
    returned in place of its count."""
    results: list[tuple[RetentionRule, int | Exception]] = []
    for rule in retention_rules():
        if rule.period() is None:
            continue
        try:
            results.append((rule, rule.purge(now, dry_run=dry_run)))
        except Exception as error:  # reported by the caller; the other rules still run
            results.append((rule, error))
    return results
