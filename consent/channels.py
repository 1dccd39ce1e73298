"""The contact channels: how the bank may contact a customer about its offers (issue 25).

Each channel is a purpose of its own (consent 0013: `contact_email`, `contact_phone`,
`contact_post`), on the customer's consent, so everything a purpose has (its versioned
and hashed text, the rules of `record_choice`, history, receipts, export, feed, API) is
a channel's too. This module only says which purposes are channels, and whether a
customer's choice for one counts now: by `consent.validity`, the one definition of a
consent that counts (version-bound, 16 or older, no objection, not left the bank).

The bank's own app and website are not a channel: offers are shown there under the
offers' own consents, and the dashboard says so without a switch.
"""

import datetime as dt

from django.db.models import QuerySet

from .models import Customer
from .validity import is_consent_valid, valid_consents

# Channel -> the code of its purpose.
CHANNELS = {"email": "contact_email", "phone": "contact_phone", "post": "contact_post"}
# The purposes' codes: which dashboard cards are channels.
CHANNEL_PURPOSES = frozenset(CHANNELS.values())


def purpose_of(channel: str) -> str:
    """The purpose code of `channel` ("phone" -> "contact_phone"); KeyError otherwise."""
    return CHANNELS[channel]


def is_channel(purpose_code: str) -> bool:
    return purpose_code in CHANNEL_PURPOSES


def channel_counts(*, customer: Customer, channel: str, at: dt.datetime) -> bool:
    """Whether the customer's choice for `channel` counts at `at`: switched on, to the
    current text, and valid as every consent is. Off unless they chose it."""
    return is_consent_valid(customer=customer, purpose_code=purpose_of(channel), at=at)


def customers_reachable_by(*, channel: str, at: dt.datetime) -> QuerySet:
    """The ids of the customers whose choice for `channel` counts at `at`, as a subquery
    (`.filter(customer_id__in=customers_reachable_by(…))`): set-based, judged inside the
    SQL that lists them."""
    return valid_consents(purpose_code=purpose_of(channel), at=at).values("customer_id")
