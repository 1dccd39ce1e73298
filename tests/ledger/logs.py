"""A transparency log in memory, made only of ledger.jcs, ledger.merkle and ledger.note, as
the bank's Django side makes it from its database: entries in, nodes stored, checkpoints
signed, proofs served from the stored nodes. Plus consent entries and receipts shaped as
the ledger writes them."""

import datetime as dt
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, field

from ledger import jcs, merkle, note

ORIGIN = "privacy.bank.example/consent-log"


@dataclass
class Log:
    origin: str = ORIGIN
    signer_key: str = ""
    verifier_key: str = ""
    entries: list[str] = field(default_factory=list)
    nodes: dict[tuple[int, int], bytes] = field(default_factory=dict)
    tree: merkle.CompactRange = field(default_factory=merkle.CompactRange)

    def __post_init__(self) -> None:
        if not self.signer_key:
            self.signer_key, self.verifier_key = note.generate_key(self.origin)

    @property
    def size(self) -> int:
        return self.tree.size

    def append(self, entry: dict) -> int:
        text = jcs.canonical(entry).decode()
        for level, index, hashed in self.tree.append(merkle.leaf_hash(text.encode())):
            self.nodes[level, index] = hashed
        self.entries.append(text)
        return self.tree.size - 1

    def get_node(self, level: int, index: int) -> bytes:
        return self.nodes[level, index]

    def subtree(self, start: int, end: int) -> bytes:
        return merkle.subtree_from_nodes(start, end, self.get_node)

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        return self.subtree(0, size) if size else merkle.EMPTY_ROOT

    def checkpoint(self, size: int | None = None, extensions: tuple[str, ...] = ()) -> str:
        """The checkpoint note at `size` (now by default), signed by the log's key."""
        size = self.size if size is None else size
        text = note.format_checkpoint(self.origin, size, self.root(size), extensions)
        return note.sign(text, self.signer_key)

    def inclusion(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        return merkle.inclusion_proof(index, size, self.subtree)

    def consistency(self, old: int, new: int | None = None) -> list[bytes]:
        new = self.size if new is None else new
        return merkle.consistency_proof(old, new, self.subtree)

    def consistency_json(self, old: int, new: int | None = None) -> dict:
        new = self.size if new is None else new
        proof = [note.b64encode(h) for h in self.consistency(old, new)]
        return {"from": old, "to": new, "proof": proof}


def consent_entry(
    *,
    customer: str = "300001",
    purpose: str | None = "offers_spending",
    version: int | None = 2,
    action: str = "granted",
    sequence: int = 1,
    occurred_at: dt.datetime | None = None,
) -> dict:
    """One ledger event as the log's entry (format 1)."""
    occurred_at = occurred_at or dt.datetime(2026, 11, 2, 9, 30, 15, 987654, tzinfo=dt.UTC)
    return {
        "format": 1,
        "receipt_id": str(uuid.uuid4()),
        "customer": customer,
        "purpose": purpose,
        "version": version,
        "action": action,
        "occurred_at": occurred_at.isoformat(),
        "channel": "web",
        "actor": 42,
        "notice_language": "nl",
        "notice_sha256": hashlib.sha256(notice_text(purpose, version).encode()).hexdigest(),
        "sequence": sequence,
        "previous_hash": secrets.token_hex(32),
        "hash": secrets.token_hex(32),
        "key": "a1b2c3d4e5f60718",
        "left_on": None,
        "salt": secrets.token_hex(32),
    }


OBJECTION = "Ik maak bezwaar tegen het gebruik van mijn gegevens voor direct marketing."


def notice_text(purpose: str | None, version: int | None) -> str:
    return OBJECTION if purpose is None else f"De tekst van {purpose}, versie {version}."


def receipt_for(entry: dict) -> dict:
    """The consent receipt of an entry, with the Kantara 1.1 fields the site writes."""
    at = dt.datetime.fromisoformat(entry["occurred_at"])
    receipt = {
        "version": "KI-CR-v1.1.0",
        "jurisdiction": "NL",
        "consentTimestamp": int(at.timestamp()),
        "collectionMethod": entry["channel"],
        "consentReceiptID": entry["receipt_id"],
        "language": entry["notice_language"],
        "piiPrincipalId": entry["customer"],
        "piiControllers": [{"piiController": "De Bank N.V.", "contact": "dpo@bank.example"}],
        "policyUrl": "https://privacy.bank.example/purposes/offers_spending/v2/",
        "services": [{"service": entry["purpose"], "purposes": [{"purpose": "Aanbiedingen"}]}],
        "sensitive": False,
        "spiCat": [],
        "action": entry["action"],
        "consentGiven": entry["action"] == "granted",
        "noticeSha256": entry["notice_sha256"],
        "ledgerSequence": entry["sequence"],
        "ledgerPreviousHash": entry["previous_hash"],
        "ledgerHash": entry["hash"],
        "legalBasis": "consent",
        "noticeVersion": entry["version"],
    }
    if entry["purpose"] is None:  # a statement, quoted in full, as for the objection
        del receipt["noticeVersion"]
        receipt["services"] = [{"service": "direct_marketing", "purposes": []}]
        receipt["notice"] = OBJECTION
    return receipt


def receipt_with_proof(log: Log, index: int, signed_checkpoint: str) -> dict:
    """The receipt of the log's entry `index`, proven into the signed checkpoint."""
    text = log.entries[index]
    size = note.parse_checkpoint(note.split_note(signed_checkpoint)[0]).size
    receipt = receipt_for(jcs_entry(text))
    receipt["proof"] = {
        "entry": text,
        "leafIndex": index,
        "treeSize": size,
        "inclusionProof": [note.b64encode(h) for h in log.inclusion(index, size)],
        "checkpoint": signed_checkpoint,
    }
    return receipt


def jcs_entry(text: str) -> dict:
    entry = json.loads(text)
    assert jcs.canonical(entry).decode() == text
    return entry
