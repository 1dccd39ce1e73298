from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from infra.backups import BackupFailed, make_backup


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump, as the owner), the ledger's keys and the checkpoint"
        " files into a new folder under --into (default: backups/). Keep it where the"
        " database's insiders cannot write."
    )

    def add_arguments(self, parser):
        parser.add_argument("--into", default=settings.BASE_DIR / "backups")

    def handle(self, *args, into, **options):
        try:
            backup = make_backup(into=into, at=timezone.now())
        except BackupFailed as error:
            raise CommandError(str(error)) from None
        files = backup.manifest["files"]
        assert isinstance(files, dict)
        size = sum(p.stat().st_size for p in backup.folder.rglob("*") if p.is_file())
        self.stdout.write(f"backup {backup.folder}: {len(files)} files, {size:,} bytes")
