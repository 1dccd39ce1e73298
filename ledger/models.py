"""The proof: every choice a customer made, forever, in an append-only ledger.

`ConsentEvent` is one choice (or a statement: the objection to direct marketing, an
erasure request), chained per customer by an HMAC under a key kept outside the
database (`ledger.keys`). The rows point at the customer and the purpose version they
are about; what the ledger proves about them is the event's canonical entry
(`ledger.chain`), so its code never needs the consent app's.

Integrity lives in the database: the runtime role may only insert events, triggers
refuse UPDATE and DELETE, and the per-customer sequence is unique (a chain cannot fork).
"""

import datetime as dt
import hashlib
import hmac
import json
import uuid
from typing import TypedDict

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class EventNames(TypedDict):
    """How an event names what it is about, in its HMAC and its entry."""

    customer_number: str
    purpose_code: str | None
    version: int | None


class Language(models.TextChoices):
    DUTCH = "nl", _("Nederlands")
    ENGLISH = "en", _("English")


class Action(models.TextChoices):
    GRANTED = "granted", _("toestemming gegeven")
    WITHDRAWN = "withdrawn", _("toestemming ingetrokken")
    # GDPR Art. 21(2): the objection to direct marketing, about no single purpose.
    OBJECTED = "objected", _("bezwaar tegen direct marketing")
    OBJECTION_LIFTED = "objection_lifted", _("bezwaar opgeheven")
    # GDPR Art. 17: the customer asked to erase what consent-based processing produced
    # about them (offers, answers, the data-use log); done at once, in the same transaction.
    ERASURE_REQUESTED = "erasure_requested", _("verwijdering gevraagd")
    # The customer relationship ended (`left_on`): recorded by the system, like any other
    # event. Retention counts "after the relationship ends" from this event, never from a
    # column anyone can write.
    LEFT = "left", _("klant vertrokken")
    # A data user (a PSD2 account information service, a FiDA data user) may read the
    # customer's payment accounts, or may no longer: the `access` app's permission, whose
    # exact approval text (who, what, how long, why) the event's notice hash identifies.
    # About no purpose of the bank's own, and no state row: the permission is the state.
    ACCESS_GRANTED = "access_granted", _("toegang gegeven aan een andere partij")
    ACCESS_WITHDRAWN = "access_withdrawn", _("toegang van een andere partij beëindigd")


# Events about a purpose, and events about the customer's objection (purpose empty).
PURPOSE_ACTIONS = (Action.GRANTED, Action.WITHDRAWN)
OBJECTION_ACTIONS = (Action.OBJECTED, Action.OBJECTION_LIFTED)
# Events about no purpose: the objection, a request to erase, leaving the bank. Only the
# objection has a state row (ConsentState with an empty purpose); an erasure request and
# leaving change no choice, so the state mirrors the latest event per purpose *leaving
# them out* (the state-mirror trigger and `consent.audit.STATE_MISMATCH_SQL`).
ACCESS_ACTIONS = (Action.ACCESS_GRANTED, Action.ACCESS_WITHDRAWN)
# Events that change no consent state row (the state mirrors the rest).
STATELESS_ACTIONS = (Action.ERASURE_REQUESTED, Action.LEFT, *ACCESS_ACTIONS)
PURPOSE_LESS_ACTIONS = (*OBJECTION_ACTIONS, *STATELESS_ACTIONS)
STATE_ACTIONS = (*PURPOSE_ACTIONS, *OBJECTION_ACTIONS)


def about_a_purpose_or_not(
    action_field: str, *, purpose_less: tuple[Action, ...] = OBJECTION_ACTIONS
) -> models.Q:
    """A choice about a purpose names the purpose and the version read; an objection (or,
    for events, an erasure request) names neither."""
    return models.Q(
        **{f"{action_field}__in": [a.value for a in PURPOSE_ACTIONS]},
        purpose__isnull=False,
        purpose_version__isnull=False,
    ) | models.Q(
        **{f"{action_field}__in": [a.value for a in purpose_less]},
        purpose__isnull=True,
        purpose_version__isnull=True,
    )


class Channel(models.TextChoices):
    WEB = "web", _("website")
    APP = "app", _("app")
    PHONE = "phone", _("telefoon")
    BRANCH = "branch", _("kantoor")
    IMPORT = "import", _("import")
    SYSTEM = "system", _("systeem")


