"""Checking the ledger against everything that proves it, trusting nothing the database
alone holds:

1. **Chains**: per customer, the order, the links and (with the chain key) every HMAC;
   each event's `entry` says exactly what its row says.
2. **The log**: leaves follow each other without gaps, each leaf is the hash of its
   event's entry, a leaf whose event is gone is accounted for by a justified tombstone,
   and the tree rebuilt from the leaves has, at the size of every stored checkpoint, the
   root that checkpoint signed.
3. **Checkpoints**: each is signed by the pinned public key (never one derived from a
   private key on this host) and, when witnesses are configured, cosigned by every one
   of them; the newest is younger than `LEDGER_CHECKPOINT_MAX_AGE_SECONDS`, so a log
   that was rolled back or stopped being witnessed fails; it commits to the tombstones.
4. **Tombstones**: the `left` event each one keeps is the leaf it names in the signed
   tree, and the period the notices state, counted from the logged end of the
   relationship, had run out on the day of the removal.
5. **Restores**: a leaf whose event a restore of an older backup lost is accounted for
   only by a restore record the log's key signed; the choices it lost are listed.

What the apps built on the ledger keep about it (the consent state, the notice texts)
they check themselves, as receivers of `ledger.signals.audit`.

Problems are reported by customer number; "*" is the ledger as a whole (a removed
event's leaf names no customer any more, only the event's id).
"""

import datetime as dt
import json
from dataclasses import dataclass, field
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import urlopen

from django.conf import settings
from django.db import connection
from django.utils import timezone

from infra.dates import add_years
from infra.progress import Progress

from . import checkpoints as signed_checkpoints
from . import jcs, merkle, note
from .chain import entry_fields
from .keys import Keyring, chain_keyring, public_key, witness_keys
from .models import (
    GENESIS_HASH,
    Action,
    Checkpoint,
    ConsentEvent,
    EventNames,
    LedgerTombstone,
    LogLeaf,
    Restore,
)
from .restore import is_signed
from .signals import audit

LEDGER = "*"


@dataclass
class Report:
    problems: dict[str, list[str]] = field(default_factory=dict)
    events: int = 0
    leaves: int = 0
    checkpoints: int = 0
    newest: Checkpoint | None = None
    cosigned_by: list[str] = field(default_factory=list)
    tombstones: int = 0
    restores: list[Restore] = field(default_factory=list)  # signed: what they lost is listed

    def add(self, who: str, reason: str) -> None:
        self.problems.setdefault(who, []).append(reason)


def verify(*, check_hmac: bool = True, progress: Progress | None = None) -> Report:
    report = Report(events=ConsentEvent.objects.count())
    for number, reason in broken_chains(check_hmac=check_hmac, progress=progress).items():
        report.add(number, reason)
    check_log(report)
    for _receiver, found in audit.send(sender=ConsentEvent):
        assert isinstance(found, dict)
        for number, reasons in found.items():
            for reason in reasons:
                report.add(number, reason)
    return report


# --- 1. Chains ----------------------------------------------------------------------------
def broken_chains(*, check_hmac: bool = True, progress: Progress | None = None) -> dict[str, str]:
    """Customer number → the first problem found in that customer's chain: a gap, a
    broken link, an HMAC that does not match (changed without the key), an unknown or
    retired key, an entry that says otherwise than its row."""
    keyring = chain_keyring() if check_hmac else None
    problems: dict[str, str] = {}
    progress = progress or Progress.silent()
    if progress.enabled:
        progress.start(ConsentEvent.objects.count(), "events checked")
    current, expected_sequence, expected_previous = None, 1, GENESIS_HASH
    events = (
        ConsentEvent.objects.select_related("customer", "purpose", "purpose_version")
        .order_by("customer_id", "sequence")
        .iterator(chunk_size=5000)
    )
    for done, event in enumerate(events, start=1):
        if done % 10_000 == 0:
            progress.update(done)
        number = event.customer.customer_number
        if number != current:
            current, expected_sequence, expected_previous = number, 1, GENESIS_HASH
        if number in problems:
            continue
        names: EventNames = {
            "customer_number": number,
            "purpose_code": event.purpose.code if event.purpose else None,
            "version": event.purpose_version.version if event.purpose_version else None,
        }
        if event.sequence != expected_sequence:
            problems[number] = (
                f"event {event.pk}: sequence {event.sequence}, expected {expected_sequence}"
            )
        elif event.previous_hash != expected_previous:
            problems[number] = f"event {event.pk}: previous_hash does not match the event before it"
        elif wrong := _event_problem(event, keyring, names):
            problems[number] = f"event {event.pk}: {wrong}"
        expected_sequence, expected_previous = event.sequence + 1, event.hash
    progress.close()
    return problems


