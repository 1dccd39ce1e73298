import datetime as dt
import itertools
import threading

import pytest
from django.db import connection
from django.utils.translation import ngettext_lazy

from consent.choices import (
    ChoiceError,
    RequiredPurpose,
    UnknownPurpose,
    notice_on_screen,
    record_choice,
    stop_all_offers,
)
from consent.models import ConsentState
from consent.renewals import is_renewal
from consent.signals import consent_ended
from infra.effects import EffectKind
from ledger.models import Action, Channel, ConsentEvent
from tests.factories import CustomerFactory
from tests.proof import checkpoint_and_verify
from tests.receivers import receiving


def test_a_grant_writes_one_event_and_the_current_state(customer_who_did_not, choose, now):
    recorded = choose(customer_who_did_not, "offers_balance")
    (event,) = recorded.events
    state = ConsentState.objects.get(customer=customer_who_did_not)
    assert (state.purpose.code, state.state, state.event_id) == (
        "offers_balance",
        "granted",
        event.pk,
    )
    assert state.changed_at == now
    assert event.notice_sha256 == state.purpose_version.notice_sha256("nl")
    assert event.actor == customer_who_did_not.user


def test_a_withdrawal_replaces_the_state_and_keeps_the_grant_in_the_ledger(
    customer_who_consented, choose
):
    choose(customer_who_consented, "offers_spending", Action.WITHDRAWN)
    state = ConsentState.objects.get(
        customer=customer_who_consented, purpose__code="offers_spending"
    )
    assert state.state == "withdrawn"
    assert list(
        ConsentEvent.objects.filter(customer=customer_who_consented).values_list(
            "action", flat=True
        )
    ) == ["granted", "withdrawn"]


@pytest.mark.parametrize("purpose_code", ["payments", "fraud_prevention"])
def test_a_required_purpose_cannot_be_withdrawn(customer_who_did_not, choose, purpose_code):
    with pytest.raises(RequiredPurpose, match="niet worden uitgezet"):
        choose(customer_who_did_not, purpose_code, Action.WITHDRAWN)
    assert not ConsentEvent.objects.exists()
    assert not ConsentState.objects.exists()


def test_an_unknown_purpose_is_an_error_and_writes_nothing(customer_who_did_not, choose):
    with pytest.raises(UnknownPurpose, match="sell_to_partners"):
        choose(customer_who_did_not, "sell_to_partners")
    assert not ConsentEvent.objects.exists()


def test_an_unknown_action_is_an_error_and_writes_nothing(customer_who_did_not, choose):
    with pytest.raises(ChoiceError):
        choose(customer_who_did_not, "offers_balance", "maybe")
    assert not ConsentEvent.objects.exists()


def test_stop_all_withdraws_what_is_granted_and_records_the_objection(
    customer_who_consented, choose, now
):
    choose(customer_who_consented, "offers_balance")
    recorded = stop_all_offers(
        customer=customer_who_consented,
        channel=Channel.WEB,
        actor=customer_who_consented.user,
        at=now,
    )
    assert [(e.purpose.code if e.purpose else None, e.action) for e in recorded.events] == [
        ("offers_spending", "withdrawn"),
        ("offers_balance", "withdrawn"),
        (None, "objected"),
    ]
    states = ConsentState.objects.filter(customer=customer_who_consented)
    assert {(s.purpose.code if s.purpose else None, s.state) for s in states} == {
        ("offers_spending", "withdrawn"),
        ("offers_balance", "withdrawn"),
        (None, "objected"),
    }


def test_receivers_run_inside_the_withdrawal_so_a_failing_one_writes_nothing(
    customer_who_consented, choose
):
    def broken_hook(**kwargs):
        raise RuntimeError("offers database unavailable")

    with receiving(consent_ended, broken_hook), pytest.raises(RuntimeError):
        choose(customer_who_consented, "offers_spending", Action.WITHDRAWN)
    assert ConsentEvent.objects.filter(customer=customer_who_consented).count() == 1
    assert ConsentState.objects.get(customer=customer_who_consented).state == "granted"


