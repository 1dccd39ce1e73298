import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from infra.backups import BackupFailed, restore_database
from infra.database import as_owner
from ledger.restore import RestoreFailed, reconcile


class Command(BaseCommand):
    help = (
        "Restore the database from a backup folder (stop the web, the workers and the"
        " scheduled jobs first), then make the ledger whole again against the checkpoint"
        " host's files (LEDGER_CHECKPOINT_DIR): lost choices are named, those customers are"
        " told and their consent-based processing stops until they choose again, and the"
        " feed's followers are told to take a snapshot again. Run on the checkpoint host."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path)
        parser.add_argument(
            "--yes",
            action="store_true",
            help="replace the database: everything after the backup is lost",
        )

    def handle(self, *args, folder, yes, **options):
        if not yes:
            raise CommandError(
                "This replaces the database with the backup; everything recorded since is"
                " lost (and named). Run again with --yes."
            )
        try:
            manifest = restore_database(folder=folder)
            with as_owner(connection):
                done = reconcile(
                    directory=Path(settings.LEDGER_CHECKPOINT_DIR),
                    at=timezone.now(),
                    backup_taken_at=dt.datetime.fromisoformat(str(manifest["taken_at"])),
                )
        except (BackupFailed, RestoreFailed) as error:
            raise CommandError(str(error)) from None
        restore = done.restore
        self.stdout.write(
            f"restored the backup of {manifest['taken_at']}: the log had {restore.database_size}"
            f" leaves, the newest checkpoint {restore.checkpoint_size}; {done.put_back} leaves"
            f" put back, {len(restore.lost_leaves)} of them without their event"
        )
        for lost in restore.lost:
            self.stdout.write(
                f"  customer {lost['customer_number']}: choice(s) {lost['from_sequence']}"
                f" to {lost['to_sequence']} of their chain lost"
            )
        for name, count in sorted(done.effects.items()):
            self.stdout.write(f"  {name.replace('_', ' ')}: {count}")
