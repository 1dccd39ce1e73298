"""The standalone verifier of the consent ledger's transparency log, for a customer or an
auditor who holds only the bank's public key (and, optionally, the witnesses' keys).

    python -m ledger.verify receipt consent-receipt-<id>.json --log-key <vkey> \\
        [--witness-key <vkey> ...] [--witnesses N]
    python -m ledger.verify log --url https://privacy.bank.example/ledger --log-key <vkey> \\
        [--witness-key <vkey> ...] [--witnesses N] --state last-checkpoint.txt [--max-age S]

It imports only ledger.jcs, ledger.merkle, ledger.note, the standard library and
`cryptography`: copy those four files and ledger/__init__.py, and it runs anywhere.
docs/tlog.md describes every step and byte format.

`receipt` checks a downloaded consent receipt: its entry is RFC 8785 canonical JSON, its
leaf hash (RFC 9162) leads through the inclusion proof to the root of a checkpoint signed
by the pinned log key and cosigned by enough pinned witnesses, and the receipt's claims
are the entry's. `log` monitors the log: the newest checkpoint is signed, cosigned, fresh,
and consistent with the one this monitor verified last time, which it then remembers.

Freshness: a witness's cosignature/v1 says "as of this time, this is the largest tree I
have seen", so the age comes from the newest verified cosignature. Without witnesses it
comes from a `time <unix seconds>` extension line, which is the log's own word. The C2SP
tlog-witness protocol puts no condition on extension lines and tlog-cosignature's Ed25519
cosignatures sign them (without vouching for them), so a witness accepts a checkpoint that
has one; tlog-checkpoint calls them NOT RECOMMENDED, and ML-DSA-44 cosignatures would not
cover them: that is why witnesses' timestamps come first.

The library API (`verify_receipt`, `check_log`) returns a Result instead of printing, so
that the bank's own tests can call it in-process.
"""

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ledger import jcs, merkle, note

__all__ = ["ENTRY_FORMAT", "Result", "check_log", "main", "verify_receipt"]

ENTRY_FORMAT = 1
ENTRY_TYPES: dict[str, tuple[type, ...]] = {
    "format": (int,),
    "receipt_id": (str,),
    "customer": (str,),
    "purpose": (str, type(None)),
    "version": (int, type(None)),
    "action": (str,),
    "occurred_at": (str,),
    "channel": (str,),
    "actor": (int, type(None)),
    "notice_language": (str,),
    "notice_sha256": (str,),
    "sequence": (int,),
    "previous_hash": (str,),
    "hash": (str,),
    "key": (str,),
    "left_on": (str, type(None)),
    "salt": (str,),
}
# Receipt field (Kantara 1.1 and ours) -> the entry's field it must equal.
CLAIMS = {
    "consentReceiptID": "receipt_id",
    "piiPrincipalId": "customer",
    "action": "action",
    "noticeSha256": "notice_sha256",
    "collectionMethod": "channel",
    "ledgerSequence": "sequence",
    "ledgerPreviousHash": "previous_hash",
    "ledgerHash": "hash",
    "language": "notice_language",
}
CLOCK_SKEW = 300  # seconds a signature's time may lie ahead of ours


class Failed(Exception):
    """A check failed; the message says which and why."""


@dataclass
class Result:
    ok: bool
    checks: list[str] = field(default_factory=list)  # one line per check that passed
    reason: str | None = None  # why it failed
    uncovered: list[str] = field(default_factory=list)  # a receipt's fields the log lacks
    summary: str = ""  # the last line

    @property
    def lines(self) -> list[str]:
        return [*self.checks, self.summary]


# --- Shared checks ------------------------------------------------------------------------
def _log_verifier(log_key: str) -> note.Verifier:
    try:
        verifier = note.parse_verifier_key(log_key)
    except note.NoteError as error:
        raise Failed(f"the log key given is not a verifier key: {error}") from None
    if verifier.algorithm != note.ALG_ED25519:
        raise Failed("the log key given is not an Ed25519 note key (type 0x01)")
    return verifier