def _event_problem(event: ConsentEvent, keyring: Keyring | None, names: EventNames) -> str | None:
    """Its HMAC (with the chain key), then its entry."""
    if keyring is not None and (wrong := _hmac_problem(event, keyring, names)):
        return wrong
    return _entry_problem(event, names)


def _hmac_problem(event: ConsentEvent, keyring: Keyring, names: EventNames) -> str | None:
    """Why the event's HMAC does not prove it, if so (an auditor without the chain key
    checks order, links and entries only)."""
    key = keyring.find(event.hmac_key)
    if key is None:
        return "signed with an unknown chain key"
    if key.last_event_id is not None and event.pk > key.last_event_id:
        return "signed with a key retired before it"
    if event.hash != event.compute_hash(key=key.secret, **names):
        return "hash does not match its contents"
    return None


def _entry_problem(event: ConsentEvent, names: EventNames) -> str | None:
    """Why the event's entry (what the log holds) is not the entry of its row, if so."""
    try:
        held = json.loads(event.entry)
        salt = held["salt"]
    except (ValueError, TypeError, KeyError):
        return "its entry is not an entry"
    expected = entry_fields(event, salt=salt, **names)
    if held != expected:
        differing = sorted(k for k in {*held, *expected} if held.get(k) != expected.get(k))
        return f"its entry says otherwise than its row ({', '.join(differing)})"
    if jcs.canonical(held).decode() != event.entry:
        return "its entry is not in canonical form"
    return None


# --- 2 and 3. The log and its checkpoints -----------------------------------------------
LEAVES_SQL = """
SELECT l.index, l.hash, l.event_id, l.sequenced_at, c.customer_number,
       e.id IS NOT NULL,
       encode(sha256('\\x00'::bytea || convert_to(e.entry, 'UTF8')), 'hex')
  FROM {leaf} l
  LEFT JOIN {event} e ON e.id = l.event_id
  LEFT JOIN {customer} c ON c.id = e.customer_id
 ORDER BY l.index
"""


