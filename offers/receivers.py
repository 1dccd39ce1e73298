"""What offers does when consent or the end of a relationship says something happened.

Each function is a receiver of a `consent.signals` or `lifecycle.signals` signal
(connected in `OffersConfig.ready`), runs inside the transaction that records the change,
and returns the `Effect`s of what it did, with the words the customer or staff member is
told: consent's pages say "2 open aanbiedingen … ingetrokken" without knowing offers.
"""

import datetime as dt
import functools
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import ngettext_lazy

from consent.channels import purpose_of
from consent.models import PurposeVersion
from infra.effects import Effect, EffectKind
from infra.precompiled import Inputs, Precompiled, precompile
from ledger.models import ConsentEvent

from . import transitions
from .models import (
    OPEN_STATUSES,
    ActorKind,
    Cause,
    DataUse,
    FollowUpOutcome,
    Offer,
    OfferStatus,
)

OFFERS_RETRACTED = EffectKind(
    "offers_retracted",
    ngettext_lazy(
        "%(count)d open aanbieding die hierop steunde is ingetrokken.",
        "%(count)d open aanbiedingen die hierop steunden zijn ingetrokken.",
        "count",
    ),
)
# A material new version of a purpose: the privacy officer is told what it did, or would do.
OFFERS_RETRACTED_BY_NEW_VERSION = EffectKind(
    "offers_retracted",
    ngettext_lazy(
        "%(count)d open aanbieding is ingetrokken.",
        "%(count)d open aanbiedingen zijn ingetrokken.",
        "count",
    ),
)
OFFERS_TO_RETRACT = EffectKind(
    "offers_retracted",
    ngettext_lazy(
        "%(count)d open aanbieding die erop steunt wordt ingetrokken.",
        "%(count)d open aanbiedingen die erop steunen worden ingetrokken.",
        "count",
    ),
)
# A withdrawal or an objection takes the customer off the contact centre's call list.
FOLLOW_UPS_CLOSED = EffectKind(
    "follow_ups_closed",
    ngettext_lazy(
        "Wij bellen u niet over de aanbieding waarvoor u belangstelling had.",
        "Wij bellen u niet over de %(count)d aanbiedingen waarvoor u belangstelling had.",
        "count",
    ),
)
# Erasure on request: the sentences are parts of "Verwijderd: …".
OFFERS_ERASED = EffectKind(
    "offers_erased",
    ngettext_lazy("%(count)d aanbieding", "%(count)d aanbiedingen", "count"),
)
OFFER_EVENTS_ERASED = EffectKind("offer_events_erased")
FOLLOW_UPS_ERASED = EffectKind("follow_ups_erased")
DATA_USE_ERASED = EffectKind(
    "data_use_erased",
    ngettext_lazy(
        "%(count)d regel uit het overzicht van wat wij met uw gegevens deden",
        "%(count)d regels uit het overzicht van wat wij met uw gegevens deden",
        "count",
    ),
)
# The erasure page, before the customer confirms: what would go.
OFFERS_TO_ERASE = EffectKind(
    "offers",
    ngettext_lazy(
        "%(count)d aanbieding, met uw antwoord en een eventueel verzoek om u te bellen",
        "%(count)d aanbiedingen, met uw antwoorden en eventuele verzoeken om u te bellen",
        "count",
    ),
)
DATA_USE_TO_ERASE = EffectKind("data_use", DATA_USE_ERASED.words)


# --- consent.signals ----------------------------------------------------------------------
def retract_on_withdrawal(
    *, customer_id: int, purpose_code: str, event: ConsentEvent, at: dt.datetime, **_signal
) -> list[Effect]:
    """`consent_ended`: runs inside the withdrawal's transaction, and names the withdrawal
    (`event`) on each retraction."""
    relying = [
        pk for (pk,) in _relying_offers().rows({"customer_id": customer_id, "code": purpose_code})
    ]
    if not relying:  # most withdrawals: one statement, no more
        return []
    retracted = transitions.change_status(
        offers=relying,
        to=OfferStatus.RETRACTED,
        cause=Cause.CONSENT_WITHDRAWN,
        actor_kind=ActorKind.SYSTEM,
        at=at,
        consent_event=event,
    )
    # An interested customer waiting for a call: the offer relied on this consent, so the
    # call goes too. The offer keeps its answer ("geïnteresseerd"); its follow-up closes.
    closed = transitions.close_follow_ups(
        offers=Offer.objects.filter(pk__in=relying),
        outcome=FollowUpOutcome.WITHDRAWN,
        cause=Cause.CONSENT_WITHDRAWN,
        reason=f"Toestemming ingetrokken ({purpose_code}, gebeurtenis {event.pk}).",
        at=at,
    )
    return [OFFERS_RETRACTED(len(retracted)), *_follow_ups_closed(closed)]


@functools.cache
def _relying_offers() -> Precompiled:
    """The customer's offers that relied on the purpose, whatever their status (those
    that may move are chosen under their lock). Compiled once per process: a withdrawal
    built and compiled two querysets for this, 0.4 ms of its CPU, also when the customer
    had no offer at all (issue #24)."""

    def relying(inputs: Inputs) -> QuerySet[Offer, Any]:
        return (
            Offer.objects.filter(
                customer_id=inputs["customer_id"], relied_on__purpose__code=inputs["code"]
            )
            .order_by()
            .values_list("pk")
            .distinct()  # an offer may rely on several versions of the purpose
        )

    return precompile(
        relying,
        (
            {"customer_id": -7_000_001, "code": "-sample-a-"},
            {"customer_id": -7_000_002, "code": "-sample-b-"},
        ),
    )


