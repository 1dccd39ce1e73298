"""After the database was restored from an older backup: make the log whole again, and say
what was lost.

A backup is older than the log the witnesses cosigned: the events recorded after it, and
their leaves, are not in the restored database. Left as it is, the log would be shorter
than the one the witnesses remember, every later checkpoint would be refused, and the
verifier would name the restore as tampering forever. So, on the checkpoint host (it holds
the signing key and the files `ledger.checkpoints.publish` wrote):

1. the leaves the database lost are put back from `leaves-*.tsv`, and the tree is checked
   against the newest checkpoint's signed root (the files are not trusted either); event
   ids continue far above any the log knows, so no new event takes a lost one's id;
2. every leaf whose event is not in the database is lost, and `heads.tsv` says, per
   customer, which places of their chain were lost (what they chose there, nobody can
   know any more; choices after the newest checkpoint were in no checkpoint at all);
3. a `Restore` records it, signed with the log's key, so the verifier tells a restore
   from tampering and lists the lost choices per customer;
4. the apps do their part: first the API moves the feed above anything a follower can
   have seen and tells followers to take a snapshot again (`ledger.signals.restoring`),
   then the consent app stops the consent-based processing of those customers until they
   choose again, and tells them (`ledger.signals.restored`); its withdrawals reach the
   feed after the marker.

`restore_ledger` (the command) runs it; `bin/restore` runs the whole restore.
"""

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max

from . import jcs, log, merkle, note
from .keys import public_key, signing_key
from .models import ConsentEvent, LogLeaf, Restore, TreeNode
from .signals import restored, restoring


class RestoreFailed(Exception):
    pass


class LostChoices(TypedDict):
    customer_number: str
    from_sequence: int
    to_sequence: int


@dataclass(frozen=True)
class Reconciled:
    restore: Restore
    put_back: int  # leaves put back
    effects: dict[str, int]


def reconcile(
    *, directory: Path, at: dt.datetime, backup_taken_at: dt.datetime | None
) -> Reconciled:
    directory = Path(directory)
    state = _read_state(directory)
    newest = (directory / "checkpoint").read_text()
    text, _ = note.open(newest, [public_key()])
    checkpoint = note.parse_checkpoint(text)
    if checkpoint.size != state["size"]:
        raise RestoreFailed("the checkpoint and state.json of the checkpoint host disagree")
    with transaction.atomic():
        database_size = log.stored_size()
        if database_size > checkpoint.size:
            raise RestoreFailed(
                f"the database holds {database_size} leaves, more than the newest checkpoint"
                f" ({checkpoint.size}): this is not an older backup, or the files are old"
            )
        missing = _leaves_from_files(directory, start=database_size, end=checkpoint.size)
        _put_back(missing, start=database_size)
        if log.tree(checkpoint.size).root != checkpoint.root_hash:
            raise RestoreFailed("the leaves put back do not give the signed root")
        present = set(
            ConsentEvent.objects.filter(
                pk__in=[event_id for _index, _hash, event_id in missing]
            ).values_list("pk", flat=True)
        )
        lost_leaves = [index for index, _hash, event_id in missing if event_id not in present]
        _never_reuse_event_ids(missing)
        lost = _lost_choices(directory)
        record = _signed_record(
            restored_at=at,
            backup_taken_at=backup_taken_at,
            database_size=database_size,
            checkpoint_size=checkpoint.size,
            checkpoint_at=dt.datetime.fromisoformat(str(state["at"])),
            lost_leaves=lost_leaves,
            lost=lost,
        )
        effects: dict[str, int] = {}
        for signal in (restoring, restored):
            for _receiver, counts in signal.send(sender=Restore, restore=record, state=state):
                assert isinstance(counts, dict)
                for name, count in counts.items():
                    effects[name] = effects.get(name, 0) + count
    return Reconciled(record, len(missing), effects)


def _read_state(directory: Path) -> dict[str, object]:
    path = directory / "state.json"
    if not path.is_file():
        raise RestoreFailed(
            f"{path} is missing: restore on the checkpoint host, whose files say how long"
            " the log was"
        )
    state: dict[str, object] = json.loads(path.read_text())
    return state