def check_log(report: Report) -> None:
    stored = list(Checkpoint.objects.order_by("size", "pk"))
    report.checkpoints = len(stored)
    signed = _signed_checkpoints(stored, report)
    removed = _removed_leaves() | _lost_in_restores(report)
    anchors = _witnessed_elsewhere(report)
    tree = merkle.CompactRange()
    roots: dict[int, bytes] = {0: tree.root()}
    sizes = {c.size for c in stored} | {anchor.size for _url, anchor in anchors}
    leaf_times: dict[int, dt.datetime] = {}
    wanted_times = {t.left_leaf for t in LedgerTombstone.objects.exclude(left_leaf=None)}
    with connection.cursor() as cursor:
        cursor.execute(
            LEAVES_SQL.format(
                leaf=LogLeaf._meta.db_table,
                event=ConsentEvent._meta.db_table,
                customer=_customer_table(),
            )
        )
        while rows := cursor.fetchmany(10_000):
            for index, hashed, event_id, sequenced_at, number, exists, entry_hash in rows:
                if index != tree.size:
                    report.add(LEDGER, f"leaf {index} follows leaf {tree.size - 1}: a gap")
                    return
                if exists and entry_hash != hashed:
                    report.add(number, f"event {event_id}: leaf {index} is not its entry's hash")
                elif not exists and index not in removed:
                    report.add(
                        LEDGER,
                        f"leaf {index} (event {event_id}): the event is gone and no"
                        " justified tombstone accounts for it",
                    )
                if index in wanted_times:
                    leaf_times[index] = sequenced_at
                tree.append(bytes.fromhex(hashed))
                if tree.size in sizes:
                    roots[tree.size] = tree.root()
    report.leaves = tree.size
    for checkpoint in signed:
        if checkpoint.size > tree.size:
            report.add(
                LEDGER,
                f"checkpoint of size {checkpoint.size}: the log holds only {tree.size} leaves"
                " (leaves were removed)",
            )
        elif roots.get(checkpoint.size) != bytes.fromhex(checkpoint.root):
            report.add(
                LEDGER,
                f"checkpoint of size {checkpoint.size}: the log's tree at that size has"
                " another root (the log was rewritten)",
            )
    for url, anchor in anchors:
        if anchor.size > tree.size:
            report.add(
                LEDGER,
                f"the witness at {url} cosigned a log of {anchor.size} leaves; the database"
                f" holds {tree.size} (the log was cut back)",
            )
        elif roots.get(anchor.size) != anchor.root_hash:
            report.add(
                LEDGER,
                f"the witness at {url} cosigned another tree of size {anchor.size} than the"
                " database holds (the log was rewritten)",
            )
    if not stored and (tree.size or _unlogged_for_too_long()):
        report.add(LEDGER, "no checkpoint at all, yet the log holds events: checkpoints stopped")
    _check_tombstones(report, signed, leaf_times)


def _unlogged_for_too_long() -> bool:
    max_age = dt.timedelta(seconds=settings.LEDGER_CHECKPOINT_MAX_AGE_SECONDS)
    return ConsentEvent.objects.filter(occurred_at__lt=timezone.now() - max_age).exists()


def _witnessed_elsewhere(report: Report) -> list[tuple[str, note.Checkpoint]]:
    """The newest checkpoint each configured witness cosigned, from the witness itself:
    the database's log must still hold it. Only the witness's word counts here (its
    cosignature by a pinned key); a witness that cannot be asked is a problem too."""
    anchors = []
    for url in settings.LEDGER_WITNESS_URLS:
        address = f"{url.rstrip('/')}/checkpoint?{urlencode({'origin': settings.LEDGER_ORIGIN})}"
        try:
            with urlopen(address, timeout=10) as response:  # noqa: S310 (configured URL)
                held = response.read().decode()
            text, _ = note.open(held, [public_key()])
            if not note.verify_cosignatures(held, witness_keys()):
                raise note.UnknownKey([])
            anchors.append((url, note.parse_checkpoint(text)))
        except HTTPError as error:
            if error.code != 404:  # 404: the witness never cosigned this log
                report.add(LEDGER, f"the witness at {url} answered {error.code}")
            elif Checkpoint.objects.exclude(cosigned_by=[]).exists():
                report.add(LEDGER, f"the witness at {url} knows no checkpoint it cosigned")
        except (OSError, note.NoteError) as error:
            report.add(LEDGER, f"cannot check the log against the witness at {url}: {error}")
    return anchors


def _customer_table() -> str:
    return ConsentEvent._meta.get_field("customer").related_model._meta.db_table


