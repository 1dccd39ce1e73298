import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from consent.models import Customer
from lifecycle.leaving import CannotClose, close_customer


def day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--on {value!r} is not a date like 2027-01-31") from None


class Command(BaseCommand):
    help = (
        "A customer left the bank: record the day, withdraw every consent (by the system),"
        " retract open offers, revoke the app's tokens and disable the login. From then on the"
        " engine and the pages skip the customer; enforce_retention removes their data on the"
        " dates the notices give. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("customer_number")
        parser.add_argument(
            "--on", type=day, default=None, help="the day the relationship ended (default: today)"
        )

    def handle(self, *args, customer_number, on, **options):
        customer = Customer.objects.filter(customer_number=customer_number).first()
        if customer is None:
            raise CommandError(f"no customer {customer_number}")
        on = on or timezone.localdate()
        try:
            closed = close_customer(customer=customer, on=on, at=timezone.now())
        except CannotClose as error:
            raise CommandError(str(error)) from None
        if closed.already_closed:
            self.stdout.write(
                f"customer {customer_number} was already closed on {on}: nothing changed"
            )
            return
        # What each app did, by kind (e.g. "offers_retracted 1, tokens_revoked 0").
        done = [f"{len(closed.withdrawals)} consent(s) withdrawn"] + [
            f"{effect.kind} {effect.count}" for effect in closed.effects
        ]
        self.stdout.write(
            f"customer {customer_number} closed on {on}: {', '.join(done)}; login disabled"
        )
