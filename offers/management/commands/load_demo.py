from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from consent.demo import DEMO_PASSWORD, demo_logins, load_demo_customers
from consent.demo_notices import publish_demo_versions
from consent.models import Customer
from offers.demo import (
    demo_staff_logins,
    load_demo_banking,
    load_demo_staff,
    load_synthetic_customers,
)

User = get_user_model()
# The demo's privacy officer (offers.demo.DEMO_STAFF) publishes the demo's later texts.
DEMO_OFFICER = "privacy"


class Command(BaseCommand):
    help = (
        "Load demo customers, their choices, banking data and staff users"
        " (only into an empty database)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when customers already exist"
        )
        parser.add_argument(
            "--customers",
            type=int,
            default=0,
            help="also N synthetic customers with accounts, holdings, transactions, consents",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=7,
            help="the synthetic customers' random seed (default: %(default)s)",
        )

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            # Demo staff have a published password: never in production.
            raise CommandError(
                "load_demo runs only with config.settings.dev or config.settings.test"
                " (DEMO_MODE); its staff users have a published password."
            )
        if Customer.objects.exists():
            if options["if_empty"]:
                self.stdout.write("demo data: customers exist already, nothing loaded")
                self.print_logins()
                return
            self.stderr.write("customers exist already; load_demo only fills an empty database")
            raise SystemExit(1)
        now = timezone.now()
        # All or nothing: a load that fails half-way leaves the database empty, and
        # `--if-empty` loads it all next time.
        with transaction.atomic():
            load_demo_staff(password=DEMO_PASSWORD)
            # The privacy officer's later texts first: choices made after they took effect
            # are made on them, as they would have been.
            publish_demo_versions(officer=User.objects.get(username=DEMO_OFFICER), now=now)
            load_demo_customers(now=now)
            load_demo_banking(now=now)
        if options["customers"]:
            load_synthetic_customers(count=options["customers"], now=now, seed=options["seed"])
        self.stdout.write(self.style.SUCCESS("demo data loaded"))
        self.print_logins()

    def print_logins(self):
        self.stdout.write("Demo logins (username / password):")
        for username, password, who in [*demo_logins(), *demo_staff_logins(password=DEMO_PASSWORD)]:
            self.stdout.write(f"  {username} / {password}   {who}")
