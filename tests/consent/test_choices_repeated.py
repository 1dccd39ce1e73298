"""A choice made again: a retry on a bad network, a second click, a system that sends
everything twice. Withdrawing what is off writes nothing: no event, no state, no feed
row. Granting, on the same version, what already counts is a renewal: one grant event,
called a renewal everywhere (history, receipt, the API, the feed), and the consent counts
from it; never a duplicate "aangezet". (The API's `Idempotency-Key` makes a retried grant
write nothing at all: tests/api/test_idempotency.py.)"""

import datetime as dt

import pytest
from django.utils import timezone

from api.models import ConsentChange
from consent import validity
from consent.choices import notice_on_screen, record_choice
from consent.renewals import is_renewal
from consent.validity import is_consent_valid, last_valid_day
from ledger.models import Action, Channel, ConsentEvent
from tests.choices import choose_on_screen
from tests.factories import CustomerFactory, publish_version

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def sanne(db, choose):
    """Sanne switched on offers based on where she pays, ten days ago."""
    sanne = CustomerFactory(customer_number="310001", first_name="Sanne")
    choose(sanne, "offers_spending", days_ago=10)
    return sanne


def written(customer):
    return (
        ConsentEvent.objects.filter(customer=customer).count(),
        ConsentChange.objects.filter(customer=customer).count(),
    )


def test_the_same_grant_sent_again_is_recorded_as_a_renewal(sanne, now):
    before = written(sanne)
    recorded = choose_on_screen(sanne, "offers_spending", at=now)
    assert recorded.renewed and not recorded.unchanged
    (event,) = recorded.events
    assert event.action == Action.GRANTED  # to the law and the ledger, a grant
    assert is_renewal(ConsentEvent.objects.get(pk=event.pk))
    assert written(sanne) == (before[0] + 1, before[1] + 1)
    feed = ConsentChange.objects.filter(customer=sanne).order_by("-id").first()
    assert feed.kind == "renewed" and feed.may_use is True
    assert feed.valid_until == last_valid_day(event.occurred_at)


def test_a_renewal_restarts_the_consents_age(sanne, now, settings):
    """Ten days old, renewed today: it counts for the whole period from today."""
    choose_on_screen(sanne, "offers_spending", at=now)
    last_day = timezone.localdate(now) + dt.timedelta(days=settings.CONSENT_MAX_AGE_DAYS - 1)
    assert is_consent_valid(
        customer=sanne, purpose_code="offers_spending", at=validity.end_of_day(last_day) - MINUTE
    )
    assert not is_consent_valid(
        customer=sanne, purpose_code="offers_spending", at=validity.end_of_day(last_day)
    )


def test_the_history_and_the_receipt_say_renewed(sanne, now, client):
    (event,) = choose_on_screen(sanne, "offers_spending", at=now).events
    client.force_login(sanne.user)
    history = client.get("/history/").content.decode()
    assert history.count("verlengd") == 1 and history.count("aangezet") == 1
    receipt = client.get(f"/history/{event.pk}/receipt/").content.decode()
    assert "U verlengde uw toestemming voor" in receipt


def test_withdrawing_a_purpose_never_granted_writes_nothing_however_often(db, now):
    daan = CustomerFactory(customer_number="310002")
    for _attempt in range(22):
        recorded = choose_on_screen(daan, "offers_income", Action.WITHDRAWN, at=now)
        assert recorded.unchanged
    assert written(daan) == (0, 0)


def test_withdrawing_twice_writes_one_withdrawal(sanne, now):
    first = choose_on_screen(sanne, "offers_spending", Action.WITHDRAWN, at=now)
    second = choose_on_screen(sanne, "offers_spending", Action.WITHDRAWN, at=now)
    assert len(first.events) == 1 and not first.unchanged
    assert second.unchanged and second.events == []
    actions = list(
        ConsentEvent.objects.filter(customer=sanne)
        .order_by("sequence")
        .values_list("action", flat=True)
    )
    assert actions == [Action.GRANTED, Action.WITHDRAWN]


def test_a_grant_of_the_same_version_read_in_the_other_language_renews(sanne, now):
    # The hash tells which text was read: the English one of the same version.
    recorded = record_choice(
        customer=sanne,
        purpose_code="offers_spending",
        action=Action.GRANTED,
        channel=Channel.WEB,
        actor=sanne.user,
        at=now,
        **notice_on_screen(purpose_code="offers_spending", at=now, language="en"),
    )
    assert recorded.renewed and recorded.events[0].notice_language == "en"


def test_granting_again_after_a_withdrawal_is_no_renewal(sanne, now):
    choose_on_screen(sanne, "offers_spending", Action.WITHDRAWN, at=now)
    recorded = choose_on_screen(sanne, "offers_spending", at=now + MINUTE)
    assert not recorded.renewed
    assert not is_renewal(recorded.events[0])


def test_a_grant_that_no_longer_counts_is_renewed_by_granting_again(db, now):
    """Expired after two years: the same text granted again is a new grant, and the
    validity starts again from it."""
    old = CustomerFactory(customer_number="310003")
    choose_on_screen(old, "offers_spending", at=now - dt.timedelta(days=800))
    recorded = choose_on_screen(old, "offers_spending", at=now)
    assert len(recorded.events) == 1 and not recorded.unchanged
    assert not recorded.renewed and not is_renewal(recorded.events[0])


def test_a_grant_on_a_newer_material_text_is_recorded(sanne, now):
    publish_version("offers_spending", material=True, at=now - dt.timedelta(days=1))
    recorded = choose_on_screen(sanne, "offers_spending", at=now)
    assert len(recorded.events) == 1 and not recorded.renewed


def test_the_contact_centre_withdrawing_what_is_off_writes_nothing_and_is_told(client, db, now):
    from django.contrib.auth.models import Group

    from consent.models import ConsentState
    from tests.factories import UserFactory

    kees = UserFactory(username="kees", is_staff=True)
    kees.groups.set([Group.objects.get(name="Klantenservice")])
    daan = CustomerFactory(customer_number="310004")
    client.force_login(kees)
    url = f"/admin/consent/customer/{daan.customer_number}/act/withdraw/?purpose=offers_income"
    form = {
        "channel": Channel.PHONE,
        "identity_checked": "on",
        "note": "Klant belde: zet het uit.",
        "version": 1,
        "notice_sha256": notice_on_screen(purpose_code="offers_income", at=now)["notice_sha256"],
    }
    response = client.post(url, form, follow=True)
    assert "Er is niets vastgelegd: dit stond al zo bij de klant." in response.content.decode()
    assert written(daan) == (0, 0)
    assert not ConsentState.objects.filter(customer=daan).exists()