@pgtrigger.register(
    pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)
)
class ConsentEvent(models.Model):
    """One choice, forever. Chained per customer: `hash` covers the row and `previous_hash`.

    Field names follow ISO/IEC TS 27560 where they can: the receipt id is the record id,
    `notice_sha256` identifies the notice, `channel` the collection method.
    """

    receipt_id = models.UUIDField(
        _("ontvangstbewijs"), default=uuid.uuid4, unique=True, editable=False
    )
    customer = models.ForeignKey(
        "consent.Customer",
        on_delete=models.PROTECT,
        related_name="consent_events",
        verbose_name=_("klant"),
    )
    # Empty for an objection, which is about direct marketing as a whole; then the notice
    # is the objection statement (`consent.objection`).
    purpose = models.ForeignKey(
        "consent.Purpose",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("doel"),
    )
    purpose_version = models.ForeignKey(
        "consent.PurposeVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tekstversie"),
    )
    action = models.CharField(_("keuze"), max_length=20, choices=Action.choices)
    occurred_at = models.DateTimeField(_("wanneer"))
    channel = models.CharField(_("kanaal"), max_length=10, choices=Channel.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("door"),
        help_text=_("De klant, of de medewerker die namens de klant handelde; leeg: het systeem."),
    )
    notice_language = models.CharField(
        _("taal van de tekst"), max_length=2, choices=Language.choices
    )
    notice_sha256 = models.CharField(_("SHA-256 van de tekst"), max_length=64)
    sequence = models.PositiveIntegerField(_("volgnummer"))
    previous_hash = models.CharField(_("vorige hash"), max_length=64)
    # HMAC-SHA256 of the row and `previous_hash`, under the chain key named by `hmac_key`
    # (a fingerprint; the key itself is kept outside the database: `ledger.keys`).
    hash = models.CharField(_("hash"), max_length=64, unique=True)
    hmac_key = models.CharField(_("sleutel"), max_length=16)
    # Only for `left`: the day the relationship ended (in the HMAC and the entry).
    left_on = models.DateField(_("vertrokken op"), null=True, blank=True)
    # The event as the transparency log holds it: RFC 8785 JSON of every field above, the
    # HMAC and a random salt (`ledger.chain.entry_of`). Its SHA-256 leaf hash is what the
    # Merkle tree and the signed checkpoints commit to; the salt makes a removed event's
    # leaf unlinkable to the customer once retention removed the row.
    entry = models.TextField(_("logregel"))

    class Meta:
        db_table = "consent_consentevent"
        ordering = ["customer", "sequence"]
        verbose_name = _("toestemmingsgebeurtenis")
        verbose_name_plural = _("toestemmingsgebeurtenissen (grootboek)")
        constraints = [
            # One successor per event: concurrent writers cannot fork a chain.
            models.UniqueConstraint(fields=["customer", "sequence"], name="one_event_per_position"),
            models.CheckConstraint(
                condition=models.Q(action__in=Action.values), name="event_action_known"
            ),
            models.CheckConstraint(
                condition=models.Q(channel__in=Channel.values), name="event_channel_known"
            ),
            models.CheckConstraint(
                condition=about_a_purpose_or_not("action", purpose_less=PURPOSE_LESS_ACTIONS),
                name="event_shape",
            ),
            # A day of leaving exactly on `left` events.
            models.CheckConstraint(
                condition=models.Q(action=Action.LEFT, left_on__isnull=False)
                | (~models.Q(action=Action.LEFT) & models.Q(left_on__isnull=True)),
                name="event_left_on_only_when_left",
            ),
            models.CheckConstraint(condition=~models.Q(entry=""), name="event_has_entry"),
        ]
        indexes = [models.Index(fields=["customer", "purpose", "sequence"])]

    def __str__(self) -> str:
        return f"{self.customer_id}#{self.sequence} {self.purpose_id} {self.action}"

    def hash_payload(
        self, *, customer_number: str, purpose_code: str | None, version: int | None
    ) -> bytes:
        payload = {
            "key": self.hmac_key,
            "receipt_id": str(self.receipt_id),
            "customer": customer_number,
            "purpose": purpose_code,
            "version": version,
            "action": self.action,
            "occurred_at": self.occurred_at.astimezone(dt.UTC).isoformat(),
            "channel": self.channel,
            "actor": self.actor_id,
            "notice_language": self.notice_language,
            "notice_sha256": self.notice_sha256,
            "sequence": self.sequence,
            "previous_hash": self.previous_hash,
        }
        if self.left_on is not None:  # absent before `left` existed: old hashes stay valid
            payload["left_on"] = self.left_on.isoformat()
        return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()

    def compute_hash(
        self, *, key: bytes, customer_number: str, purpose_code: str | None, version: int | None
    ) -> str:
        payload = self.hash_payload(
            customer_number=customer_number, purpose_code=purpose_code, version=version
        )
        return hmac.new(key, payload, hashlib.sha256).hexdigest()


