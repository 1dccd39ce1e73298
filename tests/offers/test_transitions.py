"""Every offer change is an audited event: one function moves offers,
and each move writes an append-only OfferEvent in the same statement."""

import datetime as dt

import psycopg
import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.models import PurposeVersion
from ledger.models import Action, ConsentEvent
from offers import engine, transitions
from offers.models import ActorKind, Cause, FollowUp, Offer, OfferEvent, OfferStatus
from tests.factories import CustomerFactory, publish_version, publish_version_for_later

from .conftest import AS_OF
from .factories import make_offer


def moves(offer):
    return [
        (e.kind, e.from_state, e.to_state, e.actor_kind, e.cause)
        for e in OfferEvent.objects.filter(offer=offer).order_by("occurred_at", "pk")
    ]


def test_the_engine_records_each_proposal_as_an_event_of_its_run(traveller, student, saver, now):
    run = engine.generate_offers(as_of=AS_OF, now=now)
    offers = Offer.objects.all()
    assert offers.count() == 3
    for offer in offers:
        (event,) = offer.events.all()
        assert (event.from_state, event.to_state) == ("", "proposed")
        assert (event.actor_kind, event.actor, event.cause) == ("system", None, "engine")
        assert (event.run, event.occurred_at) == (run, now)


def test_a_rerun_for_the_same_day_writes_no_second_proposal_event(traveller, now):
    engine.generate_offers(as_of=AS_OF, now=now)
    engine.generate_offers(as_of=AS_OF, now=now + dt.timedelta(hours=1))
    assert OfferEvent.objects.count() == 1


def test_approving_is_an_event_by_the_reviewer(sanne, reviewer):
    offer = make_offer(sanne, status="approved")
    approval = offer.events.get(to_state="approved")
    assert (approval.from_state, approval.actor_kind, approval.actor) == (
        "proposed",
        "staff",
        offer.reviewed_by,
    )
    assert approval.cause == "review"


def test_rejecting_keeps_the_reason_on_the_event(sanne, reviewer):
    offer = make_offer(sanne)
    from offers import review

    review.reject(offer_ids=[offer.pk], reviewer=reviewer, reason="klacht loopt", at=timezone.now())
    rejection = offer.events.get(to_state="rejected")
    assert (rejection.actor, rejection.reason) == (reviewer, "klacht loopt")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("proposed", [("status", "", "proposed", "system", "engine")]),
        (
            "approved",
            [
                ("status", "", "proposed", "system", "engine"),
                ("status", "proposed", "approved", "staff", "review"),
            ],
        ),
        (
            "rejected",
            [
                ("status", "", "proposed", "system", "engine"),
                ("status", "proposed", "rejected", "staff", "review"),
            ],
        ),
        (
            "dismissed",
            [
                ("status", "", "proposed", "system", "engine"),
                ("status", "proposed", "approved", "staff", "review"),
                ("status", "approved", "dismissed", "customer", "customer_answer"),
            ],
        ),
        (
            "accepted",
            [
                ("status", "", "proposed", "system", "engine"),
                ("status", "proposed", "approved", "staff", "review"),
                ("status", "approved", "accepted", "customer", "customer_answer"),
                ("follow_up", "", "open", "customer", "customer_answer"),
            ],
        ),
        (
            "expired",
            [
                ("status", "", "proposed", "system", "engine"),
                ("status", "proposed", "approved", "staff", "review"),
                ("status", "approved", "expired", "system", "past_valid_until"),
            ],
        ),
        (
            "retracted",
            [
                ("status", "", "proposed", "system", "engine"),
                ("status", "proposed", "retracted", "system", "consent_withdrawn"),
            ],
        ),
    ],
)
def test_every_way_an_offer_goes_leaves_its_whole_history(sanne, status, expected):
    offer = make_offer(sanne, status=status)
    assert moves(offer) == expected


def test_a_customers_answer_is_an_event_by_the_customer(sanne):
    offer = make_offer(sanne, status="dismissed")
    answer = offer.events.get(to_state="dismissed")
    assert (answer.actor_kind, answer.actor) == ("customer", sanne.user)


def test_a_retraction_after_a_withdrawal_names_the_withdrawal(sanne):
    offer = make_offer(sanne, status="retracted")
    withdrawal = ConsentEvent.objects.get(customer=sanne, action=Action.WITHDRAWN)
    retraction = offer.events.get(to_state="retracted")
    assert (retraction.consent_event, retraction.purpose_version) == (withdrawal, None)


def test_a_retraction_after_a_material_version_names_the_version(sanne):
    offer = make_offer(sanne, status="approved")
    version = publish_version("offers_spending", material=True)
    retraction = offer.events.get(to_state="retracted")
    assert (retraction.purpose_version, retraction.cause) == (version, "material_change")
    assert (retraction.actor_kind, retraction.consent_event) == ("system", None)


def test_the_engine_names_its_run_when_it_expires_or_retracts(sanne, daan, now, settings):
    overdue = make_offer(sanne, now=now - dt.timedelta(days=70))
    lapsing = make_offer(daan, rule="savings_account", status="approved")
    settings.CONSENT_MAX_AGE_DAYS = 5  # Daan chose ten days ago: his consent lapsed
    run = engine.generate_offers(as_of=AS_OF, now=now)
    assert (run.expired, run.retracted) == (1, 1)
    expiry = overdue.events.get(to_state="expired")
    retraction = lapsing.events.get(to_state="retracted")
    assert (expiry.run, expiry.cause, expiry.from_state) == (run, "past_valid_until", "proposed")
    assert (retraction.run, retraction.cause, retraction.from_state) == (
        run,
        "consent_lapsed",
        "approved",
    )


