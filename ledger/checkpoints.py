"""Signed checkpoints of the transparency log, witnessed by another organisation.

`write_checkpoint` runs on the checkpoint host, the only host that holds the log's
signing key (`checkpoint_ledger`, every few minutes):

1. the events not yet in the log are taken in (`ledger.log.sequence`);
2. the checkpoint's text is made (C2SP tlog-checkpoint): the origin, the tree size, the
   root hash, and two extension lines: `time <unix seconds>` and
   `tombstones <n> <base64 SHA-256>`, which commits to the first n retention tombstones
   (so a removal by retention is signed by the next checkpoint, and a tombstone changed
   or removed afterwards no longer matches);
3. the log signs it (a C2SP signed note);
4. each witness (`LEDGER_WITNESS_URLS`) is asked to cosign it, with a consistency proof
   from the size it last cosigned (C2SP tlog-witness `add-checkpoint`); a witness
   cosigns only a checkpoint consistent with what it cosigned before, so a rewritten log
   gets no cosignature, whatever keys the rewriter holds;
5. the note, with every cosignature, is stored (`Checkpoint`) and written to
   `LEDGER_CHECKPOINT_DIR` on the checkpoint host: `checkpoint` (the newest, to
   publish) and `checkpoint-<size>`; with it, what a restore of an older backup needs
   to keep the log whole (`ledger.restore`): the new leaves (`leaves-<from>-<to>.tsv`:
   place, hash, event id; no personal data), every customer's newest place in their
   chain (`heads.tsv`, only the newest: a customer removed by retention drops out of it
   at the next checkpoint) and `state.json` (the size, and what the apps report through
   `ledger.signals.checkpointed`, e.g. the feed's newest id).

The newest checkpoint is served at `/ledger/checkpoint`; consistency proofs between any
two sizes at `/ledger/consistency`.
"""

import base64
import datetime as dt
import hashlib
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from infra.precompiled import Precompiled, columns, instance

from . import log, note
from .keys import signing_key, witness_keys
from .models import Checkpoint, ConsentEvent, LedgerTombstone, LogLeaf
from .signals import checkpointed

WITNESS_TIMEOUT_SECONDS = 10


@dataclass
class Written:
    checkpoint: Checkpoint
    sequenced: int
    cosigned_by: list[str]
    refused_by: dict[str, str] = field(default_factory=dict)  # witness URL -> why


def write_checkpoint(*, at: dt.datetime, directory: Path | None = None) -> Written:
    sequenced = log.sequence()
    with transaction.atomic():
        # One checkpoint at a time (the log's lock): sizes and witnesses' views stay in order.
        tree = log.tree()
        tombstones, commitment = tombstone_commitment()
        text = note.format_checkpoint(
            settings.LEDGER_ORIGIN,
            tree.size,
            tree.root,
            (f"time {int(at.timestamp())}", f"tombstones {tombstones} {commitment}"),
        )
        signed = note.sign(text, signing_key())
        cosigned, names, refused = _ask_witnesses(signed, size=tree.size)
        checkpoint = Checkpoint.objects.create(
            size=tree.size, root=tree.root.hex(), note=cosigned, cosigned_by=names
        )
    publish(checkpoint, directory=directory or settings.LEDGER_CHECKPOINT_DIR, at=at)
    return Written(checkpoint, sequenced, names, refused)


def tombstone_commitment(count: int | None = None) -> tuple[int, str]:
    """(n, base64 SHA-256 over the first n tombstones' canonical lines), n = all by
    default. Tombstones are written one retention run at a time, so their ids commit in
    order."""
    tombstones = LedgerTombstone.objects.order_by("pk")
    if count is not None:
        tombstones = tombstones[:count]
    digest = hashlib.sha256()
    n = 0
    for tombstone in tombstones:
        digest.update(tombstone_line(tombstone) + b"\n")
        n += 1
    return n, base64.b64encode(digest.digest()).decode()