def _open_checkpoint(signed: str | bytes, log_key: str) -> tuple[note.Checkpoint, str]:
    """The checkpoint of a note that the pinned log key signed, and the log's name."""
    log = _log_verifier(log_key)
    try:
        text, _ = note.open(signed, [log_key])
        checkpoint = note.parse_checkpoint(text)
    except note.UnknownKey as error:
        signers = ", ".join(f"{name}+{hex_id}" for name, hex_id in error.signers) or "nobody"
        raise Failed(
            f"the checkpoint is not signed by the pinned log key {log.name}+{log.key_id.hex()}"
            f" (signed by: {signers})"
        ) from None
    except note.InvalidSignature as error:
        raise Failed(f"the log's signature on the checkpoint does not verify ({error})") from None
    except note.NoteError as error:
        raise Failed(f"the checkpoint is not a well-formed signed checkpoint: {error}") from None
    if checkpoint.origin != log.name:
        raise Failed(f"the checkpoint is of log {checkpoint.origin!r}, not of {log.name!r}")
    return checkpoint, log.name


def _cosigners(
    signed: str | bytes, witness_keys: Sequence[str], required: int | None
) -> dict[str, int]:
    """The witnesses whose cosignature verifies (name -> timestamp), at least `required`."""
    if not witness_keys:
        if required:
            raise Failed("--witnesses needs the witnesses' keys (--witness-key)")
        return {}
    try:
        names = [note.parse_verifier_key(vkey).name for vkey in witness_keys]
        if len(set(names)) != len(names):
            raise Failed("two witness keys have the same name")
        needed = len(witness_keys) if required is None else required
        if not 1 <= needed <= len(witness_keys):
            raise Failed(f"--witnesses must be between 1 and {len(witness_keys)}")
        cosigned = note.verify_cosignatures(signed, witness_keys)
    except note.InvalidSignature as error:
        raise Failed(f"a witness cosignature does not verify ({error})") from None
    except note.NoteError as error:
        raise Failed(f"cannot check the witnesses' cosignatures: {error}") from None
    if len(cosigned) < needed:
        missing = ", ".join(name for name in names if name not in cosigned)
        raise Failed(
            f"only {len(cosigned)} of the {needed} required witness cosignatures verify"
            f" (missing: {missing})"
        )
    return cosigned


