"""Sealing and verifying the consent log.

A seal fixes the SHA-256 of each record in a batch (kept in its own entries, so a record
removed from the log leaves a trace) and chains to the previous seal: the entries' digest
and the previous chain hash give this seal's chain hash. Verification recomputes all of it
and names each record changed, removed or inserted since sealing.

Sealing never updates a consent record, so it takes no lock that ordinary consent writes
would wait for; only two sealers wait for each other (they lock the latest seal).

Past retention (a decision's record is kept while it can apply and CONSENT_PROOF_YEARS
longer), whole sealed batches are purged, oldest first: their records and entries are
deleted, the seal itself stays with its hashes and the time of the purge. The chain still
verifies from the first seal to the last, and verification reports a purged batch as a
purge, or as a problem when it was purged before its retention ended.
"""

import datetime
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from . import conf
from .models import ConsentRecord, ConsentSeal, ConsentSealEntry, ConsentSubject

GENESIS = "0" * 64
CHUNK = 2000
RECORD_FIELDS = [
    "id",
    "receipt_id",
    "consent_id",
    "created_at",
    "action",
    "states",
    "config_revision",
    "policy_version",
    "policy_language",
    "banner_sha256",
    "language",
    "ip_prefix",
    "user_agent",
    "gpc",
]


def record_sha256(record: ConsentRecord) -> str:
    """SHA-256 over a canonical JSON of every field of the record."""
    values = {}
    for name in RECORD_FIELDS:
        value = getattr(record, name)
        if isinstance(value, datetime.datetime):
            value = value.astimezone(datetime.UTC).isoformat()
        elif not isinstance(value, (str, int, bool, dict, type(None))):
            value = str(value)
        values[name] = value
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _entry_line(record_id: int, digest: str) -> bytes:
    return f"{record_id}:{digest}\n".encode()


def _chain(previous_chain: str, entries_sha256: str) -> str:
    return hashlib.sha256(f"{previous_chain}:{entries_sha256}".encode()).hexdigest()


@dataclass(frozen=True)
class SealPlan:
    cutoff: datetime.datetime
    record_count: int


def consent_log_unsealed(*, now: datetime.datetime | None = None) -> SealPlan:
    """What a seal made now would hold (for --dry-run)."""
    cutoff = (now or timezone.now()) - datetime.timedelta(
        seconds=conf.get("CONSENT_SEAL_DELAY_SECONDS")
    )
    count = ConsentRecord.objects.unsealed().filter(created_at__lte=cutoff).count()
    return SealPlan(cutoff=cutoff, record_count=count)


@transaction.atomic
def consent_log_seal(*, now: datetime.datetime | None = None) -> ConsentSeal | None:
    """Seal every unsealed record older than CONSENT_SEAL_DELAY_SECONDS; None if none."""
    previous = ConsentSeal.objects.select_for_update().order_by("-sequence").first()
    plan = consent_log_unsealed(now=now)
    if previous is not None and plan.cutoff < previous.cutoff:
        plan = SealPlan(cutoff=previous.cutoff, record_count=plan.record_count)
    records = ConsentRecord.objects.unsealed().filter(created_at__lte=plan.cutoff)
    if previous is not None:
        # A record dated at or before the last cut-off should already be sealed: it was
        # inserted behind that seal. It stays out, for verification to report.
        records = records.filter(created_at__gt=previous.cutoff)
    records = records.order_by("id")
    digest = hashlib.sha256()
    entries = []
    for record in records.iterator(chunk_size=CHUNK):
        record_digest = record_sha256(record)
        digest.update(_entry_line(record.pk, record_digest))
        entries.append((record.pk, record_digest))
    if not entries:
        return None
    entries_sha256 = digest.hexdigest()
    seal = ConsentSeal(
        sequence=(previous.sequence + 1) if previous else 1,
        cutoff=plan.cutoff,
        previous=previous,
        record_count=len(entries),
        entries_sha256=entries_sha256,
        chain_sha256=_chain(previous.chain_sha256 if previous else GENESIS, entries_sha256),
    )
    seal.full_clean(validate_unique=False)
    seal.save()
    ConsentSealEntry.objects.bulk_create(
        (ConsentSealEntry(seal=seal, record_id=pk, record_sha256=h) for pk, h in entries),
        batch_size=CHUNK,
    )
    return seal


@dataclass(frozen=True)
class Problem:
    kind: str  # "changed", "removed", "inserted", "seal"
    message: str
    record_id: int | None = None


@dataclass
class Verification:
    seals: int = 0
    records: int = 0
    problems: list[Problem] = field(default_factory=list)
    purged: list[ConsentSeal] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _chunks(queryset, size: int = CHUNK) -> Iterator[list]:
    batch = []
    for item in queryset.iterator(chunk_size=size):
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _entry_problem(entry, record, seal, previous) -> Problem | None:
    """What is wrong with one sealed record, if anything."""
    where = f"(seal {seal.sequence})"
    if record is None:
        return Problem("removed", f"record {entry.record_id} was removed after sealing {where}",
                       entry.record_id)  # fmt: skip
    if record_sha256(record) != entry.record_sha256:
        return Problem("changed", f"record {entry.record_id} was changed after sealing {where}",
                       entry.record_id)  # fmt: skip
    if previous is not None and record.created_at <= previous.cutoff:
        # Dated inside the previous seal's period, yet not in it: inserted behind that seal.
        return Problem(
            "inserted",
            f"record {entry.record_id} was inserted behind seal {previous.sequence} "
            f"(dated before its cut-off) and sealed later {where}",
            entry.record_id,
        )
    return None


