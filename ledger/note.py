"""Signed notes, checkpoints and witness cosignatures, byte for byte as C2SP specifies them
and as Go's golang.org/x/mod/sumdb/note does them.

Specifications followed (read from the C2SP repository's text):

- signed-note v1.0.0 (c2sp.org/signed-note): a note is a text ending in a newline, a blank
  line, then one or more lines `— <key name> <base64(key ID || signature)>` (U+2014 em dash,
  space). The text is everything up to and including the newline before the LAST blank
  line. UTF-8, no control characters but newline. Key names non-empty, without Unicode
  spaces or `+`. Ed25519 (signature type 0x01) signs the text;
  key ID = SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4].
  Verifier key (vkey): `<name>+<8 hex key ID>+<base64(0x01 || public key)>`; signer key, as
  Go's note package writes it: `PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 || seed)>`.
- tlog-checkpoint v1.0.0 (c2sp.org/tlog-checkpoint): the text is the origin, the tree size
  in decimal without leading zeroes, the base64 root hash, then optional non-empty
  extension lines, each ending in a newline.
- tlog-cosignature, the Ed25519 "cosignature/v1" type (c2sp.org/tlog-cosignature):
  key ID = SHA-256(name || 0x0A || 0x04 || public key)[:4]; the signature is
  timestamp (8 bytes, big-endian, at most 2**63 - 1) || Ed25519 signature over
  `cosignature/v1\\ntime <timestamp>\\n` followed by the whole checkpoint text, extension
  lines included. Witness keys are vkeys with type 0x04; their signer keys here are
  `PRIVATE+KEY+<name>+<key ID>+<base64(0x04 || seed)>`.

Where this is stricter than the specifications or could not be confirmed:

- base64 must be canonical (what encoding the decoded bytes gives back): RFC 4648 decoders,
  Go's included, accept other last characters for the same bytes, which would let one
  changed character go unnoticed.
- Every signature line of a known key is verified (Go's Open skips repeats of a key after
  the first); a note with more than 100 signatures is refused, as Go does.
- No C2SP text defines a signer-key encoding for cosignature (0x04) keys; the form above
  mirrors Go's for Ed25519 keys. Public witness software may store its keys differently.
- The tlog-cosignature text read also defines an ML-DSA-44 type (0x06), recommended for new
  deployments; only Ed25519 is implemented (the standard library plus `cryptography`).
"""

import base64
import binascii
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature as _BadSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "ALG_COSIGNATURE_V1",
    "ALG_ED25519",
    "Checkpoint",
    "InvalidKey",
    "InvalidSignature",
    "MalformedNote",
    "NoteError",
    "Signature",
    "Signer",
    "UnknownKey",
    "Verifier",
    "add_signatures",
    "b64decode",
    "b64encode",
    "cosign",
    "format_checkpoint",
    "generate_key",
    "generate_witness_key",
    "key_id",
    "open",
    "parse_checkpoint",
    "parse_signer_key",
    "parse_verifier_key",
    "sign",
    "signer_key",
    "split_note",
    "verifier_key",
    "verify_cosignatures",
]

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
MAX_SIGNATURES = 100
MAX_TIMESTAMP = 2**63 - 1
DASH = "\u2014 "  # em dash and a space: every signature line starts with it


class NoteError(ValueError):
    """Something about a note, a key or a checkpoint is not as the specifications say."""


class InvalidKey(NoteError):
    """A signer or verifier key string is malformed, or of a type not accepted here."""


class MalformedNote(NoteError):
    """The note is not a well-formed signed note (or checkpoint): nothing was verified."""


class UnknownKey(NoteError):
    """No signature in the note is by a key we know. `signers` names those it has."""

    def __init__(self, signers: Sequence[tuple[str, str]]) -> None:
        self.signers = list(signers)
        found = ", ".join(f"{name}+{hex_id}" for name, hex_id in self.signers) or "none"
        super().__init__(f"no signature by a known key (signed by: {found})")


class InvalidSignature(NoteError):
    """A signature line names a known key, but the signature does not verify."""

    def __init__(self, name: str, key_id: bytes) -> None:
        self.name, self.key_id = name, key_id
        super().__init__(f"invalid signature by {name}+{key_id.hex()}")


