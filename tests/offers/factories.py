import datetime as dt
from decimal import Decimal

import factory

from banking.models import Account, Holding, Product, Transaction, ensure_transaction_months
from banking.synthetic import iban
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
    """A card payment in the Netherlands, by default (in a month made for it if needed:
    transactions are partitioned by month)."""

    class Meta:
        model = Transaction

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        ensure_transaction_months([kwargs["booked_at"]])
        return super()._create(model_class, *args, **kwargs)

    transaction_id = factory.Sequence(lambda n: f"TX{n:08d}")
    account = factory.SubFactory(AccountFactory)
    booked_at = dt.datetime(2026, 10, 20, 12, 0, tzinfo=dt.UTC)
    amount = Decimal("-25.00")
    currency = "EUR"
    counterparty_name = "Albert Heijn"
    mcc = "5411"
    country = "NL"


def give_reason_for(customer, rule: str, *, as_of: dt.date) -> None:
    """Banking data that makes `rule` fire for `customer` on `as_of` (their consent is the
    test's business): insured for Europe with two card payments in the United States; a
    checking balance of 12,500; or student finance from DUO."""
    from django.utils import timezone

    def days_before(days):
        return timezone.make_aware(
            dt.datetime.combine(as_of - dt.timedelta(days=days), dt.time(12))
        )

    if rule == "travel_world_cover":
        if not customer.holdings.filter(product__code="travel_insurance_europe").exists():
            hold(customer, "travel_insurance_europe")
        account = AccountFactory(customer=customer)
        for days in (20, 12):
            TransactionFactory(
                account=account, booked_at=days_before(days), country="US", mcc="5812"
            )
    elif rule == "savings_account":
        AccountFactory(customer=customer, balance=Decimal("12500.00"))
    elif rule == "student_account":
        TransactionFactory(
            account=AccountFactory(customer=customer),
            booked_at=days_before(14),
            amount=Decimal("312.00"),
            mcc=None,
            counterparty_name="DUO",
        )
    else:
        raise ValueError(rule)


def make_offer(
    customer, *, rule="travel_world_cover", status="proposed", now=None, allow_calls=True
):
    """The offer the real engine makes for `customer` at `now` (default: now), from banking
    data that makes `rule` fire, taken to `status` the way it happens in the bank: a
    reviewer approves or rejects, the customer answers, the offer's date passes, or the
    customer withdraws the consent it relied on. The customer must have consented.

    "accepted" is "Bel mij hierover": unless `allow_calls` is False, the customer first
    switches on calls about offers on their dashboard (if that does not count already),
    so the answer opens a follow-up as it does in the bank (consent.channels)."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from consent.choices import record_choice
    from ledger.models import Action, Channel
    from offers import engine, review
    from offers.customer import answer_offer
    from offers.models import Offer, OfferRun, RunStatus
    from offers.rules import RULES_BY_CODE

    now = now or timezone.now()
    as_of = timezone.localdate(now)
    give_reason_for(customer, rule, as_of=as_of)
    run = OfferRun.objects.create(as_of=as_of, started_at=now, rules=[rule])
    engine.run_chunk(
        run=run, rules=(RULES_BY_CODE[rule],), customers=(customer.pk, customer.pk), now=now
    )
    OfferRun.objects.filter(pk=run.pk).update(status=RunStatus.FINISHED, finished_at=now)
    offer = Offer.objects.filter(customer=customer, rule=rule, run=run).first()
    assert offer is not None, f"the engine made no {rule} offer: has {customer} consented?"

    reviewer, _ = get_user_model().objects.get_or_create(
        username="rik-reviewer", defaults={"is_staff": True}
    )
    if status in ("approved", "dismissed", "accepted", "expired"):
        review.approve(offer_ids=[offer.pk], reviewer=reviewer, at=now)
    if status == "rejected":
        review.reject(offer_ids=[offer.pk], reviewer=reviewer, reason="niet passend", at=now)
    if status == "accepted" and allow_calls:
        from consent.channels import channel_counts
        from tests.choices import choose_on_screen

        if not channel_counts(customer=customer, channel="phone", at=now):
            choose_on_screen(customer, "contact_phone", at=now)
    if status in ("dismissed", "accepted"):
        answer = "dismiss" if status == "dismissed" else "interested"
        answer_offer(customer, offer.pk, answer=answer, at=now)
    if status == "expired":
        offer.refresh_from_db()
        engine.expire_overdue(today=offer.valid_until + dt.timedelta(days=1), at=now)
    if status == "retracted":
        for purpose in RULES_BY_CODE[rule].purposes:
            record_choice(
                customer=customer,
                purpose_code=purpose,
                action=Action.WITHDRAWN,
                channel=Channel.WEB,
                actor=customer.user,
                at=now,
            )
    offer.refresh_from_db()
    assert offer.status == status, (offer.status, status)
    return offer