def _leaves_from_files(directory: Path, *, start: int, end: int) -> list[tuple[int, str, int]]:
    leaves: dict[int, tuple[int, str, int]] = {}
    for path in directory.glob("leaves-*.tsv"):
        first, last = (int(n) for n in path.stem.removeprefix("leaves-").split("-"))
        if last <= start or first >= end:
            continue
        for line in path.read_text().splitlines():
            index, hashed, event_id = line.split("\t")
            if start <= int(index) < end:
                leaves[int(index)] = (int(index), hashed, int(event_id))
    if sorted(leaves) != list(range(start, end)):
        raise RestoreFailed(f"the leaves files do not hold every leaf from {start} to {end}")
    return [leaves[index] for index in range(start, end)]


def _put_back(leaves: list[tuple[int, str, int]], *, start: int) -> None:
    LogLeaf.objects.bulk_create(
        [LogLeaf(index=index, hash=hashed, event_id=event_id) for index, hashed, event_id in leaves]
    )
    edge = merkle.CompactRange.from_nodes(start, log.NodeReader().get)
    nodes = []
    for _index, hashed, _event_id in leaves:
        for level, index, node in edge.append(bytes.fromhex(hashed)):
            if level:
                nodes.append(TreeNode(level=level, index=index, hash=node.hex()))
    TreeNode.objects.bulk_create(nodes, batch_size=5000)


# How far event ids jump after a restore, above the newest id the log holds: more events
# than are recorded between two checkpoints, by far.
EVENT_ID_JUMP = 1_000_000


def _never_reuse_event_ids(leaves: list[tuple[int, str, int]]) -> None:
    """Events recorded after the backup had ids the restored database hands out again; a
    leaf names its event by id, so new events start far above any id the log knows.
    (The owner's: moving a sequence is not the runtime role's.)"""
    known = max((event_id for _i, _h, event_id in leaves), default=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), greatest(%s,"
            f" (SELECT coalesce(max(id), 0) FROM {ConsentEvent._meta.db_table})) + %s)",
            [ConsentEvent._meta.db_table, known, EVENT_ID_JUMP],
        )


def _lost_choices(directory: Path) -> list[LostChoices]:
    """Per customer, the places of their chain the newest checkpoint knew of and the
    restored database lacks."""
    held = dict(
        ConsentEvent.objects.order_by()
        .values("customer__customer_number")
        .annotate(last=Max("sequence"))
        .values_list("customer__customer_number", "last")
    )
    lost: list[LostChoices] = []
    for line in (directory / "heads.tsv").read_text().splitlines():
        number, sequence = line.split("\t")
        last = int(sequence)
        have = held.get(number, 0)
        if last > have:
            lost.append({"customer_number": number, "from_sequence": have + 1, "to_sequence": last})
    return lost


def record_text(record: Restore) -> str:
    """What the log's key signs for a restore: the origin, what it says, and the SHA-256
    of all of it (canonical JSON)."""
    digest = hashlib.sha256(jcs.canonical(record_fields(record))).hexdigest()
    return (
        f"{settings.LEDGER_ORIGIN}\nrestore\n{record.database_size}"
        f" {record.checkpoint_size}\n{digest}\n"
    )


def record_fields(record: Restore) -> dict[str, object]:
    return {
        "restored_at": record.restored_at.astimezone(dt.UTC).isoformat(),
        "backup_taken_at": record.backup_taken_at.astimezone(dt.UTC).isoformat()
        if record.backup_taken_at
        else None,
        "database_size": record.database_size,
        "checkpoint_size": record.checkpoint_size,
        "checkpoint_at": record.checkpoint_at.astimezone(dt.UTC).isoformat(),
        "lost_leaves": list(record.lost_leaves),
        "lost": list(record.lost),
    }


def _signed_record(**fields: object) -> Restore:
    record = Restore(**fields)
    record.note = note.sign(record_text(record), signing_key())
    record.save(force_insert=True)
    return record


def is_signed(record: Restore) -> bool:
    """The record is what the log's key signed (the pinned public key)."""
    try:
        text, _ = note.open(record.note, [public_key()])
    except note.NoteError:
        return False
    return text == record_text(record)