def _signed_checkpoints(stored: list[Checkpoint], report: Report) -> list[Checkpoint]:
    """The stored checkpoints whose note the pinned key signed and whose text says what
    their row says; the newest must be fresh and, with witnesses, cosigned by them all."""
    log_key, witnesses = public_key(), witness_keys()
    names = [note.parse_verifier_key(key).name for key in witnesses]
    good: list[Checkpoint] = []
    fresh_at: dt.datetime | None = None
    for checkpoint in stored:
        try:
            text, _signers = note.open(checkpoint.note, [log_key])
            parsed = note.parse_checkpoint(text)
            cosigned = note.verify_cosignatures(checkpoint.note, witnesses)
        except note.UnknownKey:
            report.add(
                LEDGER, f"checkpoint of size {checkpoint.size} is not signed by the pinned key"
            )
            continue
        except note.NoteError as error:
            report.add(LEDGER, f"checkpoint of size {checkpoint.size}: {error}")
            continue
        if (
            parsed.origin != settings.LEDGER_ORIGIN
            or parsed.size != checkpoint.size
            or parsed.root_hash.hex() != checkpoint.root
        ):
            report.add(LEDGER, f"checkpoint of size {checkpoint.size}: its row says otherwise")
            continue
        missing = [name for name in names if name not in cosigned]
        if missing:
            # Kept for its root (the log signed it), but not as witnessed.
            good.append(checkpoint)
            continue
        good.append(checkpoint)
        report.newest, report.cosigned_by = checkpoint, sorted(cosigned)
        times = list(cosigned.values()) or [_time_of(parsed)]
        fresh_at = dt.datetime.fromtimestamp(max(times), dt.UTC)
    max_age = dt.timedelta(seconds=settings.LEDGER_CHECKPOINT_MAX_AGE_SECONDS)
    now = timezone.now()
    what = "cosigned by every witness" if witnesses else "signed"
    if fresh_at is None:
        if stored:
            report.add(LEDGER, f"no checkpoint is {what} by the pinned keys")
    elif now - fresh_at > max_age:
        report.add(
            LEDGER,
            f"the newest checkpoint {what} is from {fresh_at:%Y-%m-%d %H:%M} UTC, older than"
            f" {max_age}: the log stopped being checkpointed, or was rolled back",
        )
    return good


def _time_of(checkpoint: note.Checkpoint) -> int:
    for line in checkpoint.extensions:
        if line.startswith("time "):
            return int(line.removeprefix("time "))
    return 0


# --- 4. Tombstones ------------------------------------------------------------------------
def _lost_in_restores(report: Report) -> set[int]:
    """Leaves whose events a restore of an older backup lost, as signed restores say."""
    lost: set[int] = set()
    for record in Restore.objects.order_by("pk"):
        if not is_signed(record):
            report.add(LEDGER, f"a restore record of {record.restored_at:%Y-%m-%d} is not signed")
            continue
        report.restores.append(record)
        lost.update(record.lost_leaves)
    return lost


def _removed_leaves() -> set[int]:
    leaves: set[int] = set()
    for tombstone in LedgerTombstone.objects.exclude(leaves=None):
        leaves.update(tombstone.leaves or ())
    return leaves


TOMBSTONE_SQL = """
SELECT t.id, t.customer_number, t.as_of, t.events, t.left_entry, t.left_leaf, t.leaves,
       retention_years('consent_proof', 'relationship_end', t.as_of),
       (SELECT count(*) FROM {event} e WHERE e.customer_id = t.customer_id),
       c.customer_number, c.closed_on,
       (SELECT hash FROM {leaf} l WHERE l.index = t.left_leaf),
       (SELECT count(*) FROM {leaf} l
         WHERE l.index = ANY(t.leaves)
           AND NOT EXISTS (SELECT FROM {event} e WHERE e.id = l.event_id))
  FROM {tombstone} t JOIN {customer} c ON c.id = t.customer_id
 ORDER BY t.id
"""


