"""The ledger's keys, kept outside the database.

- The **chain key** (HMAC-SHA256) makes each event's `hash`: someone who can write to the
  database but does not hold the key cannot make a changed event look untouched.
  `LEDGER_HMAC_KEY` (environment) or the file `LEDGER_HMAC_KEY_FILE` (default
  `.ledger_hmac_key`, made by `make run` and `make serve`). Each event names its key by a
  fingerprint, so keys can be rotated: retired keys stay in a keyring file
  (`LEDGER_HMAC_RETIRED_KEYS`, JSON: `[{"key": "...", "last_event_id": 1234}]`) and are
  accepted only for events up to the id at which they were retired.
- The **signing key** (Ed25519) signs checkpoints of every chain head
  (`checkpoint_ledger`). `LEDGER_SIGNING_KEY` (hex) or the file `LEDGER_SIGNING_KEY_FILE`
  (default `.ledger_signing_key`). An auditor needs only its public key.
"""

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


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
def signing_key() -> Ed25519PrivateKey:

    secret = _secret(
        settings.LEDGER_SIGNING_KEY, settings.LEDGER_SIGNING_KEY_FILE, name="LEDGER_SIGNING_KEY"
    )
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))


def public_key_hex() -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw: bytes = signing_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return raw.hex()


def reset_caches() -> None:
    """For tests that change the keys."""
    chain_keyring.cache_clear()
    signing_key.cache_clear()
