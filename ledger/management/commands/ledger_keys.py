"""`ledger_keys`: the ledger's keys for one machine (`make run`, `make serve`).

- `init`: makes what is missing, readable by this user only: the chain key
  (`.ledger_hmac_key`), the log's signing key (`.ledger_signing_key`) and its public key
  (`.ledger_public_key`). It never makes a chain key for a ledger that already holds
  events, nor a signing key for a log that already has checkpoints: a second host must
  get the keys the first one uses (README, "Keys on several hosts").
- `public`: prints the log's public key as configured (pin it at auditors and witnesses).
"""

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from ledger import note
from ledger.keys import public_key
from ledger.models import Checkpoint, ConsentEvent


class Command(BaseCommand):
    help = "Make the ledger's keys for this machine where missing (init), or print the public key."

    def add_arguments(self, parser):
        parser.add_argument("what", choices=["init", "public"])

    def handle(self, *args, what, **options):
        if what == "public":
            self.stdout.write(public_key())
            return
        made = []
        if not settings.LEDGER_HMAC_KEY and not _filled(settings.LEDGER_HMAC_KEY_FILE):
            events = _count(ConsentEvent)
            if events:
                raise CommandError(
                    f"The ledger holds {events} events, signed with a chain key this host does"
                    f" not have. Copy that key to {settings.LEDGER_HMAC_KEY_FILE} (or set"
                    " LEDGER_HMAC_KEY); a new key would sign events nobody can verify."
                )
            _write(settings.LEDGER_HMAC_KEY_FILE, secrets.token_hex(32))
            made.append(f"{settings.LEDGER_HMAC_KEY_FILE} (the chain key)")
        made += self._signing_key()
        for what_made in made:
            self.stdout.write(f"created {what_made}; keep a copy somewhere safe")
        if not made:
            self.stdout.write("the ledger's keys are in place")

    def _signing_key(self) -> list[str]:
        if settings.LEDGER_SIGNING_KEY:
            return []
        path = Path(settings.LEDGER_SIGNING_KEY_FILE)
        made = []
        if _filled(path) and len(path.read_text().strip()) == 64:
            # A raw Ed25519 seed from before checkpoints were signed notes: same key, new form.
            seed = bytes.fromhex(path.read_text().strip())
            _write(path, note.signer_key(settings.LEDGER_ORIGIN, seed))
            made.append(f"{path} (the signing key, rewritten as a signed-note key)")
        elif not _filled(path):
            checkpoints = _count(Checkpoint)
            if checkpoints:
                raise CommandError(
                    f"The log has {checkpoints} checkpoint(s) signed with a key this host does"
                    f" not have: copy it to {path}, or run checkpoints on the host that has it."
                )
            seed = secrets.token_bytes(32)
            _write(path, note.signer_key(settings.LEDGER_ORIGIN, seed))
            made.append(f"{path} (the log's signing key)")
        public = Path(settings.LEDGER_PUBLIC_KEY_FILE)
        if not settings.LEDGER_PUBLIC_KEY and (made or not _filled(public)):
            signer = note.parse_signer_key(path.read_text().strip())
            _write(public, note.verifier_key(signer.name, signer.public_key), private=False)
            made.append(f"{public} (the log's public key: pin it at auditors and witnesses)")
        return made


def _filled(path: str | Path) -> bool:
    return Path(path).is_file() and bool(Path(path).read_text().strip())


def _count(model: type[ConsentEvent] | type[Checkpoint]) -> int:
    try:
        return model.objects.count()
    except DatabaseError:  # not migrated yet: nothing in it
        return 0


def _write(path: str | Path, text: str, *, private: bool = True) -> None:
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "w") as file:
        file.write(text + "\n")
