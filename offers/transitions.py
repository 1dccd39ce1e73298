"""Every change to an offer, and its audit row (the pattern of Zulip's actions).

An offer's status changes only here, and every change writes one append-only
`OfferEvent` — from, to, when, who (staff member, customer or system), why, and for a
retraction the consent event or purpose version that caused it — in the same statement
as the change itself, so there is no change without its event and no event without its
change. Callers (`engine`, `review`, `customer`, the consent hooks) say *which* offers
and *why*; this module decides whether the move is allowed (`STATUS_MOVES`, also a
CHECK on the events table) and writes both.

Set-based throughout: `change_status` moves a whole queryset with one UPDATE and inserts
the events with one INSERT … SELECT, whether that is one offer a customer answers or
every overdue offer the engine expires. The engine's proposals are inserted in its own
statement (`write_offers`); their events come from `proposal_events_sql`, in that same
statement.

The contact centre's follow-up of an interested customer (`FollowUp`) changes only here
too, one event per change.
"""

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from consent.channels import channel_counts
from consent.models import PurposeVersion
from ledger.models import ConsentEvent

from .models import (
    FOLLOW_UP_MOVES,
    STAFF_OUTCOMES,
    STATUS_MOVES,
    ActorKind,
    Cause,
    EventKind,
    FollowUp,
    FollowUpOutcome,
    FollowUpStatus,
    Offer,
    OfferEvent,
    OfferRun,
    OfferStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class TransitionError(Exception):
    """A change that is not allowed as asked. Nothing was written."""


# Said to the contact centre when a customer may not be called about offers (now).
NO_CALLS = _(
    "Niet bellen: deze klant heeft ‘Telefoon over aanbiedingen’ nu niet aan (uit, ingetrokken,"
    " verlopen of bezwaar). Het verzoek staat daarom niet op de terugbellijst."
)


def change_status(
    *,
    offers: QuerySet[Offer] | Iterable[int],
    to: str,
    cause: str,
    actor_kind: str,
    at: dt.datetime,
    actor: "User | None" = None,
    reason: str = "",
    consent_event: ConsentEvent | None = None,
    purpose_version: PurposeVersion | None = None,
    run: OfferRun | None = None,
    call: bool = True,
) -> list[int]:
    """Move every offer among `offers` (a queryset or ids) that may go to `to` from its
    current status; return the ids of the offers moved.

    One statement: the offers are locked, those whose status (re-read under the lock)
    allows the move are updated, and one `OfferEvent` per moved offer is inserted. Offers
    that may not move (already answered, retracted meanwhile, …) are left as they are and
    get no event; the caller counts them as skipped.

    A staff member changing an offer's status is reviewing it: `reviewed_by` and
    `reviewed_at` say who and when. A rejection keeps its reason on the offer too.

    An accepted offer ("Interessant") joins the contact centre's call list, unless `call`
    is False: the customer said "interessant" without allowing calls about offers.
    """
    to = OfferStatus(to)
    froms = [str(s) for s in STATUS_MOVES[to] if s]
    if not froms:
        raise TransitionError(f"offers become {to} only when the engine proposes them")
    _check_actor(actor_kind, actor)
    reason = (reason or "").strip()
    if to == OfferStatus.REJECTED and not reason:
        raise TransitionError(_("Geef een reden om af te wijzen."))
    if (consent_event or purpose_version) and to != OfferStatus.RETRACTED:
        raise TransitionError("only a retraction names the consent change that caused it")

    params: list[Any]  # values the database driver adapts
    if isinstance(offers, QuerySet):
        try:
            chosen_sql, chosen_params = offers.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:  # e.g. pk__in=[]: nothing to move
            return []
        chosen, params = f"id IN ({chosen_sql})", [*chosen_params]
    else:
        chosen, params = "id = ANY(%s)", [list(offers)]
    params.append(froms)
    sets = ["status = %s", "status_changed_at = %s"]
    set_params: list[Any] = [str(to), at]
    if actor_kind == ActorKind.STAFF and actor is not None:  # (`_check_actor`: always named)
        sets += ["reviewed_by_id = %s", "reviewed_at = %s"]
        set_params += [actor.pk, at]
    if to == OfferStatus.REJECTED:
        sets.append("rejection_reason = %s")
        set_params.append(reason)
    params += set_params
    params += [
        str(to),
        at,
        str(actor_kind),
        actor.pk if actor else None,
        str(Cause(cause)),
        reason,
        consent_event.pk if consent_event else None,
        purpose_version.pk if purpose_version else None,
        run.pk if run else None,
    ]
    offer_table, event_table = Offer._meta.db_table, OfferEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH moving AS MATERIALIZED (
                SELECT id, status FROM {offer_table}
                 WHERE {chosen} AND status = ANY(%s)
                 ORDER BY id
                   FOR UPDATE
            ),
            moved AS (
                UPDATE {offer_table} o SET {", ".join(sets)}
                  FROM moving m
                 WHERE o.id = m.id
                RETURNING o.id, m.status AS from_status
            )
            INSERT INTO {event_table} (offer_id, kind, from_state, to_state, occurred_at,
                                       actor_kind, actor_id, cause, reason, consent_event_id,
                                       purpose_version_id, run_id, outcome)
            SELECT id, '{EventKind.STATUS.value}', from_status, %s::text, %s::timestamptz,
                   %s::text, %s::integer, %s::text, %s::text, %s::bigint, %s::bigint,
                   %s::bigint, ''
              FROM moved
            RETURNING offer_id
            """,
            params,
        )
        moved = sorted(row[0] for row in cursor.fetchall())
    if to == OfferStatus.ACCEPTED and moved and call:
        _open_follow_ups(moved, actor_kind=actor_kind, actor=actor, at=at)
    return moved


def proposal_events_sql(*, offers_cte: str) -> str:
    """The INSERT that records the engine's proposals (from nothing to `proposed`, by the
    system, naming the run), for the engine's own statement that inserts the offers:
    `offers_cte` is the name of its `… RETURNING id` CTE, and the statement's named
    parameters must include `%(now)s` and `%(run)s`."""
    return f"""
        INSERT INTO {OfferEvent._meta.db_table} (offer_id, kind, from_state, to_state,
                                                 occurred_at, actor_kind, cause, run_id,
                                                 reason, outcome)
        SELECT id, '{EventKind.STATUS.value}', '', '{OfferStatus.PROPOSED.value}', %(now)s,
               '{ActorKind.SYSTEM.value}', '{Cause.ENGINE.value}', %(run)s, '', ''
          FROM {offers_cte}
    """


# --- The contact centre's follow-up ---------------------------------------------------------
def _open_follow_ups(
    offer_ids: list[int], *, actor_kind: str, actor: "User | None", at: dt.datetime
) -> None:
    """The customer said "Interessant": the offers join the contact centre's list."""
    FollowUp.objects.bulk_create(
        [FollowUp(offer_id=pk, opened_at=at, changed_at=at) for pk in offer_ids]
    )
    OfferEvent.objects.bulk_create(
        [
            OfferEvent(
                offer_id=pk,
                kind=EventKind.FOLLOW_UP,
                from_state="",
                to_state=FollowUpStatus.OPEN,
                occurred_at=at,
                actor_kind=actor_kind,
                actor=actor,
                cause=Cause.CUSTOMER_ANSWER,
            )
            for pk in offer_ids
        ]
    )