def tombstone_line(tombstone: LedgerTombstone) -> bytes:
    return json.dumps(
        {
            "id": tombstone.pk,
            "customer_number": tombstone.customer_number,
            "events": tombstone.events,
            "last_sequence": tombstone.last_sequence,
            "last_hash": tombstone.last_hash,
            "reason": tombstone.reason,
            "as_of": tombstone.as_of.isoformat(),
            "left_entry": tombstone.left_entry,
            "left_leaf": tombstone.left_leaf,
            "leaves": tombstone.leaves,
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


def _ask_witnesses(signed: str, *, size: int) -> tuple[str, list[str], dict[str, str]]:
    """The note with each witness's cosignature added, who cosigned, and who refused."""
    lines: list[str] = []
    names: list[str] = []
    refused: dict[str, str] = {}
    pinned = witness_keys()
    for url in settings.LEDGER_WITNESS_URLS:
        try:
            answer = ask_witness(url, signed, size=size)
            cosigned = note.add_signatures(signed, answer)
            verified = note.verify_cosignatures(cosigned, pinned)
        except (WitnessRefused, note.NoteError) as refusal:
            refused[url] = str(refusal)
            continue
        if not verified:
            refused[url] = "its cosignature is not by a witness key in LEDGER_WITNESS_KEYS"
            continue
        lines += [line for line in answer.splitlines(keepends=True) if line.strip()]
        names += sorted(verified)
    return (note.add_signatures(signed, lines) if lines else signed), names, refused


class WitnessRefused(Exception):
    pass


def ask_witness(url: str, signed: str, *, size: int) -> str:
    """One witness's cosignature line for `signed` (C2SP tlog-witness add-checkpoint):
    sent with a consistency proof from the size it last cosigned, as we know it; when the
    witness says it stands elsewhere (409), once more from there."""
    old = last_cosigned_size()
    for _attempt in range(2):
        proof = log.consistency_proof(old, size) if 0 < old < size else []
        body = f"old {old}\n" + "".join(f"{note.b64encode(h)}\n" for h in proof) + "\n" + signed
        request = urllib.request.Request(  # noqa: S310
            url.rstrip("/") + "/add-checkpoint", data=body.encode(), method="POST"
        )
        try:
            # The configured witness URLs (settings), never input.
            with urllib.request.urlopen(request, timeout=WITNESS_TIMEOUT_SECONDS) as response:  # noqa: S310
                return str(response.read().decode())
        except urllib.error.HTTPError as error:
            answer = error.read().decode(errors="replace").strip()
            if error.code == 409 and answer.isdigit() and int(answer) != old:
                old = int(answer)  # the witness stands at another size: prove from there
                continue
            raise WitnessRefused(f"{error.code}: {answer[:200]}") from None
        except (urllib.error.URLError, OSError) as error:
            raise WitnessRefused(f"unreachable: {error}") from None
    raise WitnessRefused("the witness keeps changing its size")


def last_cosigned_size() -> int:
    """The size of the newest checkpoint a witness cosigned, as we stored it (0: none).
    A witness that stands elsewhere says so (409) and is asked again from there."""
    last = (
        Checkpoint.objects.exclude(cosigned_by=[])
        .order_by("-size")
        .values_list("size", flat=True)
        .first()
    )
    return last or 0


def publish(checkpoint: Checkpoint, *, directory: Path, at: dt.datetime) -> None:
    """The note as files, with what a restore needs. Each file is written whole, then
    renamed into place: a reader never sees half of one."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state_path = directory / "state.json"
    before = json.loads(state_path.read_text())["size"] if state_path.is_file() else 0
    if checkpoint.size > before:
        leaves = LogLeaf.objects.filter(index__gte=before, index__lt=checkpoint.size)
        _write(
            directory / f"leaves-{before}-{checkpoint.size}.tsv",
            "".join(
                f"{index}\t{hashed}\t{event_id}\n"
                for index, hashed, event_id in leaves.order_by("index").values_list(
                    "index", "hash", "event_id"
                )
            ),
        )
    _write(directory / "heads.tsv", "".join(f"{n}\t{s}\n" for n, s in chain_heads()))
    reported: dict[str, object] = {}
    for _receiver, values in checkpointed.send(sender=Checkpoint, checkpoint=checkpoint):
        assert isinstance(values, dict)
        reported.update(values)
    state = {"size": checkpoint.size, "root": checkpoint.root, "at": at.isoformat(), **reported}
    _write(directory / f"checkpoint-{checkpoint.size}", checkpoint.note)
    _write(directory / "checkpoint", checkpoint.note)
    _write(state_path, json.dumps(state, indent=2, sort_keys=True))


def chain_heads() -> list[tuple[str, int]]:
    """(customer number, the newest sequence of their chain), for every customer."""
    return list(
        ConsentEvent.objects.order_by()
        .values("customer__customer_number")
        .annotate(last=Max("sequence"))
        .order_by("customer__customer_number")
        .values_list("customer__customer_number", "last")
    )


def _write(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    partial.replace(path)


def newest() -> Checkpoint | None:
    """`Checkpoint.objects.order_by("-size", "-pk").first()`, in a statement written once:
    every receipt, export and proof asks it, and the ORM would compile it every time."""
    rows = NEWEST.rows({})
    return instance(Checkpoint, rows[0]) if rows else None


# Also read beside the leaves of a proof, in the same round trip (`ledger.proofs`).
NEWEST = Precompiled(
    sql=f"SELECT {columns(Checkpoint, 'checkpoint')} FROM {Checkpoint._meta.db_table} checkpoint"
    f' ORDER BY checkpoint.size DESC, checkpoint."{Checkpoint._meta.pk.column}" DESC LIMIT 1',
    slots=(),
)


def covering(leaf_index: int) -> Checkpoint | None:
    """The newest checkpoint whose tree holds leaf `leaf_index`."""
    return Checkpoint.objects.filter(size__gt=leaf_index).order_by("-size", "-pk").first()