class RemovalReason(models.TextChoices):
    RETENTION = "retention", _("bewaartermijn verstreken")


@pgtrigger.register(
    pgtrigger.Protect(name="tombstones_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
)
class LedgerTombstone(models.Model):
    """A customer's consent chain, removed whole because its retention period ran out:
    what the removal took away, so that the verifier tells it apart from tampering.

    Written only by the owner's function `remove_consent_proof` (the runtime role may
    read this table, nothing more), in the transaction that removes the chain, after it
    checked the period again in SQL, counted from the customer's `left` event and never
    from a column. The tombstone keeps that event's log entry (`left_entry`, salt
    included) and its place in the log (`left_leaf`), so that the verifier proves the
    day of leaving against the signed Merkle tree, and the places of every leaf it
    removed (`leaves`): a leaf whose event is gone is accounted for exactly when a
    justified tombstone names it.

    What stays of the customer here is the customer number, the day they left and the
    chain's size and last hash: no choice, no time of any choice. The leaves themselves
    stay in the tree, but without their events and salts nobody can tell what they were.
    Tombstones written before leaving was a ledger event have no `left_entry`; the
    verifier checks those as they were checked then.
    """

    customer = models.ForeignKey(
        "consent.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("klant")
    )
    customer_number = models.CharField(_("klantnummer"), max_length=20)
    events = models.PositiveIntegerField(_("aantal gebeurtenissen"))
    last_sequence = models.PositiveIntegerField(_("laatste volgnummer"))
    last_hash = models.CharField(_("laatste hash"), max_length=64)
    reason = models.CharField(_("reden"), max_length=20, choices=RemovalReason.choices)
    # The day whose retention periods the removal applied, and when it happened.
    as_of = models.DateField(_("peildatum"))
    removed_at = models.DateTimeField(_("verwijderd op"))
    left_entry = models.TextField(_("logregel van het vertrek"), null=True, blank=True)
    left_leaf = models.BigIntegerField(_("plaats van het vertrek in de log"), null=True)
    leaves = ArrayField(
        models.BigIntegerField(), verbose_name=_("verwijderde plaatsen in de log"), null=True
    )

    class Meta:
        db_table = "consent_ledgertombstone"
        ordering = ["id"]
        verbose_name = _("verwijderde keten")
        verbose_name_plural = _("verwijderde ketens (bewaartermijn)")
        constraints = [
            models.UniqueConstraint(fields=["customer"], name="one_tombstone_per_customer"),
            models.CheckConstraint(
                condition=models.Q(reason__in=RemovalReason.values), name="tombstone_reason_known"
            ),
            models.CheckConstraint(
                # The chain goes whole: every event from 1 to the last one.
                condition=models.Q(events__gte=1, last_sequence=models.F("events")),
                name="tombstone_counts_events",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_number}: {self.events} event(s) removed ({self.reason})"


# --- The transparency log --------------------------------------------------------------------
# One append-only Merkle tree (RFC 9162) over every event, in the order the log took them
# in. Its leaves, the perfect subtrees above them and the signed checkpoints live here;
# `ledger.log` writes them and `ledger.proofs` reads them.


@pgtrigger.register(
    pgtrigger.Protect(name="log_leaves_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
)
class LogLeaf(models.Model):
    """Leaf `index` of the tree: the RFC 9162 leaf hash of an event's entry. It stays when
    retention removes the event (and so the entry and its salt): the tree never changes,
    and what remains of a removed event is a hash nobody can link to anyone."""

    index = models.BigIntegerField(_("plaats"), primary_key=True)
    hash = models.CharField(_("leaf-hash"), max_length=64)
    # The event's id, not a foreign key: the leaf outlives the event.
    event_id = models.BigIntegerField(_("gebeurtenis"), unique=True)
    # The database's clock when the log took the event in (a trigger sets it, whatever
    # the writer says): the earliest a removed event can be said to have been logged.
    sequenced_at = models.DateTimeField(_("opgenomen op"), db_default=Now())

    class Meta:
        db_table = "ledger_logleaf"
        ordering = ["index"]
        verbose_name = _("blad van de log")
        verbose_name_plural = _("bladeren van de log")
        constraints = [
            models.CheckConstraint(condition=models.Q(index__gte=0), name="leaf_index_from_zero"),
        ]

    def __str__(self) -> str:
        return f"leaf {self.index}"


@pgtrigger.register(
    pgtrigger.Protect(name="tree_nodes_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
)
class TreeNode(models.Model):
    """A perfect subtree of the log, stored once it is complete: node (level, index) is
    the hash of leaves [index * 2**level, (index + 1) * 2**level). With these, any proof
    reads a few dozen rows instead of every leaf. Level 0 is `LogLeaf` itself."""

    pk = models.CompositePrimaryKey("level", "index")
    level = models.PositiveSmallIntegerField(_("niveau"))
    index = models.BigIntegerField(_("plaats"))
    hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        db_table = "ledger_treenode"
        verbose_name = _("knoop van de log")
        verbose_name_plural = _("knopen van de log")
        constraints = [
            models.CheckConstraint(condition=models.Q(level__gte=1), name="node_above_leaves"),
        ]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


@pgtrigger.register(
    pgtrigger.Protect(name="checkpoints_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
)
class Checkpoint(models.Model):
    """A signed checkpoint of the log (C2SP tlog-checkpoint, a signed note): its origin,
    size and root hash, signed by the log's key on the checkpoint host and cosigned by
    the witnesses that found it consistent with what they saw before. `note` is the
    whole note, signature lines included: what receipts carry and `/ledger/checkpoint`
    publishes."""

    # Several checkpoints may share a size (nothing new was logged in between): the
    # witnesses cosign each again, which is how a verifier knows the log is still alive.
    size = models.BigIntegerField(_("grootte"))
    root = models.CharField(_("wortel-hash"), max_length=64)
    note = models.TextField(_("ondertekende notitie"))
    # The witnesses (by key name) whose cosignatures are in the note.
    cosigned_by = ArrayField(
        models.CharField(max_length=200), verbose_name=_("medeondertekend door"), default=list
    )
    created_at = models.DateTimeField(_("gemaakt op"), db_default=Now())

    class Meta:
        db_table = "ledger_checkpoint"
        ordering = ["size", "id"]
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")
        constraints = [
            models.CheckConstraint(condition=models.Q(size__gte=0), name="checkpoint_size"),
        ]

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


@pgtrigger.register(
    pgtrigger.Protect(name="restores_append_only", operation=pgtrigger.Update | pgtrigger.Delete)
)
class Restore(models.Model):
    """The database was restored from an older backup, and the log made whole again.

    The checkpoint host kept the log's leaves and every customer's newest place in their
    chain (`ledger.checkpoints.publish`); after the restore, the leaves the database lost
    are put back (their events are gone), so the tree stays the one the witnesses
    cosigned. This record says which checkpoint the database was reconciled with, which
    leaves lost their event and, per customer, which places in their chain were lost. The
    log's key signs it (`note`): the verifier accepts a lost leaf only when a signed
    restore names it, and lists the lost choices. It is a public admission, not a quiet
    repair: the customers concerned are told and choose again.
    """

    restored_at = models.DateTimeField(_("hersteld op"))
    backup_taken_at = models.DateTimeField(_("back-up van"), null=True, blank=True)
    database_size = models.BigIntegerField(_("bladeren in de herstelde database"))
    checkpoint_size = models.BigIntegerField(_("bladeren in het nieuwste checkpoint"))
    checkpoint_at = models.DateTimeField(_("tijd van het nieuwste checkpoint"))
    lost_leaves = ArrayField(models.BigIntegerField(), verbose_name=_("verloren plaatsen"))
    # [{"customer_number": "…", "from_sequence": n, "to_sequence": m}, …]
    lost = models.JSONField(_("verloren keuzes per klant"))
    note = models.TextField(_("ondertekende notitie"))

    class Meta:
        db_table = "ledger_restore"
        ordering = ["id"]
        verbose_name = _("herstel")
        verbose_name_plural = _("herstellingen")

    def __str__(self) -> str:
        return f"restore of {self.restored_at:%Y-%m-%d %H:%M}"
