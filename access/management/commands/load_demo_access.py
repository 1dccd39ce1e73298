from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import timezone

from access.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_CUSTOMER, load_demo_data_user
from access.models import DataUser


class Command(BaseCommand):
    help = "Load the demo's data user (a budgeting app) with a request for customer 100001."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when a data user exists"
        )

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError("load_demo_access runs only in DEMO_MODE (a published secret).")
        if DataUser.objects.exists():
            if options["if_empty"]:
                self.stdout.write("demo data user: one exists already, nothing loaded")
                return
            raise CommandError("a data user exists already")
        permission = load_demo_data_user(now=timezone.now())
        if permission is None:
            self.stdout.write(f"demo data user: {DEMO_CUSTOMER} has no payment account")
            return
        link = reverse("access_request", args=[permission.consent_id])
        self.stdout.write(
            f"Demo data user Budgetkompas (client {DEMO_CLIENT_ID} / {DEMO_CLIENT_SECRET}):"
            f" its request for {DEMO_CUSTOMER} waits at {link}"
        )
