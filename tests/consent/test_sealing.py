"""Sealing and verifying the consent log, through the management commands."""

import datetime
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.utils import timezone

from consent import conf
from consent.models import ConsentRecord, ConsentSeal
from consent.sealing import consent_log_seal
from tests.consent.conftest import decide

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(client, demo_policy, settings):
    settings.CONSENT_SEAL_DELAY_SECONDS = 0
    for action in ["accept_all", "reject_all", "custom"]:
        decide(type(client)(), action=action)
    return list(ConsentRecord.objects.order_by("id"))


def _seal() -> str:
    out = StringIO()
    call_command("seal_consent_log", stdout=out)
    return out.getvalue()


def _verify() -> tuple[bool, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_consent_log", stdout=out, stderr=err)
    except CommandError as error:
        return False, err.getvalue() + str(error)
    return True, out.getvalue()


def _sql(statement: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_seal_then_verify_is_clean(records):
    output = _seal()

    assert "Seal 1: 3 record(s)" in output
    ok, report = _verify()
    assert ok, report
    assert "1 seal(s), 3 sealed record(s) checked: the consent log is intact." in report


def test_seals_chain_to_each_other(records, client):
    _seal()
    decide(type(client)(), action="withdraw", scope="all")
    output = _seal()

    first, second = ConsentSeal.objects.order_by("sequence")
    assert "Seal 2: 1 record(s)" in output
    assert second.previous == first
    assert _seal().strip() == "Nothing to seal."
    assert _verify()[0]


def test_dry_run_seals_nothing(records):
    out = StringIO()
    call_command("seal_consent_log", "--dry-run", stdout=out)

    assert "3 record(s)" in out.getvalue()
    assert ConsentSeal.objects.count() == 0


def test_a_changed_record_is_named_and_verify_fails(records):
    _seal()
    target = records[1]
    _sql(
        "UPDATE consent_consentrecord SET states = %s WHERE id = %s",
        ['{"necessary": true, "analytics": true}', target.pk],
    )

    ok, report = _verify()

    assert not ok
    assert f"record {target.pk} was changed after sealing" in report
    assert "1 problem(s) found" in report


def test_a_removed_record_is_named(records):
    _seal()
    _sql("DELETE FROM consent_consentrecord WHERE id = %s", [records[0].pk])

    ok, report = _verify()

    assert not ok
    assert f"record {records[0].pk} was removed after sealing" in report


def test_a_record_inserted_behind_the_seal_is_named(records):
    _seal()
    sealed = records[0]
    backdated = sealed.created_at - datetime.timedelta(minutes=5)
    _sql(
        "INSERT INTO consent_consentrecord (receipt_id, consent_id, created_at, action, states, "
        "config_revision, policy_version, policy_language, banner_sha256, language, ip_prefix, "
        "user_agent, gpc) SELECT %s, consent_id, %s, 'accept_all', states, config_revision, "
        "policy_version, policy_language, banner_sha256, language, ip_prefix, user_agent, gpc "
        "FROM consent_consentrecord WHERE id = %s",
        [
            "0" * 32 if connection.vendor == "sqlite" else "00000000-0000-0000-0000-000000000000",
            backdated,
            sealed.pk,
        ],
    )
    inserted = ConsentRecord.objects.order_by("-id").first()

    ok, report = _verify()

    assert not ok
    assert f"record {inserted.pk} was inserted after sealing" in report


def test_tampering_with_the_seal_itself_is_detected(records):
    _seal()
    _sql(
        "UPDATE consent_consentsealentry SET record_sha256 = %s WHERE record_id = %s",
        ["f" * 64, records[2].pk],
    )

    ok, report = _verify()

    assert not ok
    assert "seal 1: its sealed entries were altered" in report


def test_records_newer_than_the_delay_wait_for_the_next_seal(client, demo_policy, settings):
    settings.CONSENT_SEAL_DELAY_SECONDS = 3600
    decide(client, action="accept_all")

    assert consent_log_seal() is None
    assert consent_log_seal(now=timezone.now() + datetime.timedelta(hours=2)).record_count == 1


@pytest.mark.django_db(transaction=True)
def test_sealing_does_not_block_consent_writes(demo_policy, settings, client):
    """A seal holding its transaction open must not make a visitor's decision wait."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite locks the whole database for any write; this holds on PostgreSQL")
    settings.CONSENT_SEAL_DELAY_SECONDS = 0
    decide(type(client)(), action="accept_all")
    sealing, release = threading.Event(), threading.Event()

    def seal_and_hold():
        try:
            with transaction.atomic():
                consent_log_seal()
                sealing.set()
                release.wait(10)
        finally:
            connections.close_all()

    sealer = threading.Thread(target=seal_and_hold)
    sealer.start()
    assert sealing.wait(10)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        response = decide(client, action="reject_all")
        assert response.status_code == 303
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    finally:
        release.set()
        sealer.join()
    assert ConsentRecord.objects.count() == 2


def test_a_back_dated_record_sealed_later_is_still_named(records, client):
    _seal()
    sealed = records[0]
    _sql(
        "INSERT INTO consent_consentrecord (receipt_id, consent_id, created_at, action, states, "
        "config_revision, policy_version, policy_language, banner_sha256, language, ip_prefix, "
        "user_agent, gpc) SELECT %s, consent_id, %s, 'accept_all', states, config_revision, "
        "policy_version, policy_language, banner_sha256, language, ip_prefix, user_agent, gpc "
        "FROM consent_consentrecord WHERE id = %s",
        [
            "1" * 32 if connection.vendor == "sqlite" else "11111111-1111-1111-1111-111111111111",
            sealed.created_at - datetime.timedelta(minutes=5),
            sealed.pk,
        ],
    )
    inserted = ConsentRecord.objects.order_by("-id").first()
    decide(type(client)(), action="withdraw", scope="all")

    _seal()  # a later seal must not launder it
    ok, report = _verify()

    assert not ok
    assert f"record {inserted.pk} was inserted" in report


# --- Retention: whole sealed batches purged, the chain still proven ------------------------------


def _purge() -> str:
    out = StringIO()
    call_command("purge_expired", stdout=out)
    return out.getvalue()


def _past_retention(moment) -> datetime.datetime:
    """Just after the records sealed at `moment` are past retention."""
    return moment.replace(year=moment.year + conf.get("CONSENT_PROOF_YEARS")) + datetime.timedelta(
        days=conf.get("CONSENT_MAX_AGE_DAYS"), minutes=5
    )


def test_a_batch_past_retention_is_purged_whole_and_the_log_still_verifies(records, client):
    import time_machine

    from consent.models import ConsentSubject

    first = consent_log_seal()
    ConsentSubject.objects.create(consent_id=records[0].consent_id, email="old@example.org")
    later = _past_retention(first.cutoff)
    with time_machine.travel(later - datetime.timedelta(days=2)):
        decide(type(client)(), action="accept_all")  # a newer decision, still in retention
        second = consent_log_seal(now=timezone.now() + datetime.timedelta(minutes=2))

    with time_machine.travel(later - datetime.timedelta(minutes=10)):
        assert "Cookie consent records" not in _purge()
    assert ConsentRecord.objects.count() == 4
    with time_machine.travel(later):
        output = _purge()
        ok, report = _verify()

    assert "Cookie consent records: 3 deleted" in output
    assert list(ConsentRecord.objects.values_list("pk", flat=True)) == [
        e.record_id for e in second.entries.all()
    ]
    assert not ConsentSubject.objects.exists()  # the link pointed at purged records only
    assert ok, report
    assert f"Seal 1: its 3 record(s) up to {first.cutoff.isoformat()} were purged" in report
    assert "2 seal(s), 1 sealed record(s) checked: the consent log is intact." in report


def test_unsealed_records_are_never_purged(records):
    import time_machine

    with time_machine.travel(_past_retention(timezone.now())):
        _purge()

    assert ConsentRecord.objects.count() == 3


def test_a_batch_purged_before_its_time_is_reported_as_tampering(records):
    seal = consent_log_seal()
    _sql("DELETE FROM consent_consentsealentry WHERE seal_id = %s", [seal.pk])
    for record in records:
        _sql("DELETE FROM consent_consentrecord WHERE id = %s", [record.pk])
    ConsentSeal.objects.filter(pk=seal.pk).update(purged_at=timezone.now())

    ok, report = _verify()

    assert not ok
    assert "seal 1 was purged on" in report
    assert "before its records' retention ended" in report
