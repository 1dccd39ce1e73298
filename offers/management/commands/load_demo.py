from django.core.management.base import BaseCommand
from django.utils import timezone

from consent.demo import demo_logins, load_demo_customers
from consent.models import Customer
from offers.demo import load_demo_banking, load_synthetic_customers


class Command(BaseCommand):
    help = "Load demo customers, their choices and banking data (only into an empty database)."

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

    def handle(self, *args, **options):
        if Customer.objects.exists():
            if options["if_empty"]:
                self.stdout.write("demo data: customers exist already, nothing loaded")
                self.print_logins()
                return
            self.stderr.write("customers exist already; load_demo only fills an empty database")
            raise SystemExit(1)
        now = timezone.now()
        load_demo_customers(now=now)
        load_demo_banking(now=now)
        if options["customers"]:
            load_synthetic_customers(count=options["customers"], now=now)
        self.stdout.write(self.style.SUCCESS("demo data loaded"))
        self.print_logins()

    def print_logins(self):
        self.stdout.write("Demo logins (username / password):")
        for username, password, who in demo_logins():
            self.stdout.write(f"  {username} / {password}   {who}")
