from django.core.management.base import BaseCommand
from django.utils import timezone

from config.scheduler.runs import status


def when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z") if moment else "-"


def last_line(text: str) -> str:
    """An error's last line (a traceback ends with the exception)."""
    lines = text.strip().splitlines()
    return lines[-1] if lines else "-"


class Command(BaseCommand):
    help = (
        "Per scheduled job (config/schedule.py): how often and on which queue, its last slot"
        " and attempt, the last run that ended (when, how long, what it said), the next slot."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        for row in status(now=now):
            job, last, ended = row.job, row.last, row.last_ended
            self.stdout.write(f"{job.name} ({job.when}, queue {job.queue})")
            if last is None:
                self.stdout.write("  last slot: -   never queued")
            else:
                self.stdout.write(
                    f"  last slot: {when(last.slot_at)}, attempt {last.attempt} of"
                    f" {job.max_attempts}: {last.status}"
                )
            if ended is not None:
                took = ended.duration.total_seconds() if ended.duration else 0.0
                said = ended.outcome or last_line(ended.error)
                self.stdout.write(
                    f"  last run: {ended.status} at {when(ended.started_at or ended.finished_at)},"
                    f" took {took:.1f} s: {said}"
                )
            self.stdout.write(f"  next slot: {when(row.next_slot_at)}")
