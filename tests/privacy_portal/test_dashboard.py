"""The DPO's dashboard: its figures equal counts made here, independently, from the seed."""

import datetime
import random
import statistics
import uuid
from http import HTTPStatus

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from consent.models import ConsentRecord, ParentalConsent, ParentalConsentEvent
from privacy_portal.roles import roles_sync
from requests_app.models import DataSubjectRequest, ProcessingPurpose

pytestmark = pytest.mark.django_db

Status = DataSubjectRequest.Status
STATUSES = list(Status)
ACTIONS = ["accept_all", "reject_all", "custom", "withdraw", "gpc"]
CATEGORIES = ["preferences", "analytics", "marketing"]


def at(day: datetime.date, hour: int = 12) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def seeded(demo_policy):
    """Requests, cookie decisions and parental consents spread over the last months."""
    rng = random.Random(20261130)
    today = timezone.localdate()
    purpose = ProcessingPurpose.objects.get(slug="data-subject-requests")
    requests = []
    for i in range(120):
        status = rng.choice(STATUSES)
        verified = today - datetime.timedelta(days=rng.randint(0, 400))
        due = verified + datetime.timedelta(days=rng.choice([20, 30, 60]))
        closed = None
        if status in (Status.COMPLETED, Status.REJECTED):
            closed = at(verified + datetime.timedelta(days=rng.randint(0, 70)), rng.randint(0, 23))
        requests.append(
            DataSubjectRequest(
                reference=None if status == Status.UNVERIFIED else f"DSR-T-{i:05d}",
                kind="access",
                purpose=purpose,
                status=status,
                email=f"person{i}@example.org",
                verified_at=None if status == Status.UNVERIFIED else at(verified, 9),
                due_date=None if status == Status.UNVERIFIED else due,
                closed_at=closed,
            )
        )
    DataSubjectRequest.objects.bulk_create(requests)
    records = []
    for _ in range(400):
        day = today - datetime.timedelta(days=rng.randint(0, 100))
        records.append(
            ConsentRecord(
                consent_id=uuid.uuid4(),
                created_at=at(day, rng.randint(0, 23)),
                action=rng.choice(ACTIONS),
                states={"necessary": True} | {c: rng.random() < 0.5 for c in CATEGORIES},
                config_revision="r",
                banner_sha256="0" * 64,
                language="en",
            )
        )
    ConsentRecord.objects.bulk_create(records)
    final_states = []
    for _ in range(9):
        consent = ParentalConsent.objects.create(country="DE", parent_email_hash="h" * 64)
        path = rng.choice([["requested"], ["requested", "consented"], ["requested", "expired"]])
        for n, state in enumerate(path):
            ParentalConsentEvent.objects.create(
                consent=consent, state=state, at=timezone.now() + datetime.timedelta(seconds=n)
            )
        final_states.append(path[-1])
    return {"today": today, "requests": requests, "records": records, "parental": final_states}


def test_request_figures_match_the_seed(seeded, dpo_client):
    today = seeded["today"]
    requests = seeded["requests"]
    open_ = [r for r in requests if r.status in DataSubjectRequest.OPEN_STATUSES]
    year_ago = timezone.now() - datetime.timedelta(days=365)
    closed = [
        r
        for r in requests
        if r.status in (Status.COMPLETED, Status.REJECTED) and r.closed_at >= year_ago
    ]
    on_time = [r for r in closed if timezone.localdate(r.closed_at) <= r.due_date]

    page = dpo_client.get("/admin/")

    assert page.status_code == HTTPStatus.OK
    part = page.context["dashboard_requests"]
    figures = part["figures"]
    assert [(f.label, f.value) for f in figures.open_by_status] == [
        (str(s.label), sum(r.status == s for r in open_)) for s in DataSubjectRequest.OPEN_STATUSES
    ]
    assert part["total_open"] == len(open_)
    assert figures.overdue.value == sum(r.due_date < today for r in open_)
    assert figures.due_this_week.value == sum(
        today <= r.due_date <= today + datetime.timedelta(days=7) for r in open_
    )
    assert (figures.closed, figures.closed_on_time) == (len(closed), len(on_time))
    assert figures.median_days_to_close == pytest.approx(
        statistics.median((r.closed_at - r.verified_at).total_seconds() / 86400 for r in closed)
    )


def test_consent_figures_per_week_match_the_seed(seeded, dpo_client):
    today = seeded["today"]
    first = today - datetime.timedelta(days=today.weekday(), weeks=11)

    weeks = dpo_client.get("/admin/").context["dashboard_consent"]["weeks"]

    assert [w.start for w in weeks] == [first + datetime.timedelta(weeks=i) for i in range(12)]
    for week in weeks:
        inside = [
            r
            for r in seeded["records"]
            if week.start <= timezone.localdate(r.created_at) < week.start + datetime.timedelta(7)
            and r.action in ("accept_all", "reject_all", "custom")
        ]
        for action in ("accept_all", "reject_all", "custom"):
            assert week.decisions[action] == sum(r.action == action for r in inside)
        for category in CATEGORIES:
            assert week.granted.get(category, 0) == sum(r.states[category] for r in inside)
    assert sum(w.total for w in weeks) > 100  # the seed really falls inside the 12 weeks


def test_pending_parental_consents_match_the_seed(seeded, dpo_client):
    pending = dpo_client.get("/admin/").context["dashboard_parental"]

    assert pending.value == seeded["parental"].count("requested")
    listed = dpo_client.get(pending.url)
    assert listed.status_code == HTTPStatus.OK
    assert len(listed.context["cl"].result_list) == pending.value


def test_charts_are_svg_with_a_text_alternative_and_link_to_the_changelists(seeded, dpo_client):
    page = dpo_client.get("/admin/")
    html = page.text

    assert html.count('<svg class="chart"') == 4
    for chart in ("chart-open", "chart-deadlines", "chart-consent", "chart-rates"):
        assert f'aria-labelledby="{chart}-title {chart}-desc"' in html
        assert f'<title id="{chart}-title">' in html
        assert f'<desc id="{chart}-desc">' in html
    assert "The figures as a table" in html
    assert "<script" not in html.split('id="dashboard"', 1)[1].split("</div>", 1)[0]
    figures = page.context["dashboard_requests"]["figures"]
    for figure in [*figures.open_by_status, figures.overdue, figures.due_this_week]:
        assert f'href="{figure.url.replace("&", "&amp;")}"' in html
        listed = dpo_client.get(figure.url)
        assert listed.status_code == HTTPStatus.OK
        assert listed.context["cl"].result_count == figure.value
    week = page.context["dashboard_consent"]["weeks"][-2]
    listed = dpo_client.get(week.url("accept_all"))
    assert listed.context["cl"].result_count == week.decisions["accept_all"]


def test_the_dashboard_shows_only_what_the_user_may_read(seeded):
    user = User.objects.create_user("mark", "mark@example.com", "pw", is_staff=True)
    user.groups.add(roles_sync()["Marketing"])
    client = Client()
    client.force_login(user)

    page = client.get("/admin/")

    assert page.status_code == HTTPStatus.OK
    assert "dashboard" not in page.context
    assert '<svg class="chart"' not in page.text
