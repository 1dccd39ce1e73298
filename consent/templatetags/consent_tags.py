"""Template helpers for the customer's pages."""

import datetime as dt
from decimal import Decimal

from django import template
from django.conf import settings
from django.utils import numberformat, timezone
from django.utils.formats import get_format
from django.utils.translation import get_language

from consent.renewals import is_renewal
from consent.staff import how_recorded as how_recorded_for
from infra.languages import in_language, text_language

register = template.Library()


@register.filter
def renewal(event) -> bool:
    """Whether a ledger event renewed a consent that still counted (`consent.renewals`)."""
    return is_renewal(event)


@register.simple_tag
def notice_text(version, field):
    """A notice field (`title`, `description`, `data_used`) in the active language."""
    return version.text(field, get_language() or "nl")


@register.simple_tag(name="in_language")
def in_active_language(obj, field):
    """A model's `<field>_nl` / `<field>_en` in the active language."""
    return in_language(obj, field)


@register.simple_tag
def notice_hash(version, language):
    """The SHA-256 the ledger stores for this version read in `language`."""
    return version.notice_sha256(language)


@register.simple_tag(takes_context=True)
def how_recorded(context, event):
    """How `event` came about, for the customer who is logged in (consent.staff)."""
    user = context.get("user")
    return how_recorded_for(event, customer_user_id=getattr(user, "pk", None))


# The bank's customer service, for a customer who cannot log in (BANK_PHONE overrides it:
# a pair of the number as written and as dialled).
BANK_PHONE = ("020 123 45 67", "+31201234567")


@register.simple_tag
def bank_phone():
    display, tel = getattr(settings, "BANK_PHONE", BANK_PHONE)
    return {"display": display, "tel": tel}


# --- The export as a page: machine formats (ISO 8601, decimal strings) made readable. ----
@register.filter
def moment(value):
    """An ISO 8601 timestamp from the export as an aware datetime (`date` then shows it in
    local time, as the history does); None stays None."""
    return dt.datetime.fromisoformat(value) if value else None


@register.filter
def day(value):
    """An ISO 8601 date (or the date part of a timestamp, in local time) as a date."""
    if not value:
        return None
    if "T" in value:
        return timezone.localtime(dt.datetime.fromisoformat(value)).date()
    return dt.date.fromisoformat(value)


CURRENCY_SYMBOLS = {"EUR": "€"}


@register.filter
def money(amount, currency="EUR"):
    """An amount as people read it in the active language: "€ 4.200,00" and "€ -62,10" in
    Dutch, "€4,200.00" and "-€62.10" in English; other currencies by their code."""
    value = Decimal(str(amount))
    language = get_language() or "nl"
    number = numberformat.format(
        abs(value),
        get_format("DECIMAL_SEPARATOR", language),
        decimal_pos=2,
        grouping=3,
        thousand_sep=get_format("THOUSAND_SEPARATOR", language),
        force_grouping=True,
    )
    symbol = CURRENCY_SYMBOLS.get(currency, currency)
    sign = "-" if value < 0 else ""
    if text_language(language) == "en" and symbol != currency:
        return f"{sign}{symbol}{number}"
    return f"{symbol} {sign}{number}"


@register.filter
def iban(value):
    """An IBAN in groups of four, as it is printed on a card ("NL50 DEMO 0001 …")."""
    compact = str(value).replace(" ", "")
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
