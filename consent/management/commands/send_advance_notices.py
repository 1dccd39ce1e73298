"""Tell customers by e-mail, once, before a consent stops counting: thirty days before its
last valid day, or when a material text change is scheduled (consent.advance_notices).
The schedule runs it daily; a rerun sends nothing twice."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from consent.advance_notices import send_advance_notices


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        self.stdout.write(str(send_advance_notices(at=timezone.now())))
