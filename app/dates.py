"""Dates and times for people, through Babel, one style per kind of value (issue 13: a screen showed
"12/7/26, 4:23 AM" beside "Dec 7, 2026"):

- a day (when something happened, a due date): the medium date, "Dec 7, 2026" / "7 dic 2026"; in a sentence of
  a letter (a digest's "From … to …", a link's "until the end of …"): the long date, "December 7, 2026";
- a moment (when something was made, sent or expires): the same date and the short time, "Dec 7, 2026, 4:23 AM",
  in the school's time zone;
- an appointment (a conference): the full date and the short time, "Thursday, January 14, 2027, 6:00 PM".
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime, get_date_format, get_datetime_format, get_time_format

from app import i18n


def zone(timezone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@lru_cache(maxsize=64)
def _pattern(date_style: str, locale: str) -> str:
    return (get_datetime_format(date_style, locale=locale)
            .replace("{1}", get_date_format(date_style, locale=locale).pattern)
            .replace("{0}", get_time_format("short", locale=locale).pattern))


@lru_cache(maxsize=4096)
def _day(value: date, style: str, locale: str) -> str:
    # A timeline page shows twenty dates, mostly the same few; Babel parses the locale and pattern for each one.
    return format_date(value, format=style, locale=locale)


def day(value: date | datetime | None, *, timezone: str | None = None, in_words: bool = False) -> str:
    """A day, e.g. "Dec 7, 2026" ("December 7, 2026" in words, for prose); a datetime counts as the day it is in
    the school's zone."""
    if not value:
        return ""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)  # stored times are naive UTC
        value = aware.astimezone(zone(timezone)).date()
    return _day(value, "long" if in_words else "medium", i18n.get_locale())


def moment(value: datetime | None, *, timezone: str | None = None) -> str:
    """A moment, e.g. "Dec 7, 2026, 4:23 AM", in the school's zone (stored times are UTC)."""
    if not value:
        return ""
    locale = i18n.get_locale()
    return format_datetime(value, _pattern("medium", locale), tzinfo=zone(timezone), locale=locale)


def appointment(value: datetime, *, timezone: str | None) -> str:
    """An appointment, e.g. "Thursday, January 14, 2027, 6:00 PM", in the school's zone."""
    locale = i18n.get_locale()
    pattern = (get_datetime_format("long", locale=locale)
               .replace("{1}", get_date_format("full", locale=locale).pattern)
               .replace("{0}", get_time_format("short", locale=locale).pattern))
    return format_datetime(value, pattern, tzinfo=zone(timezone), locale=locale)


def time_of_day(value: datetime, *, timezone: str | None) -> str:
    """Only the time, e.g. "6:30 PM" (the end of a slot that began on the same day)."""
    locale = i18n.get_locale()
    return format_datetime(value, get_time_format("short", locale=locale).pattern, tzinfo=zone(timezone), locale=locale)
