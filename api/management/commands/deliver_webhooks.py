"""Send the webhooks that are due (api/webhooks.py): new feed rows become deliveries,
each due one is sent, its attempt logged and its retry scheduled. `--once` sends what is
due now and stops (for a schedule); without it the command keeps going, sleeping
`--interval` seconds whenever nothing was left. Run as many as you like at once: each
delivery is sent once per due time."""

import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from api.webhooks import deliver_due, round_said


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One round, then stop.")
        parser.add_argument(
            "--interval", type=float, default=5.0, help="Seconds between rounds (loop)."
        )
        parser.add_argument("--limit", type=int, default=100, help="Deliveries per round.")

    def handle(self, *args, once, interval, limit, **options):
        while True:
            counts = deliver_due(now=timezone.now(), limit=limit)
            if once or any(counts.values()):
                self.stdout.write(round_said(counts))
            if once:
                return
            sent = counts["delivered"] + counts["retrying"] + counts["failed"]
            if sent < limit:
                time.sleep(interval)
