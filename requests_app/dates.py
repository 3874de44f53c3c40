"""Deadlines of data-subject requests (GDPR Art. 12(3)).

"One month" is a calendar month from receipt of the verified request: 15 March gives
15 April, and a day that the next month lacks falls back to that month's last day, so
31 January gives 28 February (29 in a leap year).
"""

import calendar
import datetime

MAX_EXTENSION_MONTHS = 2


def add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def due_date_for(received: datetime.date) -> datetime.date:
    return add_months(received, 1)
