"""Append to the consent change feed the changes that are not ledger events: consents that
expired, that a material version ended, and any other difference between the feed and
`consent.validity`. The schedule runs it every minute; a rerun writes nothing twice."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from api.changes import changes_recorded, record_consent_changes


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        self.stdout.write(changes_recorded(record_consent_changes(now=timezone.now())))
