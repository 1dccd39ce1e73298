"""Append to the consent change feed the changes that are not ledger events: consents that
expired, that a material version ended, and any other difference between the feed and
`consent.validity`. Run it every few minutes (cron); a rerun writes nothing twice."""

from collections import Counter

from django.core.management.base import BaseCommand
from django.utils import timezone

from api.changes import record_consent_changes


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        rows = record_consent_changes(now=timezone.now())
        by_kind = Counter(row.kind for row in rows)
        summary = ", ".join(f"{kind} {count}" for kind, count in sorted(by_kind.items()))
        self.stdout.write(f"{len(rows)} changes recorded" + (f" ({summary})" if summary else ""))
