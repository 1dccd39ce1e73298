"""Staff review of the engine's suggestions (DESIGN §7, §9): the only way an offer becomes
`approved` or `rejected`.

Every function takes the offers by id and works set-based, in one transaction, with the
offers locked: a withdrawal running at the same moment either retracted them first (and
they are skipped here) or waits and retracts them after. Approving checks consent again
at that moment, with the same SQL the customer's page uses (`Offer.consent_still_valid`):
an offer whose consent no longer counts is retracted instead, never approved.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Offer, OfferStatus


class ReviewError(Exception):
    """A review action that cannot be done as asked. Nothing was written."""


@dataclass(frozen=True)
class Reviewed:
    done: int = 0  # approved (or rejected)
    retracted: int = 0  # consent no longer valid: retracted instead of approved
    expired: int = 0  # past its valid_until: expired instead of approved
    skipped: int = 0  # not waiting for review (any more): left as it was


def _lock_waiting(offer_ids: Iterable[int]) -> list[int]:
    """Lock the offers among `offer_ids` that still wait for review; return their ids."""
    return list(
        Offer.objects.select_for_update()
        .filter(pk__in=list(offer_ids), status=OfferStatus.PROPOSED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def approve(*, offer_ids: Iterable[int], reviewer, at: dt.datetime) -> Reviewed:
    offer_ids = list(offer_ids)
    waiting = _lock_waiting(offer_ids)
    today = timezone.localdate(at)
    stamp = {"status_changed_at": at, "reviewed_by": reviewer, "reviewed_at": at}
    offers = Offer.objects.filter(pk__in=waiting, status=OfferStatus.PROPOSED)
    expired = offers.filter(valid_until__lt=today).update(status=OfferStatus.EXPIRED, **stamp)
    offers = offers.filter(valid_until__gte=today)
    still_valid = offers.consent_still_valid(at=at).values("pk")
    retracted = offers.exclude(pk__in=still_valid).update(status=OfferStatus.RETRACTED, **stamp)
    approved = offers.filter(pk__in=still_valid).update(status=OfferStatus.APPROVED, **stamp)
    return Reviewed(
        done=approved,
        retracted=retracted,
        expired=expired,
        skipped=len(set(offer_ids)) - len(waiting),
    )


@transaction.atomic
def reject(*, offer_ids: Iterable[int], reviewer, reason: str, at: dt.datetime) -> Reviewed:
    """Reject with a reason (required: DESIGN §7). The customer never sees a rejected
    offer, and the engine does not suggest that product again for the cool-down period."""
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError(_("Geef een reden om af te wijzen."))
    offer_ids = list(offer_ids)
    waiting = _lock_waiting(offer_ids)
    rejected = Offer.objects.filter(pk__in=waiting).update(
        status=OfferStatus.REJECTED,
        rejection_reason=reason,
        status_changed_at=at,
        reviewed_by=reviewer,
        reviewed_at=at,
    )
    return Reviewed(done=rejected, skipped=len(set(offer_ids)) - len(waiting))
