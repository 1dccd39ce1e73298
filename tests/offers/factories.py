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
