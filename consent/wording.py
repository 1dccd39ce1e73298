"""Sentences of the customer's pages that depend on a number (gettext's plurals), and
the pages' commonest way of writing a day.

Jinja2 templates print these: Django's `makemessages` reads a template's `_("…")` but not
its `ngettext`, so a plural is written here, where `makemessages` reads Python.
"""

import datetime as dt
import functools

from django.utils import dates, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def day_text(value: dt.date, *, language: str, with_time: bool = False) -> str:
    """What Django's `date` filter writes for "j F Y" ("7 december 2026"), or with
    `with_time` for "j F Y, H:i", of a date or of a moment already in the page's time
    zone. Written out: Django's formatter is ~15 µs a date, and a history page prints a
    moment per line (tests/test_jinja.py compares the two, both languages, every month,
    either side of midnight and of a change of summer time)."""
    text = f"{value.day} {_month_names(language)[value.month]} {value.year}"
    if not with_time:
        return text
    assert isinstance(value, dt.datetime)
    return f"{text}, {value.hour:02d}:{value.minute:02d}"


@functools.cache
def _month_names(language):
    # Django's own names, as its `date` filter's "F".
    with translation.override(language):
        return {number: str(name) for number, name in dates.MONTHS.items()}


def choices_on(dashboard) -> str:
    """The summary at the top of the dashboard: "2 van 5 keuzes aan"."""
    total = len(dashboard.choices)
    return ngettext("%(on)s van %(total)s keuze aan", "%(on)s van %(total)s keuzes aan", total) % {
        "on": dashboard.on_count,
        "total": total,
    }


def expired_by_age(card) -> str:
    """Why a consent no longer counts when it grew too old, in the purpose's own term."""
    if card.max_age_years:
        years = card.max_age_years
        return ngettext(
            "Uw toestemming is verlopen: wij laten een toestemming hoogstens %(years)s jaar "
            "gelden, en vragen het u daarna opnieuw.",
            "Uw toestemming is verlopen: wij laten een toestemming hoogstens %(years)s jaar "
            "gelden, en vragen het u daarna opnieuw.",
            years,
        ) % {"years": years}
    return _(
        "Uw toestemming is verlopen: wij laten een toestemming hoogstens %(days)s dagen "
        "gelden, en vragen het u daarna opnieuw."
    ) % {"days": card.max_age_days}
