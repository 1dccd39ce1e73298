from django.core.management.base import BaseCommand, CommandError

from infra.progress import Progress
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
        report = verify(check_hmac=not without_chain_key, progress=Progress(self.stderr))
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
        for record in report.restores:
            since = record.backup_taken_at or record.checkpoint_at
            self.stdout.write(
                f"restore of {record.restored_at:%Y-%m-%d %H:%M}: the database went back to"
                f" {since:%Y-%m-%d %H:%M}; {len(record.lost_leaves)} choice(s) in the log lost,"
                f" of {len(record.lost)} customer(s); choices after"
                f" {record.checkpoint_at:%Y-%m-%d %H:%M} were in no checkpoint"
            )
            for lost in record.lost:
                places = (
                    str(lost["from_sequence"])
                    if lost["from_sequence"] == lost["to_sequence"]
                    else f"{lost['from_sequence']}-{lost['to_sequence']}"
                )
                self.stdout.write(
                    f"  customer {lost['customer_number']}: choice(s) {places} of their chain"
                    " lost; asked to choose again"
                )