def test_what_receivers_did_is_reported_to_the_caller_in_their_own_words(
    customer_who_consented, choose
):
    seen = []
    calls_made = EffectKind(
        "calls_cancelled",
        ngettext_lazy(
            "%(count)d belafspraak geannuleerd", "%(count)d belafspraken geannuleerd", "count"
        ),
    )

    def cancel_calls(**kwargs):
        seen.append(kwargs["purpose_code"])
        return [calls_made(2)]

    with receiving(consent_ended, cancel_calls):
        recorded = choose(customer_who_consented, "offers_spending", Action.WITHDRAWN)
    assert seen == ["offers_spending"]
    assert recorded.effects["calls_cancelled"] == 2
    assert "2 belafspraken geannuleerd" in recorded.effects.sentences()


@pytest.mark.django_db(transaction=True)
def test_concurrent_choices_for_one_customer_serialise_into_one_chain(now):
    customer = CustomerFactory(customer_number="400001")
    purposes = ["offers_spending", "offers_income", "offers_balance"]
    choices = [(purposes[i % 3], Action.GRANTED if i % 2 else Action.WITHDRAWN) for i in range(24)]
    barrier = threading.Barrier(len(choices))
    failures = []

    def make_choice(purpose_code, action):
        try:
            barrier.wait()
            record_choice(
                customer=customer,
                purpose_code=purpose_code,
                action=action,
                channel=Channel.WEB,
                actor=None,
                at=now,
                **notice_on_screen(purpose_code=purpose_code, at=now),
            )
        except Exception as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=make_choice, args=choice) for choice in choices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    events = list(ConsentEvent.objects.filter(customer=customer).order_by("sequence"))
    # Whichever order they came in, the chain never forks; a withdrawal that found the
    # purpose already off wrote nothing, and a grant that found it on is a renewal: no
    # purpose has two withdrawals in a row, and every grant after a grant is a renewal.
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert events
    for purpose_code in purposes:
        about = [e for e in events if e.purpose.code == purpose_code]
        assert about[0].action == Action.GRANTED
        for before, after in itertools.pairwise(about):
            assert not before.action == after.action == Action.WITHDRAWN
            assert is_renewal(after) == (before.action == after.action == Action.GRANTED)
    for purpose_code in purposes:
        last = [e for e in events if e.purpose.code == purpose_code][-1]
        state = ConsentState.objects.get(customer=customer, purpose__code=purpose_code)
        assert (state.state, state.event_id) == (last.action, last.pk)
    checkpoint_and_verify()


def test_a_choice_reads_what_it_decides_on_in_two_statements(
    customer_who_did_not, now, django_assert_num_queries
):
    """Issue #24: the purpose with its current text; after the customer's lock, what is
    stored (the choice, the objection, whether it counts, the chain's newest event, the
    ledger's previous event about the purpose); then the event, the state and the feed
    row. The savepoint of `transaction.atomic` and its release make eight."""
    daan = customer_who_did_not
    screen = notice_on_screen(purpose_code="offers_balance", at=now)

    def choose(action, *, days_ago):
        return record_choice(
            customer=daan,
            purpose_code="offers_balance",
            action=action,
            channel=Channel.WEB,
            actor=daan.user,
            at=now - dt.timedelta(days=days_ago),
            **screen,
        )

    choose(Action.GRANTED, days_ago=4)  # the first: a new chain
    with django_assert_num_queries(8):
        renewed = choose(Action.GRANTED, days_ago=3)
    assert renewed.renewed and is_renewal(renewed.events[0])
    # A withdrawal writes as a grant does; of the customer's offers, those relying on the
    # purpose are read with one statement, and without any nothing more is asked.
    with django_assert_num_queries(9):
        choose(Action.WITHDRAWN, days_ago=2)
    with django_assert_num_queries(5):  # nothing to withdraw: nothing written
        assert choose(Action.WITHDRAWN, days_ago=1).unchanged
    with django_assert_num_queries(8):
        granted = choose(Action.GRANTED, days_ago=0)
    assert not granted.renewed and not is_renewal(granted.events[0])
    # The ledger alone says the same of both.
    stored = ConsentEvent.objects.filter(pk__in=[renewed.events[0].pk, granted.events[0].pk])
    assert [is_renewal(event) for event in stored.order_by("sequence")] == [True, False]
