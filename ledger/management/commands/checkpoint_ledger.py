from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from ledger.checkpoints import write_checkpoint
from ledger.keys import public_key_hex


class Command(BaseCommand):
    help = (
        "Write a signed checkpoint of every customer's chain head to LEDGER_CHECKPOINT_DIR"
        " (run it every hour), or print the public key auditors verify it with."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--public-key", action="store_true", help="print the Ed25519 public key (hex)"
        )
        parser.add_argument("--dir", default=None, help="default: LEDGER_CHECKPOINT_DIR")

    def handle(self, *args, public_key, dir, **options):
        if public_key:
            self.stdout.write(public_key_hex())
            return
        path = write_checkpoint(directory=dir or settings.LEDGER_CHECKPOINT_DIR, at=timezone.now())
        import json

        checkpoint = json.loads(path.read_text())["checkpoint"]
        self.stdout.write(
            f"checkpoint {path}: {checkpoint['customers']} chain heads,"
            f" {checkpoint['events']} events, Merkle root {checkpoint['merkle_root']}"
        )