def _check_tombstones(
    report: Report, signed: list[Checkpoint], leaf_times: dict[int, dt.datetime]
) -> None:
    today = timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(
            TOMBSTONE_SQL.format(
                event=ConsentEvent._meta.db_table,
                tombstone=LedgerTombstone._meta.db_table,
                customer=_customer_table(),
                leaf=LogLeaf._meta.db_table,
            )
        )
        rows = cursor.fetchall()
    report.tombstones = len(rows)
    for (
        _pk,
        number,
        as_of,
        events,
        left_entry,
        left_leaf,
        leaves,
        years,
        still_there,
        number_now,
        closed_on,
        left_leaf_hash,
        removed_leaves,
    ) in rows:
        if number_now != number:
            report.add(number, f"tombstone names customer {number}, but the row is {number_now}")
            continue
        if left_entry is None:
            anchor = closed_on  # written before leaving was a ledger event
            if anchor is None:
                report.add(number, "tombstone, but the customer never left")
                continue
        else:
            found = _departure(left_entry, left_leaf, left_leaf_hash, number)
            if isinstance(found, str):
                report.add(number, found)
                continue
            logged = leaf_times.get(left_leaf)
            if logged is None or not _logged_between_checkpoints(left_leaf, logged, signed):
                report.add(
                    number,
                    "tombstone: the time the log took the departure in is not the time its"
                    " checkpoints say",
                )
                continue
            anchor = max(found, timezone.localdate(logged))
            if len(leaves or ()) != events or removed_leaves != events:
                report.add(
                    number,
                    f"tombstone names {len(leaves or ())} leaves for {events} event(s), of"
                    f" which {removed_leaves} lost their event",
                )
                continue
        if years is None:
            report.add(number, f"tombstone, but no notice in effect on {as_of} kept the proof")
        elif add_years(anchor, years) > as_of:
            report.add(
                number,
                f"tombstone too early: the relationship ended on {anchor} (as the ledger"
                f" proves it), proof kept {years} year(s), removed as of {as_of}",
            )
        elif as_of > today:
            report.add(number, f"tombstone counts from {as_of}, a day still to come")
        elif still_there:
            report.add(number, f"tombstone, but {still_there} event(s) of the chain remain")
    _check_tombstone_commitment(report)


def _departure(entry: str, leaf: int | None, leaf_hash: str | None, number: str) -> dt.date | str:
    """The day of leaving that the tombstone's `left` entry proves, or why it does not."""
    if leaf is None or leaf_hash is None:
        return "tombstone names no departure in the log"
    if merkle.leaf_hash(entry.encode()).hex() != leaf_hash:
        return f"tombstone's departure is not leaf {leaf} of the log"
    fields = json.loads(entry)
    if fields.get("action") != Action.LEFT or fields.get("customer") != number:
        return f"tombstone's leaf {leaf} is not this customer's departure"
    return dt.date.fromisoformat(fields["left_on"])


def _logged_between_checkpoints(leaf: int, logged: dt.datetime, signed: list[Checkpoint]) -> bool:
    """The log took leaf `leaf` in at `logged`: after the newest signed checkpoint that
    did not hold it, and before the first that did (their signed `time` lines)."""
    before = [c for c in signed if c.size <= leaf]
    after = [c for c in signed if c.size > leaf]
    slack = dt.timedelta(minutes=5)  # clocks of the database and the checkpoint host
    if before and logged + slack < _signed_time(before[-1]):
        return False
    return not (after and logged - slack > _signed_time(after[0]))


def _signed_time(checkpoint: Checkpoint) -> dt.datetime:
    text, _ = note.split_note(checkpoint.note)
    return dt.datetime.fromtimestamp(_time_of(note.parse_checkpoint(text)), dt.UTC)


def _check_tombstone_commitment(report: Report) -> None:
    """The newest signed checkpoint commits to the first n tombstones: they must be there,
    unchanged; any later ones must be younger than a checkpoint interval."""
    if report.newest is None:
        return
    text, _ = note.split_note(report.newest.note)
    for line in note.parse_checkpoint(text).extensions:
        if line.startswith("tombstones "):
            _, count, digest = line.split(" ")
            n, held = signed_checkpoints.tombstone_commitment(int(count))
            if n != int(count) or held != digest:
                report.add(
                    LEDGER,
                    f"the tombstones the checkpoint of size {report.newest.size} signed"
                    " were changed or removed",
                )
            late = LedgerTombstone.objects.order_by("pk")[int(count) :]
            max_age = dt.timedelta(seconds=settings.LEDGER_CHECKPOINT_MAX_AGE_SECONDS)
            for tombstone in late:
                if timezone.now() - tombstone.removed_at > max_age:
                    report.add(
                        tombstone.customer_number,
                        "tombstone older than the newest checkpoint, which did not sign it",
                    )
