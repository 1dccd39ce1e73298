"""The ledger's keys, kept outside the database.

- The **chain key** (HMAC-SHA256) makes each event's `hash`: someone who can write to the
  database but does not hold the key cannot make a changed event look untouched.
  `LEDGER_HMAC_KEY` (environment) or the file `LEDGER_HMAC_KEY_FILE` (default
  `.ledger_hmac_key`, made by `make run` and `make serve`). Each event names its key by a
  fingerprint, so keys can be rotated: retired keys stay in a keyring file
  (`LEDGER_HMAC_RETIRED_KEYS`, JSON: `[{"key": "...", "last_event_id": 1234}]`) and are
  accepted only for events up to the id at which they were retired.
- The **signing key** (Ed25519, a C2SP signed-note key) signs the transparency log's
  checkpoints (`checkpoint_ledger`). Only the checkpoint host holds it:
  `LEDGER_SIGNING_KEY` or the file `LEDGER_SIGNING_KEY_FILE`.
- The **public keys** are pinned in configuration, never derived from a private key:
  the log's (`LEDGER_PUBLIC_KEY`) and the witnesses' (`LEDGER_WITNESS_KEYS`).

Nothing here makes a key: `manage.py ledger_keys` does, and refuses to make a chain key
for a ledger that already holds events (`check_chain_key` stops a process that has
another one).
"""

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from . import note


@dataclass(frozen=True)
class ChainKey:
    secret: bytes
    last_event_id: int | None = None  # retired: valid only for events up to this id

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.secret).hexdigest()[:16]


@dataclass(frozen=True)
class Keyring:
    current: ChainKey
    retired: tuple[ChainKey, ...] = ()

    def find(self, fingerprint: str) -> ChainKey | None:
        for key in (self.current, *self.retired):
            if key.fingerprint == fingerprint:
                return key
        return None


def _secret(value: str | None, file: str | Path | None, *, name: str) -> str:
    if value:
        return value.strip()
    if file and Path(file).is_file():
        return Path(file).read_text().strip()
    raise ImproperlyConfigured(
        f"{name} is not set and {file} does not exist: `make run` or `make serve` creates it,"
        " or set the environment variable."
    )


@functools.cache
def chain_keyring() -> Keyring:
    current = ChainKey(
        secret=_secret(
            settings.LEDGER_HMAC_KEY, settings.LEDGER_HMAC_KEY_FILE, name="LEDGER_HMAC_KEY"
        ).encode()
    )
    retired: tuple[ChainKey, ...] = ()
    if settings.LEDGER_HMAC_RETIRED_KEYS:
        entries = json.loads(Path(settings.LEDGER_HMAC_RETIRED_KEYS).read_text())
        retired = tuple(
            ChainKey(secret=entry["key"].encode(), last_event_id=int(entry["last_event_id"]))
            for entry in entries
        )
    return Keyring(current=current, retired=retired)


@functools.cache
def signing_key() -> str:
    """The log's signer key (a C2SP signed-note key, `PRIVATE+KEY+<origin>+…`). Only the
    checkpoint host holds it: web and worker hosts never sign anything."""
    key = _secret(
        settings.LEDGER_SIGNING_KEY, settings.LEDGER_SIGNING_KEY_FILE, name="LEDGER_SIGNING_KEY"
    )
    if len(key) == 64 and all(c in "0123456789abcdef" for c in key.lower()):
        # A raw Ed25519 seed, as keys were kept before checkpoints were signed notes.
        key = note.signer_key(settings.LEDGER_ORIGIN, bytes.fromhex(key))
    signer = note.parse_signer_key(key)
    if signer.name != settings.LEDGER_ORIGIN:
        raise ImproperlyConfigured(
            f"LEDGER_SIGNING_KEY is the key of {signer.name!r}, not of this log"
            f" ({settings.LEDGER_ORIGIN!r})."
        )
    return key


@functools.cache
def public_key() -> str:
    """The log's verifier key, pinned in configuration (`LEDGER_PUBLIC_KEY`, or the file
    `LEDGER_PUBLIC_KEY_FILE`): never derived from a private key on this host, so that a
    checkpoint re-signed with another key does not verify."""
    key = _secret(
        settings.LEDGER_PUBLIC_KEY, settings.LEDGER_PUBLIC_KEY_FILE, name="LEDGER_PUBLIC_KEY"
    )
    verifier = note.parse_verifier_key(key)
    if verifier.name != settings.LEDGER_ORIGIN:
        raise ImproperlyConfigured(
            f"LEDGER_PUBLIC_KEY is the key of {verifier.name!r}, not of this log"
            f" ({settings.LEDGER_ORIGIN!r})."
        )
    return key


def witness_keys() -> list[str]:
    """The witnesses' verifier keys, pinned: every one must have cosigned a checkpoint for
    the verifier to accept it."""
    keys = [key for key in settings.LEDGER_WITNESS_KEYS if key]
    for key in keys:
        note.parse_verifier_key(key)
    return keys


def reset_caches() -> None:
    """For tests that change the keys."""
    chain_keyring.cache_clear()
    signing_key.cache_clear()
    public_key.cache_clear()
    _checked_against_ledger.clear()


# --- Keys on several hosts ---------------------------------------------------------------
class ChainKeyMismatch(ImproperlyConfigured):
    pass


_checked_against_ledger: set[str] = set()


def check_chain_key(*, force: bool = False) -> None:
    """Refuse to go on with a chain key the ledger does not use: the newest event must be
    signed with this process's key, or with a retired key it knows (right after a
    rotation). A second host started with a key of its own would otherwise sign events
    with a key nobody else holds. Checked once per process (before its first append);
    an empty ledger accepts any key."""
    from .models import ConsentEvent

    keyring = chain_keyring()
    if keyring.current.fingerprint in _checked_against_ledger and not force:
        return
    newest = ConsentEvent.objects.order_by("-pk").values_list("hmac_key", flat=True).first()
    if newest is not None and keyring.find(newest) is None:
        raise ChainKeyMismatch(
            f"This process's chain key (fingerprint {keyring.current.fingerprint}) is not the"
            f" key the ledger's newest event was signed with ({newest}). Give this host the"
            " ledger's chain key (LEDGER_HMAC_KEY or LEDGER_HMAC_KEY_FILE, as on the other"
            " hosts); never make a new one for a ledger that holds events."
        )
    _checked_against_ledger.add(keyring.current.fingerprint)


def check_chain_key_at_start() -> None:
    """For a process that is starting (the web app): refuse a chain key the ledger does
    not use. While the database is unreachable the check waits for the first append."""
    from django.db import DatabaseError, connection

    try:
        check_chain_key()
    except DatabaseError:
        pass
    finally:
        connection.close()