# --- base64 and keys ----------------------------------------------------------------------
def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    """Standard base64 (RFC 4648 section 4) in its one canonical spelling, else NoteError."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise NoteError(f"not base64: {text[:60]!r}") from None
    if b64encode(data) != text:
        raise NoteError(f"not canonical base64: {text[:60]!r}")
    return data


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(char.isspace() for char in name)


def key_id(name: str, algorithm: int, public_key: bytes) -> bytes:
    """SHA-256(name || 0x0A || signature type || public key)[:4] (signed-note)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([algorithm]) + public_key).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A parsed verifier key: who signs, with which key, of which signature type."""

    name: str
    key_id: bytes
    algorithm: int
    public_key: bytes

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except _BadSignature:
            return False
        return True

    @property
    def vkey(self) -> str:
        return verifier_key(self.name, self.public_key, algorithm=self.algorithm)


@dataclass(frozen=True)
class Signer:
    """A parsed signer key. Anyone holding its string can sign: keep it secret."""

    name: str
    key_id: bytes
    algorithm: int
    seed: bytes

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    @property
    def public_key(self) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes_raw()


def verifier_key(name: str, public_key: bytes, *, algorithm: int = ALG_ED25519) -> str:
    """The vkey `<name>+<hex key ID>+<base64(type || public key)>` of a 32-byte Ed25519
    public key (type 0x01 for a log, 0x04 for a witness's cosignatures)."""
    if not _valid_name(name):
        raise InvalidKey(f"invalid key name {name!r}: non-empty, no spaces, no '+'")
    if algorithm not in (ALG_ED25519, ALG_COSIGNATURE_V1) or len(public_key) != 32:
        raise InvalidKey("an Ed25519 key of type 0x01 or 0x04 has 32 bytes")
    encoded = b64encode(bytes([algorithm]) + public_key)
    return f"{name}+{key_id(name, algorithm, public_key).hex()}+{encoded}"


def signer_key(name: str, seed: bytes, *, algorithm: int = ALG_ED25519) -> str:
    """The signer key `PRIVATE+KEY+<name>+<hex key ID>+<base64(type || seed)>` of a 32-byte
    Ed25519 private key seed (e.g. an existing key, to publish it as a note signer)."""
    if len(seed) != 32:
        raise InvalidKey("an Ed25519 seed has 32 bytes")
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
    vkey = verifier_key(name, public, algorithm=algorithm)  # checks the name and type
    _, hex_id, _ = vkey.split("+", 2)
    return f"PRIVATE+KEY+{name}+{hex_id}+{b64encode(bytes([algorithm]) + seed)}"


def _generate(name: str, algorithm: int) -> tuple[str, str]:
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    public = private.public_key().public_bytes_raw()
    return (
        signer_key(name, seed, algorithm=algorithm),
        verifier_key(name, public, algorithm=algorithm),
    )


def generate_key(name: str) -> tuple[str, str]:
    """A new Ed25519 note key (a log's): (signer key, verifier key)."""
    return _generate(name, ALG_ED25519)


def generate_witness_key(name: str) -> tuple[str, str]:
    """A new Ed25519 cosignature/v1 key (a witness's, type 0x04): (signer key, vkey)."""
    return _generate(name, ALG_COSIGNATURE_V1)


def _parse_key(name: str, hex_id: str, encoded: str, what: str) -> tuple[int, bytes, bytes]:
    if not _valid_name(name) or len(hex_id) != 8:
        raise InvalidKey(f"malformed {what}")
    try:
        claimed_id = bytes.fromhex(hex_id)
        material = b64decode(encoded)
    except (ValueError, NoteError):
        raise InvalidKey(f"malformed {what}") from None
    if len(material) != 33 or material[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
        raise InvalidKey(f"{what}: not an Ed25519 key of type 0x01 or 0x04")
    return material[0], material[1:], claimed_id


def parse_verifier_key(vkey: str) -> Verifier:
    """Parse `<name>+<hex key ID>+<base64(type || public key)>`, checking the key ID."""
    parts = vkey.strip().split("+", 2)  # base64 may hold "+" too
    if len(parts) != 3:
        raise InvalidKey("malformed verifier key: want <name>+<key ID>+<key>")
    name, hex_id, encoded = parts
    algorithm, public, claimed_id = _parse_key(name, hex_id, encoded, "verifier key")
    if key_id(name, algorithm, public) != claimed_id:
        raise InvalidKey(f"verifier key {name}: the key ID does not match the key")
    return Verifier(name, claimed_id, algorithm, public)


def parse_signer_key(skey: str) -> Signer:
    """Parse `PRIVATE+KEY+<name>+<hex key ID>+<base64(type || seed)>`, checking the ID."""
    parts = skey.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise InvalidKey("malformed signer key: want PRIVATE+KEY+<name>+<key ID>+<key>")
    _, _, name, hex_id, encoded = parts
    algorithm, seed, claimed_id = _parse_key(name, hex_id, encoded, "signer key")
    signer = Signer(name, claimed_id, algorithm, seed)
    if key_id(name, algorithm, signer.public_key) != claimed_id:
        raise InvalidKey(f"signer key {name}: the key ID does not match the key")
    return signer


# --- Notes --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Signature:
    """One signature line: the key's name and ID, and the signature bytes after the ID."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{DASH}{self.name} {b64encode(self.key_id + self.signature)}\n"


def _check_characters(text: str) -> None:
    if any(char < " " and char != "\n" for char in text):
        raise MalformedNote("a note has no control characters but newline")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedNote("a note is valid UTF-8") from None


def split_note(note: str | bytes) -> tuple[str, list[Signature]]:
    """The text of a note and its signature lines, parsed and checked for form only (no
    signature is verified). A malformed note is a MalformedNote."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedNote("a note is valid UTF-8") from None
    _check_characters(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNote("no blank line between the text and the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block or not block.endswith("\n"):
        raise MalformedNote("a note ends with signature lines, each ending in a newline")
    signatures = []
    for line in block[:-1].split("\n"):
        if not line.startswith(DASH):
            raise MalformedNote(f"not a signature line: {line[:60]!r}")
        name, _, encoded = line[len(DASH) :].partition(" ")
        try:
            raw = b64decode(encoded)
        except NoteError:
            raise MalformedNote(f"signature by {name!r} is not canonical base64") from None
        if not _valid_name(name) or len(raw) < 5:
            raise MalformedNote(f"malformed signature line: {line[:60]!r}")
        signatures.append(Signature(name, raw[:4], raw[4:]))
        if len(signatures) > MAX_SIGNATURES:
            raise MalformedNote(f"more than {MAX_SIGNATURES} signatures")
    return text, signatures


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise MalformedNote("a note's text ends with a newline")
    _check_characters(text)


def sign(text: str, signer_key: str) -> str:
    """The note of `text` with one Ed25519 signature by `signer_key` (type 0x01)."""
    _check_text(text)
    signer = parse_signer_key(signer_key)
    if signer.algorithm != ALG_ED25519:
        raise InvalidKey("sign() takes an Ed25519 note key (type 0x01); witnesses cosign()")
    signature = Signature(signer.name, signer.key_id, signer.sign(text.encode()))
    return f"{text}\n{signature.line()}"


def add_signatures(note: str, lines: str | Iterable[str]) -> str:
    """The note with more signature lines after its own (e.g. witnesses' cosignatures);
    checked for form, not verified."""
    new = lines if isinstance(lines, str) else "".join(lines)
    result = note + new
    split_note(result)
    return result


def _verifiers(keys: Iterable[str], algorithm: int) -> dict[tuple[str, bytes], Verifier]:
    verifiers = {}
    for vkey in keys:
        verifier = parse_verifier_key(vkey)
        if verifier.algorithm != algorithm:
            raise InvalidKey(f"{verifier.name}: a key of type 0x{verifier.algorithm:02x} here")
        verifiers[verifier.name, verifier.key_id] = verifier
    return verifiers


def open(note: str | bytes, verifier_keys: Iterable[str]) -> tuple[str, list[str]]:
    """Verify a note's signatures by the given Ed25519 (0x01) verifier keys and return its
    text and the names whose signature verified.

    As signed-note says: a line whose name and key ID are not both those of a given key is
    ignored; a line of a given key must verify (InvalidSignature otherwise); at least one
    must (UnknownKey otherwise, naming the keys that did sign). MalformedNote when the note
    itself is not well formed."""
    text, signatures = split_note(note)
    known = _verifiers(verifier_keys, ALG_ED25519)
    verified: list[str] = []
    for signature in signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            continue
        if not verifier.verify(text.encode(), signature.signature):
            raise InvalidSignature(signature.name, signature.key_id)
        if signature.name not in verified:
            verified.append(signature.name)
    if not verified:
        raise UnknownKey([(s.name, s.key_id.hex()) for s in signatures])
    return text, verified


# --- Checkpoints (tlog-checkpoint) --------------------------------------------------------
@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return format_checkpoint(self.origin, self.size, self.root_hash, self.extensions)


def format_checkpoint(
    origin: str, size: int, root_hash: bytes, extensions: Sequence[str] = ()
) -> str:
    """The text of a checkpoint: origin, size, base64 root hash, extension lines."""
    for line in (origin, *extensions):
        if not line or "\n" in line:
            raise MalformedNote("checkpoint lines are non-empty and have no newline")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_TIMESTAMP:
        raise MalformedNote("a tree size is a non-negative integer below 2**63")
    if len(root_hash) != 32:
        raise MalformedNote("a root hash is 32 bytes")
    text = "".join(f"{line}\n" for line in (origin, str(size), b64encode(root_hash), *extensions))
    _check_text(text)
    return text


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint's text (the note's text, not the signatures)."""
    if not text.endswith("\n"):
        raise MalformedNote("a checkpoint ends with a newline")
    _check_characters(text)
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not all(lines):
        raise MalformedNote("a checkpoint has an origin, a size and a root hash, none empty")
    origin, size, encoded, *extensions = lines
    if not size.isascii() or not size.isdigit() or (size != "0" and size.startswith("0")):
        raise MalformedNote(f"tree size {size[:30]!r} is not a decimal without leading zeroes")
    if int(size) > MAX_TIMESTAMP:
        raise MalformedNote("tree size beyond 2**63 - 1")
    try:
        root_hash = b64decode(encoded)
    except NoteError:
        raise MalformedNote("the root hash is not canonical base64") from None
    if len(root_hash) != 32:
        raise MalformedNote("the root hash is not 32 bytes")
    return Checkpoint(origin, int(size), root_hash, tuple(extensions))


# --- Witness cosignatures (tlog-cosignature, cosignature/v1) -------------------------------
def _cosigned_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def cosign(checkpoint_text: str, witness_signer_key: str, timestamp: int) -> str:
    """A witness's cosignature/v1 line over a checkpoint's text, at `timestamp` (POSIX
    seconds): `— <name> base64(key ID || 8-byte big-endian timestamp || signature)`, with
    its newline, as a witness answers add-checkpoint."""
    _check_text(checkpoint_text)
    parse_checkpoint(checkpoint_text)
    signer = parse_signer_key(witness_signer_key)
    if signer.algorithm != ALG_COSIGNATURE_V1:
        raise InvalidKey("cosign() takes a cosignature/v1 key (type 0x04)")
    if isinstance(timestamp, bool) or not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError("a cosignature timestamp is between 0 and 2**63 - 1")
    signed = signer.sign(_cosigned_message(checkpoint_text, timestamp))
    return Signature(signer.name, signer.key_id, timestamp.to_bytes(8, "big") + signed).line()


def verify_cosignatures(note: str | bytes, witness_verifier_keys: Iterable[str]) -> dict[str, int]:
    """The witnesses (by name) whose cosignature/v1 on the note's checkpoint verifies, with
    their timestamps. Lines of other keys are ignored; a line of a given witness key that
    does not verify is an InvalidSignature."""
    text, signatures = split_note(note)
    parse_checkpoint(text)
    known = _verifiers(witness_verifier_keys, ALG_COSIGNATURE_V1)
    cosigned: dict[str, int] = {}
    for signature in signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            continue
        if len(signature.signature) != 8 + 64:
            raise InvalidSignature(signature.name, signature.key_id)
        timestamp = int.from_bytes(signature.signature[:8], "big")
        message = _cosigned_message(text, timestamp)
        if timestamp > MAX_TIMESTAMP or not verifier.verify(message, signature.signature[8:]):
            raise InvalidSignature(signature.name, signature.key_id)
        cosigned[signature.name] = max(timestamp, cosigned.get(signature.name, 0))
    return cosigned
