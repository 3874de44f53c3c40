"""The figures of the DPO's dashboard (the admin index): reads only.

Each figure comes with the admin URL that lists exactly what it counts, so a number on the
dashboard is always one click away from the records behind it.
"""

import datetime
import statistics
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.db.models.functions import TruncWeek
from django.urls import reverse
from django.utils import timezone

from consent.models import ConsentRecord, CookieCategory, ParentalConsent, ParentalConsentEvent
from requests_app.models import DataSubjectRequest

Status = DataSubjectRequest.Status
Action = ConsentRecord.Action
DECISIONS = [Action.ACCEPT_ALL, Action.REJECT_ALL, Action.CUSTOM]
WEEKS = 12
CLOSED_WINDOW_DAYS = 365


def _changelist(model, **params) -> str:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


@dataclass(frozen=True)
class Figure:
    label: str
    value: int
    url: str


@dataclass(frozen=True)
class RequestFigures:
    open_by_status: list[Figure]
    due_this_week: Figure
    overdue: Figure
    closed: int
    closed_on_time: int
    median_days_to_close: float | None
    closed_url: str

    @property
    def on_time_rate(self) -> float | None:
        return self.closed_on_time / self.closed if self.closed else None


def request_figures(*, today: datetime.date | None = None) -> RequestFigures:
    """Open requests by status, the deadline counts, and how the last year's were closed.

    "On time" means closed (completed or rejected) on or before the due date in force,
    extensions included; the window is the requests closed in the last 365 days.
    """
    today = today or timezone.localdate()
    requests = DataSubjectRequest.objects
    counts = dict(requests.open().values_list("status").annotate(n=Count("pk")).order_by("status"))
    open_by_status = [
        Figure(
            str(status.label),
            counts.get(status, 0),
            _changelist(DataSubjectRequest, status__exact=status.value),
        )
        for status in DataSubjectRequest.OPEN_STATUSES
    ]
    week = requests.open().filter(
        due_date__gte=today, due_date__lte=today + datetime.timedelta(days=7)
    )
    since = timezone.now() - datetime.timedelta(days=CLOSED_WINDOW_DAYS)
    closed = list(
        requests.filter(
            status__in=[Status.COMPLETED, Status.REJECTED],
            closed_at__gte=since,
            verified_at__isnull=False,
        ).values_list("verified_at", "closed_at", "due_date")
    )
    on_time = sum(
        1
        for _verified, closed_at, due in closed
        if due is not None and timezone.localdate(closed_at) <= due
    )
    durations = [
        (closed_at - verified).total_seconds() / 86400 for verified, closed_at, _ in closed
    ]
    return RequestFigures(
        open_by_status=open_by_status,
        due_this_week=Figure(
            "due within 7 days", week.count(), _changelist(DataSubjectRequest, deadline="week")
        ),
        overdue=Figure(
            "overdue",
            requests.overdue(today).count(),
            _changelist(DataSubjectRequest, deadline="overdue"),
        ),
        closed=len(closed),
        closed_on_time=on_time,
        median_days_to_close=statistics.median(durations) if durations else None,
        closed_url=_changelist(DataSubjectRequest, status__exact=Status.COMPLETED.value),
    )


@dataclass
class ConsentWeek:
    start: datetime.date
    decisions: dict[str, int] = field(default_factory=dict)  # action -> count
    granted: dict[str, int] = field(default_factory=dict)  # category slug -> decisions granting

    @property
    def total(self) -> int:
        return sum(self.decisions.values())

    def rate(self, slug: str) -> float | None:
        return self.granted.get(slug, 0) / self.total if self.total else None

    def url(self, action: str | None = None) -> str:
        params = {
            "created_at__gte": str(_midnight(self.start)),
            "created_at__lt": str(_midnight(self.start + datetime.timedelta(days=7))),
        }
        if action:
            params["action__exact"] = action
        return _changelist(ConsentRecord, **params)


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def week_start(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def consent_weeks(*, today: datetime.date | None = None, weeks: int = WEEKS) -> list[ConsentWeek]:
    """Cookie decisions per week (Monday to Sunday, this week last) for `weeks` weeks: how
    many accepted all, rejected all or chose, and per optional category how many of those
    decisions granted it. Withdrawals and GPC signals are not decisions on the banner and are
    left out. One grouped query, whatever the size of the log."""
    today = today or timezone.localdate()
    first = week_start(today) - datetime.timedelta(weeks=weeks - 1)
    slugs = list(
        CookieCategory.objects.filter(is_necessary=False)
        .order_by("order", "pk")
        .values_list("slug", flat=True)
    )
    start = _midnight(first)
    rows = (
        ConsentRecord.objects.filter(created_at__gte=start, action__in=DECISIONS)
        .annotate(week=TruncWeek("created_at"))
        .values("week", "action")
        .annotate(
            n=Count("pk"),
            **{
                f"granted_{i}": Count("pk", filter=Q(**{f"states__{slug}": True}))
                for i, slug in enumerate(slugs)
            },
        )
        .order_by("week", "action")
    )
    by_start = {
        first + datetime.timedelta(weeks=i): ConsentWeek(first + datetime.timedelta(weeks=i))
        for i in range(weeks)
    }
    for row in rows:
        week_day = row["week"]
        if isinstance(week_day, datetime.datetime):
            week_day = (
                timezone.localdate(week_day) if timezone.is_aware(week_day) else (week_day.date())
            )
        week = by_start.get(week_start(week_day))
        if week is None:
            continue
        week.decisions[row["action"]] = week.decisions.get(row["action"], 0) + row["n"]
        for i, slug in enumerate(slugs):
            week.granted[slug] = week.granted.get(slug, 0) + row[f"granted_{i}"]
    for week in by_start.values():
        for action in DECISIONS:
            week.decisions.setdefault(action.value, 0)
    return list(by_start.values())


def category_names() -> dict[str, str]:
    return dict(
        CookieCategory.objects.filter(is_necessary=False)
        .order_by("order", "pk")
        .values_list("slug", "name")
    )


def parental_consents_pending() -> Figure:
    """Parents asked who have not answered yet (the latest event is still the request)."""
    count = ParentalConsent.objects.pending().count()
    return Figure(
        "pending parental consents",
        count,
        _changelist(ParentalConsent, state=ParentalConsentEvent.State.REQUESTED.value),
    )
