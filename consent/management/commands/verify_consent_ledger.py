from django.core.management.base import BaseCommand, CommandError

from consent.ledger import verify
from consent.models import ConsentEvent


class Command(BaseCommand):
    help = "Re-walk every customer's consent chain and compare the state table with the ledger."

    def handle(self, *args, **options):
        problems = verify()
        for number, reasons in sorted(problems.items()):
            for reason in reasons:
                self.stderr.write(f"customer {number}: {reason}")
        if problems:
            raise CommandError(f"{len(problems)} customer(s) fail verification")
        self.stdout.write(f"ledger ok: {ConsentEvent.objects.count()} events, all chains intact")