def _iso(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _witness_line(cosigned: Mapping[str, int]) -> str:
    return ", ".join(f"{name} at {_iso(at)}" for name, at in sorted(cosigned.items()))


# --- Receipts -----------------------------------------------------------------------------
def _strict_object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise Failed(f"the JSON has the key {key!r} twice")
        result[key] = value
    return result


def _no_float(text: str) -> object:
    raise Failed(f"the entry holds a number that is not an integer: {text}")


def _entry(text: object) -> dict[str, object]:
    """The entry of a receipt's proof, checked to be exactly its canonical form."""
    if not isinstance(text, str):
        raise Failed("the proof has no entry (a string of canonical JSON)")
    try:
        entry = json.loads(
            text, object_pairs_hook=_strict_object, parse_float=_no_float, parse_constant=_no_float
        )
        canonical = jcs.canonical(entry)
    except (json.JSONDecodeError, TypeError, ValueError) as error:
        raise Failed(f"the entry is not JSON the ledger writes: {error}") from None
    if canonical != text.encode("utf-8"):
        raise Failed("the entry is not in its canonical form (RFC 8785): it was changed")
    if not isinstance(entry, dict) or set(entry) != set(ENTRY_TYPES):
        raise Failed(f"the entry does not have exactly the fields {', '.join(ENTRY_TYPES)}")
    for name, types in ENTRY_TYPES.items():
        if isinstance(entry[name], bool) or not isinstance(entry[name], types):
            raise Failed(f"the entry's {name} is not of the right type")
    if entry["format"] != ENTRY_FORMAT:
        raise Failed(f"entry format {entry['format']}: this verifier knows format 1 only")
    return entry


def _whole_seconds(occurred_at: str) -> int:
    try:
        at = dt.datetime.fromisoformat(occurred_at)
    except ValueError:
        raise Failed(f"the entry's occurred_at is not ISO 8601: {occurred_at!r}") from None
    if at.utcoffset() != dt.timedelta(0):
        raise Failed(f"the entry's occurred_at is not in UTC: {occurred_at!r}")
    # Exact integer arithmetic: whole seconds since the epoch, as Kantara's timestamp is.
    return (at - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(seconds=1)


def _same(a: object, b: object) -> bool:
    return type(a) is type(b) and a == b


def _check_claims(receipt: Mapping[str, object], entry: Mapping[str, object]) -> list[str]:
    """Every claim of the receipt that the entry states too must be the entry's. Returns
    the receipt's fields that the log does not (wholly) cover: they are the bank's word."""
    covered = {"proof", "consentTimestamp", "noticeVersion", "consentGiven", *CLAIMS}
    for claim, name in CLAIMS.items():
        if not _same(receipt.get(claim), entry[name]):
            raise Failed(f"the receipt's {claim} is not the entry's {name}")
    if not _same(receipt.get("consentTimestamp"), _whole_seconds(str(entry["occurred_at"]))):
        raise Failed("the receipt's consentTimestamp is not the entry's occurred_at")
    stated = entry["version"] is not None or "noticeVersion" in receipt
    if stated and not _same(receipt.get("noticeVersion"), entry["version"]):
        raise Failed("the receipt's noticeVersion is not the entry's version")
    if not _same(receipt.get("consentGiven"), entry["action"] == "granted"):
        raise Failed("the receipt's consentGiven does not follow from the entry's action")
    if entry["purpose"] is not None:
        # Only services[0].service is the entry's; the texts around it are not in the log.
        services = receipt.get("services")
        first = services[0] if isinstance(services, list) and services else None
        if not isinstance(first, dict) or not _same(first.get("service"), entry["purpose"]):
            raise Failed("the receipt's services[0].service is not the entry's purpose")
    else:
        # A purpose-less event's receipt quotes its statement in full (or null if unknown).
        covered.add("notice")
        if "notice" not in receipt:
            raise Failed("the receipt of an event about no purpose has no notice")
        statement = receipt["notice"]
        if statement is not None and not (
            isinstance(statement, str)
            and hashlib.sha256(statement.encode()).hexdigest() == entry["notice_sha256"]
        ):
            raise Failed("the receipt's notice is not the text whose hash the entry holds")
    return sorted(set(receipt) - covered)


def _inclusion_proof(proof: Mapping[str, object]) -> tuple[int, int, list[bytes]]:
    index, size, hashes = proof.get("leafIndex"), proof.get("treeSize"), proof.get("inclusionProof")
    for name, number in (("leafIndex", index), ("treeSize", size)):
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise Failed(f"the proof's {name} is not a non-negative integer")
    if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
        raise Failed("the proof's inclusionProof is not a list of base64 hashes")
    decoded = []
    for position, encoded in enumerate(hashes):
        try:
            hashed = note.b64decode(encoded)
        except note.NoteError:
            hashed = b""
        if len(hashed) != merkle.HASH_SIZE:
            raise Failed(f"inclusionProof[{position}] is not a base64 SHA-256 hash")
        decoded.append(hashed)
    assert isinstance(index, int) and isinstance(size, int)
    return index, size, decoded


def verify_receipt(
    receipt: Mapping[str, object],
    *,
    log_key: str,
    witness_keys: Sequence[str] = (),
    witnesses: int | None = None,
) -> Result:
    """Verify a consent receipt with its proof; see the module's docstring."""
    result = Result(ok=False)
    checks = result.checks
    try:
        proof = receipt.get("proof")
        if not isinstance(proof, dict):
            raise Failed("the receipt has no proof object")
        entry_text = proof.get("entry")
        entry = _entry(entry_text)
        assert isinstance(entry_text, str)
        checks.append("ok: the entry is canonical JSON (RFC 8785), format 1")
        result.uncovered = _check_claims(receipt, entry)
        checks.append("ok: the receipt's claims are the entry's")
        if result.uncovered:
            shown = [
                f"{name} (but for services[0].service)"
                if name == "services" and entry["purpose"] is not None
                else name
                for name in result.uncovered
            ]
            checks.append(f"note: not covered by the log: {', '.join(shown)}")
        if proof.get("status", "included") != "included":
            if proof["status"] == "pending":
                raise Failed(
                    f"event {entry['receipt_id']} is not in a signed checkpoint yet (proof"
                    " status pending): download the receipt again later"
                )
            raise Failed(f"unknown proof status {proof['status']!r}")
        leaf = merkle.leaf_hash(entry_text.encode("utf-8"))
        checks.append(f"ok: leaf hash {leaf.hex()}")
        signed = proof.get("checkpoint")
        if not isinstance(signed, str):
            raise Failed("the proof has no checkpoint")
        checkpoint, log = _open_checkpoint(signed, log_key)
        checks.append(f"ok: checkpoint of {checkpoint.size} leaves signed by {log}")
        cosigned = _cosigners(signed, witness_keys, witnesses)
        if cosigned:
            checks.append(f"ok: cosigned by {_witness_line(cosigned)}")
        index, size, path = _inclusion_proof(proof)
        if size != checkpoint.size:
            raise Failed(f"the proof is for {size} leaves, the checkpoint has {checkpoint.size}")
        if not merkle.verify_inclusion(leaf, index, size, path, checkpoint.root_hash):
            raise Failed(
                f"the inclusion proof does not lead from leaf {index} to the checkpoint's"
                " root: the entry, its place or the proof was changed"
            )
        checks.append(f"ok: leaf {index} is included in the tree of {size} leaves")
    except Failed as failure:
        result.reason = str(failure)
        result.summary = f"receipt FAILED: {failure}"
        return result
    result.ok = True
    result.summary = (
        f"receipt ok: event {entry['receipt_id']} is leaf {index} of {size}, checkpoint signed"
        f" by {log}, cosigned by {', '.join(sorted(cosigned)) or 'no witness (none given)'}"
    )
    return result


# --- Monitoring ---------------------------------------------------------------------------
class Source(Protocol):
    where: str

    def checkpoint(self) -> bytes | None: ...

    def consistency(self, old: int, new: int) -> bytes | None: ...


class HttpSource:
    """The log's endpoints: BASE/checkpoint and BASE/consistency?from=&to=."""

    def __init__(self, base: str) -> None:
        if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
            raise Failed(f"{base} is neither an http(s) URL nor a folder")
        self.where = base.rstrip("/")

    def _get(self, url: str) -> bytes | None:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (http(s) only)
                body: bytes = response.read()
                return body
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise Failed(f"{url}: HTTP {error.code}") from None
        except (urllib.error.URLError, OSError) as error:
            raise Failed(f"{url}: {error}") from None

    def checkpoint(self) -> bytes | None:
        return self._get(f"{self.where}/checkpoint")

    def consistency(self, old: int, new: int) -> bytes | None:
        return self._get(f"{self.where}/consistency?from={old}&to={new}")


class FolderSource:
    """An offline copy: `checkpoint` and `consistency-<from>-<to>.json` in one folder."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.where = folder, str(folder)

    def _read(self, name: str) -> bytes | None:
        path = self.folder / name
        return path.read_bytes() if path.is_file() else None

    def checkpoint(self) -> bytes | None:
        return self._read("checkpoint")

    def consistency(self, old: int, new: int) -> bytes | None:
        return self._read(f"consistency-{old}-{new}.json")


def _source(url: str) -> Source:
    if "://" not in url and Path(url).is_dir():
        return FolderSource(Path(url))
    return HttpSource(url)


def _consistency_proof(source: Source, old: int, new: int) -> list[bytes]:
    body = source.consistency(old, new)
    if body is None:
        raise Failed(f"{source.where} has no consistency proof from {old} to {new} leaves")
    try:
        document = json.loads(body, object_pairs_hook=_strict_object)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Failed("the consistency proof is not JSON") from None
    if not isinstance(document, dict) or (document.get("from"), document.get("to")) != (old, new):
        raise Failed(f"the consistency proof is not one from {old} to {new} leaves")
    hashes = document.get("proof")
    if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
        raise Failed("the consistency proof has no list of base64 hashes")
    try:
        return [note.b64decode(h) for h in hashes]
    except note.NoteError:
        raise Failed("the consistency proof holds a hash that is not canonical base64") from None


def _signed_time(checkpoint: note.Checkpoint) -> int | None:
    """The `time <unix seconds>` extension line of a checkpoint, if it has one."""
    for line in checkpoint.extensions:
        value = line.removeprefix("time ")
        if value != line and value.isascii() and value.isdigit():
            return int(value)
    return None


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_log(
    *,
    url: str,
    log_key: str,
    state: Path,
    now: int,
    witness_keys: Sequence[str] = (),
    witnesses: int | None = None,
    max_age: int | None = None,
) -> Result:
    """Monitor the log once: fetch the newest checkpoint from `url` (a base URL or a
    folder), verify it, its age at `now` (unix seconds) and its consistency with the
    checkpoint remembered in `state`, and remember it there when all is well."""
    result = Result(ok=False)
    checks = result.checks
    try:
        source = _source(url)
        body = source.checkpoint()
        if body is None:
            raise Failed(f"no checkpoint is published at {source.where} (404 or missing)")
        if not body.strip():
            raise Failed(f"the checkpoint published at {source.where} is empty")
        checkpoint, log = _open_checkpoint(body, log_key)
        signed = body.decode("utf-8")  # a note that opened is valid UTF-8
        checks.append(f"ok: checkpoint of {checkpoint.size} leaves signed by {log}")
        cosigned = _cosigners(body, witness_keys, witnesses)
        if cosigned:
            checks.append(f"ok: cosigned by {_witness_line(cosigned)}")
        age_line = ""
        if max_age is not None:
            signed_at = max(cosigned.values()) if cosigned else _signed_time(checkpoint)
            if signed_at is None:
                raise Failed(
                    "cannot tell the checkpoint's age: no witness keys given and no `time`"
                    " line in the checkpoint"
                )
            if signed_at > now + CLOCK_SKEW:
                raise Failed(f"the checkpoint claims a time in the future ({_iso(signed_at)})")
            age = max(0, now - signed_at)
            by = "newest witness cosignature" if cosigned else "log's time line"
            if age > max_age:
                raise Failed(
                    f"the newest checkpoint is too old: {age} s (limit {max_age} s; {by}"
                    f" at {_iso(signed_at)})"
                )
            checks.append(f"ok: {age} s old ({by} at {_iso(signed_at)}), limit {max_age} s")
            age_line = f", {age} s old"
        remembered = ""
        if state.exists():
            try:
                previous, _ = _open_checkpoint(state.read_bytes(), log_key)
            except Failed as failure:
                raise Failed(f"the checkpoint remembered in {state}: {failure}") from None
            if checkpoint.size < previous.size:
                raise Failed(
                    f"the log shrank: {checkpoint.size} leaves, {previous.size} remembered"
                )
            if checkpoint.size == previous.size:
                if checkpoint.root_hash != previous.root_hash:
                    raise Failed(
                        f"the log was rewritten: {checkpoint.size} leaves as remembered,"
                        " but another root hash"
                    )
                checks.append(f"ok: unchanged since the remembered {previous.size} leaves")
            else:
                proof = _consistency_proof(source, previous.size, checkpoint.size)
                consistent = merkle.verify_consistency(
                    previous.size, checkpoint.size, previous.root_hash, checkpoint.root_hash, proof
                )
                if not consistent:
                    raise Failed(
                        f"the checkpoint of {checkpoint.size} leaves is not consistent with"
                        f" the remembered one of {previous.size}: the log was rewritten"
                    )
                checks.append(f"ok: consistent with the remembered {previous.size} leaves")
            remembered = f", consistent with the {previous.size} remembered"
        else:
            checks.append(f"note: nothing remembered in {state} yet: trusting this one first")
        _write_atomically(state, signed)
    except Failed as failure:
        result.reason = str(failure)
        result.summary = f"log FAILED: {failure}"
        return result
    result.ok = True
    witnesses_text = ", ".join(sorted(cosigned)) or "no witness (none given)"
    result.summary = (
        f"log ok: {log} has {checkpoint.size} leaves{remembered}, cosigned by"
        f" {witnesses_text}{age_line}"
    )
    return result


# --- Command line -------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ledger.verify", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("receipt", "log"):
        command = commands.add_parser(name)
        if name == "receipt":
            command.add_argument("file", type=Path, help="the receipt's JSON file")
        else:
            command.add_argument("--url", required=True, help="the log's base URL, or a folder")
            command.add_argument("--state", type=Path, required=True, help="remembers the last")
            command.add_argument("--max-age", type=int, help="seconds a checkpoint may be old")
        command.add_argument("--log-key", required=True, help="the bank's log verifier key")
        command.add_argument("--witness-key", action="append", default=[], help="a witness's")
        command.add_argument("--witnesses", type=int, help="how many must cosign (all given)")
    arguments = parser.parse_args(argv)

    if arguments.command == "receipt":
        try:
            receipt = json.loads(arguments.file.read_bytes(), object_pairs_hook=_strict_object)
        except (OSError, json.JSONDecodeError, UnicodeDecodeError, Failed) as error:
            print(f"receipt FAILED: cannot read {arguments.file}: {error}")
            return 1
        if not isinstance(receipt, dict):
            print("receipt FAILED: the file is not a JSON object")
            return 1
        result = verify_receipt(
            receipt,
            log_key=arguments.log_key,
            witness_keys=arguments.witness_key,
            witnesses=arguments.witnesses,
        )
    else:
        result = check_log(
            url=arguments.url,
            log_key=arguments.log_key,
            state=arguments.state,
            now=int(time.time()),
            witness_keys=arguments.witness_key,
            witnesses=arguments.witnesses,
            max_age=arguments.max_age,
        )
    print("\n".join(result.lines))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
