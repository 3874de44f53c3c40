import datetime

import pytest

from requests_app.dates import add_months, due_date_for


@pytest.mark.parametrize(
    ("received", "due"),
    [
        ("2026-03-15", "2026-04-15"),
        ("2027-01-31", "2027-02-28"),
        ("2028-01-31", "2028-02-29"),  # leap year
        ("2026-03-31", "2026-04-30"),
        ("2026-12-31", "2027-01-31"),
        ("2026-08-31", "2026-09-30"),
    ],
)
def test_due_date_is_one_calendar_month_later(received, due):
    assert due_date_for(datetime.date.fromisoformat(received)) == datetime.date.fromisoformat(due)


def test_extension_adds_months_across_the_year():
    assert add_months(datetime.date(2026, 11, 30), 2) == datetime.date(2027, 1, 30)
    assert add_months(datetime.date(2026, 12, 31), 2) == datetime.date(2027, 2, 28)