def _chain_problems(seal: ConsentSeal, previous: ConsentSeal | None) -> list[Problem]:
    previous_chain = previous.chain_sha256 if previous else GENESIS
    if _chain(previous_chain, seal.entries_sha256) != seal.chain_sha256:
        return [Problem("seal", f"seal {seal.sequence}: the hash chain is broken")]
    return []


def consent_log_verify() -> Verification:
    """Recompute every seal and sealed record; report every difference."""
    result = Verification()
    previous = None
    for seal in ConsentSeal.objects.order_by("sequence"):
        result.seals += 1
        expected_sequence = previous.sequence + 1 if previous else 1
        if seal.sequence != expected_sequence:
            result.problems.append(
                Problem("seal", f"seal {expected_sequence} is missing before seal {seal.sequence}")
            )
        if seal.purged_at is not None:
            # Its records and entries are gone by design; its hashes still chain.
            result.purged.append(seal)
            if seal.cutoff >= consent_log_retention_start(seal.purged_at):
                result.problems.append(
                    Problem(
                        "seal",
                        f"seal {seal.sequence} was purged on {seal.purged_at.isoformat()}, "
                        "before its records' retention ended",
                    )
                )
            result.problems.extend(_chain_problems(seal, previous))
            previous = seal
            continue
        digest = hashlib.sha256()
        count = 0
        for entries in _chunks(seal.entries.order_by("record_id")):
            records = ConsentRecord.objects.in_bulk([e.record_id for e in entries])
            for entry in entries:
                count += 1
                digest.update(_entry_line(entry.record_id, entry.record_sha256))
                problem = _entry_problem(entry, records.get(entry.record_id), seal, previous)
                if problem:
                    result.problems.append(problem)
        result.records += count
        if count != seal.record_count or digest.hexdigest() != seal.entries_sha256:
            result.problems.append(
                Problem("seal", f"seal {seal.sequence}: its sealed entries were altered")
            )
        result.problems.extend(_chain_problems(seal, previous))
        previous = seal
    if previous is not None:
        inserted = ConsentRecord.objects.unsealed().filter(created_at__lte=previous.cutoff)
        for record_id in inserted.order_by("id").values_list("id", flat=True):
            result.problems.append(
                Problem(
                    "inserted",
                    f"record {record_id} was inserted after sealing "
                    f"(dated before seal {previous.sequence}'s cut-off)",
                    record_id,
                )
            )
    return result


# --- Retention ---------------------------------------------------------------------------------


def _years_before(moment: datetime.datetime, years: int) -> datetime.datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February, in a year without one
        return moment.replace(year=moment.year - years, day=28)


def consent_log_retention_start(now: datetime.datetime) -> datetime.datetime:
    """Records made before this moment are past retention at `now`: they could apply for
    CONSENT_MAX_AGE_DAYS, and have been kept CONSENT_PROOF_YEARS longer as proof."""
    applies = datetime.timedelta(days=conf.get("CONSENT_MAX_AGE_DAYS"))
    return _years_before(now, conf.get("CONSENT_PROOF_YEARS")) - applies


def consent_log_expired(*, now: datetime.datetime) -> models.QuerySet[ConsentSeal]:
    """The sealed batches whose every record is past retention, oldest first."""
    return ConsentSeal.objects.filter(
        purged_at=None, cutoff__lt=consent_log_retention_start(now)
    ).order_by("sequence")


def consent_log_purge(*, now: datetime.datetime | None = None) -> int:
    """Delete the records of every sealed batch past retention, a whole batch at a time, and
    the links to addresses of consent ids with no record left. Returns the records deleted.

    The seal stays, with its entries' digest and chain hash, marked purged: verification
    still proves every later batch, and names this one as purged rather than tampered with.
    Records not sealed yet are never purged (seal first).
    """
    now = now or timezone.now()
    deleted = 0
    for seal_id in consent_log_expired(now=now).values_list("pk", flat=True):
        with transaction.atomic():
            seal = ConsentSeal.objects.select_for_update().get(pk=seal_id)
            if seal.purged_at is not None:  # another purge got there first
                continue
            record_ids = list(seal.entries.values_list("record_id", flat=True))
            consent_ids = set()
            for start in range(0, len(record_ids), CHUNK):
                batch = ConsentRecord.objects.filter(pk__in=record_ids[start : start + CHUNK])
                consent_ids.update(batch.values_list("consent_id", flat=True))
                # The log's one way out: QuerySet.delete itself, past the append-only guard.
                deleted += models.QuerySet.delete(batch)[0]
            seal.entries.all().delete()
            ConsentSeal.objects.filter(pk=seal.pk).update(purged_at=now)
            ConsentSubject.objects.filter(consent_id__in=consent_ids).exclude(
                Exists(ConsentRecord.objects.filter(consent_id=OuterRef("consent_id")))
            ).delete()
    return deleted
