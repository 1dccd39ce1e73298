"""Staff review of the engine's suggestions (docs/gate.md, docs/architecture.md): the only
way an offer becomes
`approved` or `rejected`.

Every function takes the offers by id and works set-based, in one transaction, with the
offers locked: a withdrawal running at the same moment either retracted them first (and
they are skipped here) or waits and retracts them after. Approving checks consent again
at that moment, with the same SQL the customer's page uses (`Offer.consent_still_valid`):
an offer whose consent no longer counts is retracted instead, never approved. Every
change goes through `offers.transitions`, which keeps its event with the reviewer.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import transitions
from .models import ActorKind, Cause, Offer, OfferStatus


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
    by_reviewer = {"actor_kind": ActorKind.STAFF, "actor": reviewer, "at": at}
    offers = Offer.objects.filter(pk__in=waiting)
    expired = transitions.change_status(
        offers=offers.filter(valid_until__lt=today),
        to=OfferStatus.EXPIRED,
        cause=Cause.PAST_VALID_UNTIL,
        **by_reviewer,
    )
    offers = offers.filter(valid_until__gte=today)
    still_valid = offers.consent_still_valid(at=at).values("pk")
    retracted = transitions.change_status(
        offers=offers.exclude(pk__in=still_valid),
        to=OfferStatus.RETRACTED,
        cause=Cause.CONSENT_LAPSED,
        **by_reviewer,
    )
    approved = transitions.change_status(
        offers=offers.filter(pk__in=still_valid),
        to=OfferStatus.APPROVED,
        cause=Cause.REVIEW,
        **by_reviewer,
    )
    return Reviewed(
        done=len(approved),
        retracted=len(retracted),
        expired=len(expired),
        skipped=len(set(offer_ids)) - len(waiting),
    )


@transaction.atomic
def reject(*, offer_ids: Iterable[int], reviewer, reason: str, at: dt.datetime) -> Reviewed:
    """Reject with a reason (required: docs/gate.md). The customer never sees a rejected
    offer, and the engine does not suggest that product again for the cool-down period."""
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError(_("Geef een reden om af te wijzen."))
    offer_ids = list(offer_ids)
    waiting = _lock_waiting(offer_ids)
    rejected = transitions.change_status(
        offers=waiting,
        to=OfferStatus.REJECTED,
        cause=Cause.REVIEW,
        actor_kind=ActorKind.STAFF,
        actor=reviewer,
        reason=reason,
        at=at,
    )
    return Reviewed(done=len(rejected), skipped=len(set(offer_ids)) - len(waiting))


def next_to_review(*, after: Offer | None = None) -> Offer | None:
    """The offer a reviewer sees next: the queue is oldest first, and after `after` comes
    the next older-to-newer proposed offer; past the end, the oldest one still waiting."""
    waiting = Offer.objects.filter(status=OfferStatus.PROPOSED).order_by("created_at", "pk")
    if after is not None:
        later = waiting.filter(
            Q(created_at__gt=after.created_at) | Q(created_at=after.created_at, pk__gt=after.pk)
        ).first()
        if later is not None:
            return later
        waiting = waiting.exclude(pk=after.pk)
    return waiting.first()


def approve_one(*, offer: Offer, reviewer, at: dt.datetime) -> tuple[Reviewed, Offer | None]:
    """*Goedkeuren* on an offer's page: approve it (`approve`), and the offer the
    reviewer sees next (`next_to_review`)."""
    reviewed = approve(offer_ids=[offer.pk], reviewer=reviewer, at=at)
    return reviewed, next_to_review(after=offer)


def reject_one(
    *, offer: Offer, reviewer, reason: str, at: dt.datetime
) -> tuple[Reviewed, Offer | None]:
    """*Afwijzen* on an offer's page: reject it with the reason (`reject`), and the offer
    the reviewer sees next (`next_to_review`)."""
    reviewed = reject(offer_ids=[offer.pk], reviewer=reviewer, reason=reason, at=at)
    return reviewed, next_to_review(after=offer)
