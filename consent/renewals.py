"""A renewal: a grant on the very version of a consent that still counted.

The ledger records a renewal as what it is to the law, a grant (`granted`, with the text
read and its hash): the chain, the log and an outside verifier need nothing new. It is
recognised from the ledger alone, so every page and the feed call the same event the same
thing: a grant whose previous event about the purpose is a grant on the same version, made
on or before that grant's last valid day. It restarts the consent's age (validity counts
from the newest grant), so it ends later; a grant after an expiry, a withdrawal or a
material change is a new consent, not a renewal.

`record_choice` decides the same way before writing (`RecordedChoice.renewed`).
"""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import F, Window
from django.db.models.functions import Lag
from django.utils import timezone

from ledger.models import Action, ConsentEvent

from .validity import last_valid_day


def with_previous(events):
    """`events` (of one customer) annotated with the previous event about the same purpose:
    its action, version and time. One window over the customer's events, in the same query."""

    def previous(field: str) -> Window:
        return Window(Lag(field), partition_by=[F("purpose_id")], order_by=F("sequence").asc())

    return events.annotate(
        previous_action=previous("action"),
        previous_version_id=previous("purpose_version_id"),
        previous_occurred_at=previous("occurred_at"),
    )


def is_renewal(event: ConsentEvent) -> bool:
    """Whether `event` renewed a consent that still counted (see the module)."""
    if event.action != Action.GRANTED or event.purpose_id is None:
        return False
    previous: Mapping[str, Any] | None
    if hasattr(event, "previous_action"):  # annotated by `with_previous`
        previous = {
            "action": event.previous_action,
            "purpose_version_id": getattr(event, "previous_version_id"),  # noqa: B009
            "occurred_at": getattr(event, "previous_occurred_at"),  # noqa: B009
        }
    else:
        previous = (
            ConsentEvent.objects.filter(
                customer_id=event.customer_id,
                purpose_id=event.purpose_id,
                sequence__lt=event.sequence,
            )
            .order_by("-sequence")
            .values("action", "purpose_version_id", "occurred_at")
            .first()
        )
    return previous is not None and renews(
        previous_action=previous["action"],
        previous_version_id=previous["purpose_version_id"],
        previous_at=previous["occurred_at"],
        version_id=event.purpose_version_id,
        at=event.occurred_at,
    )


def renews(
    *,
    previous_action: str | None,
    previous_version_id: int | None,
    previous_at: dt.datetime | None,
    version_id: int | None,
    at: dt.datetime,
) -> bool:
    """A grant on `version_id` at `at` renews the previous choice about its purpose when
    that was a grant on the same version whose last valid day `at` had not passed."""
    return (
        previous_action == Action.GRANTED
        and previous_at is not None
        and previous_version_id == version_id
        and timezone.localdate(at) <= last_valid_day(previous_at)
    )
