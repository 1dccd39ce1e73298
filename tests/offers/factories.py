import datetime as dt
from decimal import Decimal

import factory

from offers.models import Account, Holding, Product, Transaction
from offers.synthetic import iban
from tests.factories import CustomerFactory


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    iban = factory.Sequence(lambda n: iban("NL", "TEST", n))
    customer = factory.SubFactory(CustomerFactory)
    kind = "checking"
    balance = Decimal("1500.00")
    currency = "EUR"


def hold(customer, *product_codes):
    for code in product_codes:
        Holding.objects.create(customer=customer, product=Product.objects.get(code=code))


class TransactionFactory(factory.django.DjangoModelFactory):
    """A card payment in the Netherlands, by default."""

    class Meta:
        model = Transaction

    transaction_id = factory.Sequence(lambda n: f"TX{n:08d}")
    account = factory.SubFactory(AccountFactory)
    booked_at = dt.datetime(2026, 10, 20, 12, 0, tzinfo=dt.UTC)
    amount = Decimal("-25.00")
    currency = "EUR"
    counterparty_name = "Albert Heijn"
    mcc = "5411"
    country = "NL"


def make_offer(customer, *, rule="travel_world_cover", status="proposed", now=None, **fields):
    """An offer as the engine would have made it `now` (default: the real now), relying
    on the customer's current consent for the rule's purposes. For tests of what happens
    after the engine: review, the customer's page, the overview."""
    from django.utils import timezone

    from consent.models import ConsentState
    from offers.models import Offer, OfferRun
    from offers.rules import RULES_BY_CODE

    now = now or timezone.now()
    as_of = timezone.localdate(now)
    rule_ = RULES_BY_CODE[rule]
    run = OfferRun.objects.create(
        as_of=as_of, started_at=now, finished_at=now, status="finished", rules=[rule]
    )
    offer = Offer.objects.create(
        customer=customer,
        product=Product.objects.get(code=rule_.product),
        rule=rule,
        run=run,
        as_of=as_of,
        status=status,
        explanation_nl="U betaalde onlangs buiten Europa.",
        explanation_en="You recently paid outside Europe.",
        evidence_nl="2 kaartbetalingen in de Verenigde Staten",
        evidence_en="2 card payments in the United States",
        created_at=now,
        valid_until=as_of + dt.timedelta(days=60),
        status_changed_at=now,
        rejection_reason="niet passend" if status == "rejected" else "",
        **fields,
    )
    offer.relied_on.set(
        ConsentState.objects.filter(
            customer=customer, purpose__code__in=rule_.purposes
        ).values_list("event_id", flat=True)
    )
    return offer