def close_follow_ups_on_phone_withdrawal(
    *, customer_id: int, purpose_code: str, event: ConsentEvent, at: dt.datetime, **_signal
) -> list[Effect]:
    """`consent_ended` of the phone channel: the customer no longer allows calls about
    offers (Telecommunicatiewet art. 11.7), so every call still to make about any of their
    offers is closed at once, inside the withdrawal's transaction, whatever consent the
    offer relied on. The offers keep their answer ("geïnteresseerd")."""
    if purpose_code != purpose_of("phone"):
        return []
    return _close_every_call(
        customer_id=customer_id,
        outcome=FollowUpOutcome.WITHDRAWN,
        cause=Cause.CONSENT_WITHDRAWN,
        reason=f"Toestemming om te bellen ingetrokken ({purpose_code}, gebeurtenis {event.pk}).",
        at=at,
    )


def close_follow_ups_on_objection(
    *, customer_id: int, event: ConsentEvent, at: dt.datetime, **_signal
) -> list[Effect]:
    """`objected`: the customer objected to direct marketing ("stop alle persoonlijke
    aanbiedingen"); runs inside that transaction. Every call still to make about any of
    their offers is closed, whatever consent it relied on: an objection stops all direct
    marketing, a phone call about a product included (GDPR Art. 21(3))."""
    return _close_every_call(
        customer_id=customer_id,
        outcome=FollowUpOutcome.OBJECTED,
        cause=Cause.OBJECTION,
        reason=f"Bezwaar tegen direct marketing (gebeurtenis {event.pk}).",
        at=at,
    )


def _close_every_call(
    *, customer_id: int, outcome: str, cause: str, reason: str, at: dt.datetime
) -> list[Effect]:
    """Close every call still to make about any of the customer's offers, whatever
    consent the offer relied on."""
    closed = transitions.close_follow_ups(
        offers=Offer.objects.filter(customer_id=customer_id),
        outcome=outcome,
        cause=cause,
        reason=reason,
        at=at,
    )
    return _follow_ups_closed(closed)


def _follow_ups_closed(offer_ids: list[int]) -> list[Effect]:
    # Said only when there was a call to cancel: most withdrawals have none.
    return [FOLLOW_UPS_CLOSED(len(offer_ids))] if offer_ids else []


def retract_on_material_change(
    *, purpose_code: str, version: PurposeVersion, at: dt.datetime, **_signal
) -> list[Effect]:
    """`material_change`: runs inside the publication's transaction.

    Every open offer that relied on a consent to an older version of the purpose is
    retracted at once, in one UPDATE: that consent no longer counts (docs/ledger.md), so the
    offer must not be approved or shown, whatever the engine's next run would find.
    """
    retracted = transitions.change_status(
        offers=Offer.objects.filter(
            status__in=OPEN_STATUSES,
            relied_on__purpose__code=purpose_code,
            relied_on__purpose_version__version__lt=version.version,
        ),
        to=OfferStatus.RETRACTED,
        cause=Cause.MATERIAL_CHANGE,
        actor_kind=ActorKind.SYSTEM,
        at=at,
        purpose_version=version,
    )
    return [OFFERS_RETRACTED_BY_NEW_VERSION(len(retracted))]


def offers_retracted_by_material_change(
    *, purpose_code: str, at: dt.datetime, **_signal
) -> list[Effect]:
    """`material_change_preview`: how many open offers a material new version of the
    purpose would retract if it took effect at `at` (every open offer that relies on a
    consent to the purpose; they were all given to an older version). Reads only."""
    count = (
        Offer.objects.filter(status__in=OPEN_STATUSES, relied_on__purpose__code=purpose_code)
        .distinct()
        .count()
    )
    return [OFFERS_TO_RETRACT(count)]


# --- lifecycle.signals --------------------------------------------------------------------
def retract_on_closure(*, customer_id: int, at: dt.datetime, **_signal) -> list[Effect]:
    """`customer_closed`: the customer left; every offer still open goes (the withdrawals
    before it retracted those that relied on a consent)."""
    retracted = transitions.change_status(
        offers=Offer.objects.filter(customer_id=customer_id, status__in=OPEN_STATUSES),
        to=OfferStatus.RETRACTED,
        cause=Cause.CUSTOMER_LEFT,
        actor_kind=ActorKind.SYSTEM,
        at=at,
    )
    return [OFFERS_RETRACTED(len(retracted))]


def erase_on_request(*, event: ConsentEvent, **_signal) -> list[Effect]:
    """`erasure_requested`: the customer's offers (with their events and follow-ups) and
    data-use log, as they were when the request was recorded (owner functions that check
    the `erasure_requested` event in SQL)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM erase_offers_on_request(%s)", [event.pk])
        offers, events, follow_ups = cursor.fetchone()
        cursor.execute("SELECT erase_data_use_on_request(%s)", [event.pk])
        (data_use,) = cursor.fetchone()
    return [
        OFFERS_ERASED(offers),
        OFFER_EVENTS_ERASED(events),
        FOLLOW_UPS_ERASED(follow_ups),
        DATA_USE_ERASED(data_use),
    ]


def erasure_preview(*, customer_id: int, **_signal) -> list[Effect]:
    """`erasure_preview`: what `erase_on_request` would erase now. Reads only."""
    return [
        OFFERS_TO_ERASE(Offer.objects.filter(customer_id=customer_id).count()),
        DATA_USE_TO_ERASE(DataUse.objects.filter(customer_id=customer_id).count()),
    ]
