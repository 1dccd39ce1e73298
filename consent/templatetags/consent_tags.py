"""Template helpers for the customer's pages."""

from django import template
from django.conf import settings
from django.utils.translation import get_language

from consent.staff import how_recorded as how_recorded_for
from infra.languages import in_language

register = template.Library()


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
