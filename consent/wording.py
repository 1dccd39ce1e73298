"""Sentences of the customer's pages that depend on a number (gettext's plurals).

Jinja2 templates print these: Django's `makemessages` reads a template's `_("…")` but not
its `ngettext`, so a plural is written here, where `makemessages` reads Python.
"""

from django.utils.translation import gettext as _
from django.utils.translation import ngettext


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
