"""Turkish business days for İYS's 3-business-day window (iys.md §12.2)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

IST = ZoneInfo("Europe/Istanbul")


@lru_cache(maxsize=16)
def _turkish_holidays(year: int):
    return holidays.country_holidays("TR", years=[year])


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _turkish_holidays(day.year)


def add_business_days(moment: datetime, days: int) -> datetime:
    local = moment.astimezone(IST)
    current = local.date()
    added = 0
    while added < days:
        current += timedelta(days=1)
        if is_business_day(current):
            added += 1
    return datetime.combine(current, local.timetz()).replace(hour=23, minute=59, second=59)