def test_a_move_outside_the_offers_life_changes_nothing_and_writes_nothing(sanne, reviewer):
    offer = make_offer(sanne, status="dismissed")
    events = OfferEvent.objects.count()
    moved = transitions.change_status(
        offers=[offer.pk],
        to=OfferStatus.APPROVED,
        cause=Cause.REVIEW,
        actor_kind=ActorKind.STAFF,
        actor=reviewer,
        at=timezone.now(),
    )
    assert moved == []
    assert Offer.objects.get(pk=offer.pk).status == "dismissed"
    assert OfferEvent.objects.count() == events


def test_nothing_but_the_engine_makes_an_offer_proposed(sanne, reviewer):
    offer = make_offer(sanne, status="rejected")
    with pytest.raises(transitions.TransitionError):
        transitions.change_status(
            offers=[offer.pk],
            to=OfferStatus.PROPOSED,
            cause=Cause.REVIEW,
            actor_kind=ActorKind.STAFF,
            actor=reviewer,
            at=timezone.now(),
        )


def test_expiring_many_offers_is_set_based(db, choose, now):
    """The same number of statements for one overdue offer as for five: one UPDATE with
    its events, never a loop per offer."""

    def overdue_offers(count):
        for n in range(count):
            customer = CustomerFactory()
            choose(customer, "offers_spending", days_ago=80)
            make_offer(customer, now=now - dt.timedelta(days=70 + n))

    overdue_offers(1)
    with CaptureQueriesContext(connection) as one:
        assert engine.expire_overdue(today=timezone.localdate(now), at=now) == 1
    overdue_offers(5)
    with CaptureQueriesContext(connection) as five:
        assert engine.expire_overdue(today=timezone.localdate(now), at=now) == 5
    assert len(one) == len(five) == 1
    assert OfferEvent.objects.filter(to_state="expired").count() == 6


# --- The database keeps the events ------------------------------------------------------------
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE offers_offerevent SET reason = 'anders'",
        "DELETE FROM offers_offerevent",
        "TRUNCATE offers_offerevent CASCADE",
    ],
)
def test_the_runtime_role_may_not_change_or_delete_offer_events(sanne, statement):
    make_offer(sanne, status="approved")
    refused = pytest.raises(DatabaseError, match="permission denied")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert OfferEvent.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_even_the_owner_meets_the_trigger_on_offer_events(sanne, owner_connection):
    make_offer(sanne, status="approved")
    for statement in ("UPDATE offers_offerevent SET reason = 'x'", "DELETE FROM offers_offerevent"):
        with pytest.raises(psycopg.errors.RaiseException, match="Cannot update or delete"):
            owner_connection.execute(statement)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        owner_connection.execute("TRUNCATE offers_offerevent CASCADE")
    assert OfferEvent.objects.count() == 2


def test_the_database_refuses_an_event_for_a_move_the_offer_cannot_make(sanne):
    offer = make_offer(sanne, status="dismissed")
    with pytest.raises(IntegrityError, match="offer_event_move_allowed"), transaction.atomic():
        OfferEvent.objects.create(
            offer=offer,
            kind="status",
            from_state="dismissed",
            to_state="approved",
            occurred_at=timezone.now(),
            actor_kind="system",
            cause="review",
        )


def test_the_database_refuses_a_rejection_event_without_a_reason(sanne, reviewer):
    offer = make_offer(sanne)
    refused = pytest.raises(IntegrityError, match="offer_event_rejection_has_reason")
    with refused, transaction.atomic():
        OfferEvent.objects.create(
            offer=offer,
            kind="status",
            from_state="proposed",
            to_state="rejected",
            occurred_at=timezone.now(),
            actor_kind="staff",
            actor=reviewer,
            cause="review",
        )


def test_the_database_refuses_a_staff_event_that_names_nobody(sanne):
    offer = make_offer(sanne)
    with pytest.raises(IntegrityError, match="offer_event_actor_named"), transaction.atomic():
        OfferEvent.objects.create(
            offer=offer,
            kind="status",
            from_state="proposed",
            to_state="approved",
            occurred_at=timezone.now(),
            actor_kind="staff",
            cause="review",
        )


def test_interested_opens_exactly_one_follow_up(sanne):
    offer = make_offer(sanne, status="accepted")
    follow_up = FollowUp.objects.get(offer=offer)
    assert (follow_up.status, follow_up.owner, follow_up.outcome) == ("open", None, "")


def test_a_version_published_for_later_retracts_nothing_now(sanne, now):
    offer = make_offer(sanne, status="approved")
    publish_version_for_later("offers_spending", at=now + dt.timedelta(days=7), now=now)
    assert Offer.objects.get(pk=offer.pk).status == "approved"
    assert not offer.events.filter(to_state="retracted").exists()
    assert PurposeVersion.objects.filter(purpose__code="offers_spending").count() == 2
