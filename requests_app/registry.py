"""The personal-data registry: every app declares the personal data it holds.

Each installed app may have a `personal_data` module (found like `admin.py`) with a list
`SOURCES` of DataSource objects. A source knows how to find one person's records by e-mail
address, export them with their purpose, correct them, and erase or anonymise them. Nothing
registers itself on import: the registry reads the modules when first asked, and a project
can add sources from elsewhere with the PERSONAL_DATA_SOURCES setting (dotted paths).
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
