"""Forget the API's Idempotency-Keys older than IDEMPOTENCY_KEYS_KEPT_HOURS (24 by
default). The schedule runs it hourly; a rerun removes nothing twice."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from api.idempotency import prune_idempotency_keys


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        removed = prune_idempotency_keys(at=timezone.now())
        self.stdout.write(f"{removed} idempotency keys removed")