@transaction.atomic
def change_follow_up(
    *,
    follow_up_id: int,
    to: str,
    owner: "User | None",
    actor: "User | None",
    at: dt.datetime,
    outcome: str = "",
    note: str = "",
) -> FollowUp:
    """A contact-centre employee works a follow-up: takes it (or gives it to a colleague),
    records a call, or closes it with an outcome. One event per change."""
    _check_actor(ActorKind.STAFF, actor)
    follow_up = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("offer__customer")
        .get(pk=follow_up_id)
    )
    to = FollowUpStatus(to)
    if follow_up.status not in FOLLOW_UP_MOVES[to]:
        raise TransitionError(
            _("Dit terugbelverzoek is al afgesloten.")
            if follow_up.status == FollowUpStatus.CLOSED
            else _("Deze stap kan niet vanuit de huidige status.")
        )
    if to != FollowUpStatus.CLOSED:
        # Taking it or recording a call is calling: only while the customer's choice for
        # calls about offers counts (it may have expired or been withdrawn since they
        # asked). Closing it stays possible.
        customer = follow_up.offer.customer
        if not channel_counts(customer=customer, channel="phone", at=at):
            raise TransitionError(NO_CALLS)
    outcome = outcome or ""
    if to == FollowUpStatus.CLOSED and outcome not in STAFF_OUTCOMES:
        raise TransitionError(_("Kies de uitkomst om af te sluiten."))
    if to != FollowUpStatus.CLOSED:
        outcome = ""
    before = follow_up.status
    follow_up.status, follow_up.owner, follow_up.outcome = to, owner, outcome
    follow_up.changed_at = at
    follow_up.save(update_fields=["status", "owner", "outcome", "changed_at"])
    OfferEvent.objects.create(
        offer_id=follow_up.offer_id,
        kind=EventKind.FOLLOW_UP,
        from_state=before,
        to_state=to,
        occurred_at=at,
        actor_kind=ActorKind.STAFF,
        actor=actor,
        cause=Cause.FOLLOW_UP,
        reason=(note or "").strip(),
        owner=owner,
        outcome=outcome,
    )
    return follow_up


def close_follow_ups(
    *, offers: QuerySet[Offer], outcome: str, cause: str, reason: str, at: dt.datetime
) -> list[int]:
    """The system closes the follow-ups of `offers` still on the contact centre's list
    (open or called) with `outcome`, one event each naming `cause` and `reason`: the
    customer must not be called any more. Set-based; returns the offers' ids."""
    outcome = FollowUpOutcome(outcome)
    closing = list(
        FollowUp.objects.select_for_update()
        .filter(offer__in=offers.order_by().values("pk"))
        .exclude(status=FollowUpStatus.CLOSED)
        .order_by("pk")
        .values_list("pk", "offer_id", "status")
    )
    if not closing:
        return []
    FollowUp.objects.filter(pk__in=[pk for pk, _offer, _status in closing]).update(
        status=FollowUpStatus.CLOSED, outcome=outcome, changed_at=at
    )
    OfferEvent.objects.bulk_create(
        [
            OfferEvent(
                offer_id=offer_id,
                kind=EventKind.FOLLOW_UP,
                from_state=status,
                to_state=FollowUpStatus.CLOSED,
                occurred_at=at,
                actor_kind=ActorKind.SYSTEM,
                cause=Cause(cause),
                reason=reason,
                outcome=outcome,
            )
            for _pk, offer_id, status in closing
        ]
    )
    return sorted(offer_id for _pk, offer_id, _status in closing)


def _check_actor(actor_kind: str, actor: "User | None") -> None:
    if (actor_kind == ActorKind.SYSTEM) != (actor is None):
        raise TransitionError("a staff member or customer is named; the system is not")
    if actor is not None and not isinstance(actor, get_user_model()):
        raise TransitionError("the actor is a user")
