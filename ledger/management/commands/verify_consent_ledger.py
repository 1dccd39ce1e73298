import sys

from django.core.management.base import BaseCommand, CommandError

from ledger.audit import LEDGER, verify


class Command(BaseCommand):
    help = (
        "Verify the consent ledger against everything that proves it: every customer's"
        " chain (links, HMACs, entries), the transparency log against its signed and"
        " witnessed checkpoints (pinned keys: LEDGER_PUBLIC_KEY, LEDGER_WITNESS_KEYS),"
        " every tombstone against the logged departure, and what the apps keep (the"
        " current state, the notice texts). Exits 1 and names what fails."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--without-chain-key",
            action="store_true",
            help="for auditors without the HMAC key: everything but the HMACs",
        )

    def handle(self, *args, without_chain_key, **options):
        progress = self._progress if sys.stderr.isatty() else None
        report = verify(check_hmac=not without_chain_key, progress=progress)
        for who, reasons in sorted(report.problems.items()):
            for reason in reasons:
                self.stderr.write(f"{'ledger' if who == LEDGER else f'customer {who}'}: {reason}")
        counts = (
            f"{report.events} events, {report.leaves} leaves in the log,"
            f" {report.checkpoints} checkpoint(s), {report.tombstones} tombstone(s)"
        )
        if report.problems:
            named = len([who for who in report.problems if who != LEDGER])
            raise CommandError(
                f"verification failed: {named} customer(s) named"
                f"{', and the log itself' if LEDGER in report.problems else ''}; {counts}"
            )
        newest = report.newest
        against = (
            f"; the newest checkpoint (size {newest.size}) is signed by the pinned key"
            + (f" and cosigned by {', '.join(report.cosigned_by)}" if report.cosigned_by else "")
            if newest
            else "; no checkpoint yet"
        )
        self.stdout.write(f"ledger ok: {counts}; all chains intact{against}")

    def _progress(self, done, total):
        self.stderr.write(f"\rchecked {done:,} of {total:,} events", ending="")
        if done == total:
            self.stderr.write("")
