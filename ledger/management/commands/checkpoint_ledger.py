from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ledger.checkpoints import write_checkpoint


class Command(BaseCommand):
    help = (
        "On the checkpoint host: take the events not yet in the transparency log in, sign"
        " a checkpoint of the log, have the witnesses cosign it, store and publish it"
        " (run it every few minutes). Exits 1 when a witness refused."
    )

    def handle(self, *args, **options):
        written = write_checkpoint(at=timezone.now())
        checkpoint = written.checkpoint
        witnesses = f", cosigned by {', '.join(written.cosigned_by)}" if written.cosigned_by else ""
        self.stdout.write(
            f"took {written.sequenced} event(s) into the log; checkpoint of size"
            f" {checkpoint.size} signed{witnesses}"
        )
        for url, why in written.refused_by.items():
            self.stderr.write(f"witness {url} did not cosign: {why}")
        if written.refused_by:
            raise CommandError(f"{len(written.refused_by)} witness(es) did not cosign")
