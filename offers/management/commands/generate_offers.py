import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from offers.engine import RunInProgress, generate_offers
from offers.rules import RULES_BY_CODE


class Command(BaseCommand):
    help = "Run the offers engine for an as-of date (default today); idempotent per date."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=dt.date.fromisoformat, help="YYYY-MM-DD")
        parser.add_argument(
            "--rule", action="append", choices=sorted(RULES_BY_CODE), help="only this rule"
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=None,
            help="customers per chunk (default: all at once, one pass over transactions)",
        )

    def handle(self, *args, **options):
        now = timezone.now()
        as_of = options["as_of"] or timezone.localdate(now)
        on_terminal = self.stderr.isatty()
        try:
            run = generate_offers(
                as_of=as_of,
                now=now,
                rule_codes=options["rule"],
                chunk_size=options["chunk_size"],
                progress=(lambda text: self.stderr.write(f"… {text}")) if on_terminal else None,
            )
        except RunInProgress as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"run {run.pk} as of {run.as_of}: {run.status}"
            f" (expired {run.expired}, retracted {run.retracted})"
        )
        for code, counts in run.counts.items():
            self.stdout.write(
                f"  {code}: considered {counts['considered']}, candidates {counts['candidates']},"
                f" offered {counts['offered']}, already offered {counts['already_offered']},"
                f" suppressed by policy {counts['suppressed_by_policy']}"
            )
