import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from consent.retention_rules import KINDS
from infra.progress import Progress
from lifecycle.retention import RetentionInProgress, enforce_retention


def day(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of {value!r} is not a date like 2027-01-31") from None


class Command(BaseCommand):
    help = (
        "Remove what is past the retention periods the published notices state: offers a year"
        " after they closed, the data-use log, transactions, the proof of consent after the"
        " customer left (with a tombstone for the next checkpoint), accounts; pseudonymise"
        " profiles last. Run it daily. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of",
            type=day,
            default=None,
            help="the day to count with (default: today); never later than the database's date",
        )

    def handle(self, *args, as_of, **options):
        requested = as_of or timezone.localdate()
        try:
            done = enforce_retention(
                as_of=requested, now=timezone.now(), progress=Progress(self.stderr)
            )
        except RetentionInProgress as error:
            raise CommandError(str(error)) from None
        if done.capped:
            self.stdout.write(
                f"--as-of {requested} is after the database's date: counted as of {done.as_of}"
            )
        self.stdout.write(f"retention as of {done.as_of}:")
        for kind, removed in done.removed.items():
            if kind in done.unstated:
                what = "kept: no notice in effect states a period"
            elif removed:
                what = ", ".join(
                    f"{count} {name.replace('_', ' ')}" for name, count in removed.items()
                )
            else:
                what = "nothing past its period"
            self.stdout.write(f"  {kind} ({KINDS[kind]['en']}): {what}")
        total = sum(sum(removed.values()) for removed in done.removed.values())
        self.stdout.write(f"{total} removed or pseudonymised in all")
