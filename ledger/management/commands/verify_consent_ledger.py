import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ledger.audit import verify
from ledger.checkpoints import verify_checkpoints
from ledger.models import ConsentEvent, LedgerTombstone


class Command(BaseCommand):
    help = (
        "Re-walk every customer's consent chain (links, HMACs, notice hashes), compare the"
        " state table with the ledger, and compare the ledger with the newest signed"
        " checkpoint. Exits 1 and names every customer that fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--checkpoints", default=None, help="default: LEDGER_CHECKPOINT_DIR")
        parser.add_argument(
            "--public-key", default=None, help="verify checkpoints with this key (hex)"
        )
        parser.add_argument(
            "--without-chain-key",
            action="store_true",
            help="for auditors without the HMAC key: check links, order and checkpoints only",
        )

    def handle(self, *args, checkpoints, public_key, without_chain_key, **options):
        progress = self._progress if sys.stderr.isatty() else None
        problems = verify(check_hmac=not without_chain_key, progress=progress)
        report = verify_checkpoints(
            checkpoints or settings.LEDGER_CHECKPOINT_DIR, public_key=public_key
        )
        for number, reasons in report.customers.items():
            problems.setdefault(number, []).extend(reasons)
        for problem in report.problems:
            self.stderr.write(f"checkpoint: {problem}")
        for number, reasons in sorted(problems.items()):
            for reason in reasons:
                who = "ledger" if number == "*" else f"customer {number}"
                self.stderr.write(f"{who}: {reason}")
        events = ConsentEvent.objects.count()
        if problems or report.problems:
            named = len([n for n in problems if n != "*"])
            raise CommandError(
                f"verification failed: {named} customer(s) named,"
                f" {len(report.problems)} checkpoint problem(s); {events} events in the ledger"
            )
        newest = report.newest
        against = (
            f"; matches the newest of {report.checked} checkpoint(s) ({newest['created_at']},"
            f" {newest['customers']} chain heads)"
            if newest
            else "; no checkpoint to compare with yet (run checkpoint_ledger)"
        )
        removed = LedgerTombstone.objects.count()
        tombstones = (
            f"; {removed} chain(s) removed by retention, each justified by its tombstone"
            if removed
            else ""
        )
        self.stdout.write(f"ledger ok: {events} events, all chains intact{against}{tombstones}")

    def _progress(self, done, total):
        self.stderr.write(f"\rchecked {done:,} of {total:,} events", ending="")
        if done == total:
            self.stderr.write("")
