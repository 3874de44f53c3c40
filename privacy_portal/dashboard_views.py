"""The dashboard's parts, built for one staff user: figures (privacy_portal.dashboard) drawn
as charts (privacy_portal.charts). Each part needs the view permission of what it counts."""

from django.utils import formats
from django.utils.translation import gettext as _

from consent.models import ConsentRecord

from . import charts
from .dashboard import (
    DECISIONS,
    category_names,
    consent_weeks,
    parental_consents_pending,
    request_figures,
)

PATTERN = {"accept_all": "solid", "reject_all": "hatch", "custom": "dots"}


def _requests_part() -> dict:
    figures = request_figures()
    status_bars = [charts.Bar(f.label, f.value, f.url) for f in figures.open_by_status]
    deadline_bars = [
        charts.Bar(_("Due within 7 days"), figures.due_this_week.value, figures.due_this_week.url),
        charts.Bar(_("Overdue"), figures.overdue.value, figures.overdue.url),
    ]
    total_open = sum(bar.value for bar in status_bars)
    return {
        "figures": figures,
        "total_open": total_open,
        "status_chart": charts.bar_chart(
            "chart-open",
            title=_("Open requests by status"),
            description=_("%(total)d open requests: %(parts)s.")
            % {
                "total": total_open,
                "parts": ", ".join(f"{bar.value} {bar.label.lower()}" for bar in status_bars),
            },
            bars=status_bars,
        ),
        "status_bars": status_bars,
        "deadline_chart": charts.bar_chart(
            "chart-deadlines",
            title=_("Deadlines"),
            description=_("%(week)d open requests are due within 7 days; %(overdue)d are overdue.")
            % {"week": figures.due_this_week.value, "overdue": figures.overdue.value},
            bars=deadline_bars,
        ),
        "deadline_bars": deadline_bars,
    }


def _consent_part() -> dict:
    weeks = consent_weeks()
    names = category_names()
    labels = dict(ConsentRecord.Action.choices)
    series = [charts.Series(a.value, str(labels[a.value]), PATTERN[a.value]) for a in DECISIONS]
    columns = [
        charts.Column(
            label=formats.date_format(week.start, "j M"),
            title=_("Week of %(date)s") % {"date": formats.date_format(week.start, "j M Y")},
            values=week.decisions,
            urls={a.value: week.url(a.value) for a in DECISIONS},
        )
        for week in weeks
    ]
    total = sum(week.total for week in weeks)
    table_rows = [
        {
            "week": column.title,
            "url": week.url(),
            "counts": [(week.decisions[a.value], week.url(a.value)) for a in DECISIONS],
            "total": week.total,
            "rates": [
                "—" if week.rate(slug) is None else f"{week.rate(slug):.0%}" for slug in names
            ],
        }
        for week, column in zip(weeks, columns, strict=True)
    ]
    rate_bars = []
    for slug, name in names.items():
        granted = sum(week.granted.get(slug, 0) for week in weeks)
        rate = granted / total if total else 0
        rate_bars.append(
            charts.Bar(
                name,
                round(rate * 100),
                weeks[-1].url() if weeks else "",
                text=f"{rate:.0%} ({granted}/{total})" if total else "—",
            )
        )
    return {
        "weeks": weeks,
        "category_names": names,
        "table_rows": table_rows,
        "decisions_chart": charts.stacked_columns(
            "chart-consent",
            title=_("Cookie decisions per week, last %(n)d weeks") % {"n": len(weeks)},
            description=_(
                "%(total)d decisions on the banner in %(n)d weeks; the table below gives each "
                "week's accept all, reject all and custom counts and the consent rate per "
                "category."
            )
            % {"total": total, "n": len(weeks)},
            series=series,
            columns=columns,
        ),
        "rate_chart": charts.bar_chart(
            "chart-rates",
            title=_("Consent rate per category, last %(n)d weeks") % {"n": len(weeks)},
            description=", ".join(f"{bar.label}: {bar.text}" for bar in rate_bars),
            bars=rate_bars,
        ),
        "decision_labels": [str(labels[a.value]) for a in DECISIONS],
    }


def dashboard_context(user) -> dict:
    if not user.is_active or not user.is_staff:
        return {}
    context: dict = {}
    if user.has_perm("requests_app.view_datasubjectrequest"):
        context["dashboard_requests"] = _requests_part()
    if user.has_perm("consent.view_consentrecord"):
        context["dashboard_consent"] = _consent_part()
    if user.has_perm("consent.view_parentalconsent"):
        context["dashboard_parental"] = parental_consents_pending()
    if context:
        context["dashboard"] = True
    return context
