"""The transparency log: one append-only Merkle tree (RFC 9162) over every event.

- Every event gets its `entry`: the RFC 8785 JSON of its fields, its HMAC and a random
  salt, which is what the log's leaf hashes (existing events get theirs here, each with
  a fresh salt; their HMACs do not change).
- `left` (the customer relationship ended, with its day `left_on`) becomes an action.
- The log's leaves, its stored perfect subtrees and its signed checkpoints: append-only
  for everyone, and for the runtime role only SELECT and INSERT. A leaf's place follows
  the one before it without gaps and its time is the database's clock (the one retention
  counts with), whatever the writer says (a trigger).
- Tombstones keep the `left` event's entry and place, and the places of the leaves the
  removal took away.
"""

import contextlib
import datetime as dt
import json
import secrets

import django.contrib.postgres.fields
import django.db.models.functions.datetime
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models

from infra.dbroles import AppendOnly

# The leaf after the last one, and the database's clock: whatever the writer sent.
LEAVES_IN_ORDER = """
CREATE FUNCTION ledger_leaf_in_order() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE v_next bigint;
BEGIN
    -- One writer at a time: the log's own lock (ledger.log takes it too).
    PERFORM pg_advisory_xact_lock(hashtext('ledger.log'));
    SELECT coalesce(max(index) + 1, 0) INTO v_next FROM public.ledger_logleaf;
    IF NEW.index <> v_next THEN
        RAISE EXCEPTION 'leaf % out of order: the next leaf of the log is %', NEW.index, v_next
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    -- The database's clock; where the owner set a date for retention (retention_clock:
    -- rehearsals and tests, never production), noon of that day in Amsterdam.
    NEW.sequenced_at := coalesce(
        (SELECT (max(today) + time '12:00') AT TIME ZONE 'Europe/Amsterdam'
           FROM public.retention_clock),
        clock_timestamp());
    RETURN NEW;
END $$;

REVOKE ALL ON FUNCTION ledger_leaf_in_order() FROM PUBLIC;
CREATE TRIGGER ledger_leaf_in_order BEFORE INSERT ON public.ledger_logleaf
    FOR EACH ROW EXECUTE FUNCTION ledger_leaf_in_order();
"""
DROP_LEAVES_IN_ORDER = """
DROP TRIGGER IF EXISTS ledger_leaf_in_order ON public.ledger_logleaf;
DROP FUNCTION IF EXISTS ledger_leaf_in_order();
"""


def canonical(value):
    """RFC 8785 JSON for what an entry holds (ASCII keys; strings, integers, null):
    sorted keys, no whitespace, non-ASCII as UTF-8, JSON's own escapes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@contextlib.contextmanager
def triggers_ignored(schema_editor, *names):
    """`pgtrigger.ignore`, with the triggers named as the database had them at this
    migration (`pgtrigger.ignore` would look them up in today's models)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + ",".join(names) + "}"]
        )
    try:
        yield
    finally:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT set_config('pgtrigger.ignore', '{}', true)")


def give_every_event_its_entry(apps, schema_editor):
    """The entry of each existing event, as `ledger.chain.entry_of` made it when this
    migration was written."""
    ConsentEvent = apps.get_model("ledger", "ConsentEvent")
    events = ConsentEvent.objects.filter(entry="").select_related(
        "customer", "purpose", "purpose_version"
    )
    # The append-only trigger as ledger 0001 named it.
    with triggers_ignored(schema_editor, "pgtrigger_append_only_1c579"):
        for event in events.iterator(chunk_size=2000):
            entry = {
                "format": 1,
                "receipt_id": str(event.receipt_id),
                "customer": event.customer.customer_number,
                "purpose": event.purpose.code if event.purpose else None,
                "version": event.purpose_version.version if event.purpose_version else None,
                "action": event.action,
                "occurred_at": event.occurred_at.astimezone(dt.UTC).isoformat(),
                "channel": event.channel,
                "actor": event.actor_id,
                "notice_language": event.notice_language,
                "notice_sha256": event.notice_sha256,
                "sequence": event.sequence,
                "previous_hash": event.previous_hash,
                "hash": event.hash,
                "key": event.hmac_key,
                "left_on": None,
                "salt": secrets.token_hex(32),
            }
            ConsentEvent.objects.filter(pk=event.pk).update(entry=canonical(entry))


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0001_initial"),
        # After consent dropped the row triggers made under its old names: the entries are
        # written into existing rows, which only this app's trigger (ignored) may allow.
        ("consent", "0009_ledger_moved_out"),
    ]

    operations = [
        migrations.CreateModel(
            name="Checkpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("size", models.BigIntegerField(verbose_name="grootte")),
                ("root", models.CharField(max_length=64, verbose_name="wortel-hash")),
                ("note", models.TextField(verbose_name="ondertekende notitie")),
                (
                    "cosigned_by",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(max_length=200),
                        default=list,
                        verbose_name="medeondertekend door",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(),
                        verbose_name="gemaakt op",
                    ),
                ),
            ],
            options={
                "verbose_name": "checkpoint",
                "verbose_name_plural": "checkpoints",
                "db_table": "ledger_checkpoint",
                "ordering": ["size", "id"],
            },
        ),
        migrations.CreateModel(
            name="LogLeaf",
            fields=[
                (
                    "index",
                    models.BigIntegerField(
                        primary_key=True, serialize=False, verbose_name="plaats"
                    ),
                ),
                ("hash", models.CharField(max_length=64, verbose_name="leaf-hash")),
                ("event_id", models.BigIntegerField(unique=True, verbose_name="gebeurtenis")),
                (
                    "sequenced_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(),
                        verbose_name="opgenomen op",
                    ),
                ),
            ],
            options={
                "verbose_name": "blad van de log",
                "verbose_name_plural": "bladeren van de log",
                "db_table": "ledger_logleaf",
                "ordering": ["index"],
            },
        ),
        migrations.CreateModel(
            name="TreeNode",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "level",
                        "index",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("level", models.PositiveSmallIntegerField(verbose_name="niveau")),
                ("index", models.BigIntegerField(verbose_name="plaats")),
                ("hash", models.CharField(max_length=64, verbose_name="hash")),
            ],
            options={
                "verbose_name": "knoop van de log",
                "verbose_name_plural": "knopen van de log",
                "db_table": "ledger_treenode",
            },
        ),
        migrations.RemoveConstraint(
            model_name="consentevent",
            name="event_action_known",
        ),
        migrations.RemoveConstraint(
            model_name="consentevent",
            name="event_shape",
        ),
        migrations.AddField(
            model_name="consentevent",
            name="entry",
            field=models.TextField(default="", verbose_name="logregel"),
            preserve_default=False,
        ),
        migrations.RunPython(give_every_event_its_entry, migrations.RunPython.noop),
        migrations.AddField(
            model_name="consentevent",
            name="left_on",
            field=models.DateField(blank=True, null=True, verbose_name="vertrokken op"),
        ),
        migrations.AddField(
            model_name="ledgertombstone",
            name="leaves",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.BigIntegerField(),
                null=True,
                verbose_name="verwijderde plaatsen in de log",
            ),
        ),
        migrations.AddField(
            model_name="ledgertombstone",
            name="left_entry",
            field=models.TextField(blank=True, null=True, verbose_name="logregel van het vertrek"),
        ),
        migrations.AddField(
            model_name="ledgertombstone",
            name="left_leaf",
            field=models.BigIntegerField(
                null=True, verbose_name="plaats van het vertrek in de log"
            ),
        ),
        migrations.AlterField(
            model_name="consentevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("granted", "toestemming gegeven"),
                    ("withdrawn", "toestemming ingetrokken"),
                    ("objected", "bezwaar tegen direct marketing"),
                    ("objection_lifted", "bezwaar opgeheven"),
                    ("erasure_requested", "verwijdering gevraagd"),
                    ("left", "klant vertrokken"),
                ],
                max_length=20,
                verbose_name="keuze",
            ),
        ),
        migrations.AddConstraint(
            model_name="consentevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "action__in",
                        [
                            "granted",
                            "withdrawn",
                            "objected",
                            "objection_lifted",
                            "erasure_requested",
                            "left",
                        ],
                    )
                ),
                name="event_action_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="consentevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("action__in", ["granted", "withdrawn"]),
                        ("purpose__isnull", False),
                        ("purpose_version__isnull", False),
                    ),
                    models.Q(
                        (
                            "action__in",
                            ["objected", "objection_lifted", "erasure_requested", "left"],
                        ),
                        ("purpose__isnull", True),
                        ("purpose_version__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="event_shape",
            ),
        ),
        migrations.AddConstraint(
            model_name="consentevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("action", "left"), ("left_on__isnull", False)),
                    models.Q(
                        models.Q(("action", "left"), _negated=True), ("left_on__isnull", True)
                    ),
                    _connector="OR",
                ),
                name="event_left_on_only_when_left",
            ),
        ),
        migrations.AddConstraint(
            model_name="consentevent",
            constraint=models.CheckConstraint(
                condition=models.Q(("entry", ""), _negated=True), name="event_has_entry"
            ),
        ),
        migrations.AddConstraint(
            model_name="checkpoint",
            constraint=models.CheckConstraint(
                condition=models.Q(("size__gte", 0)), name="checkpoint_size"
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="checkpoint",
            trigger=pgtrigger.compiler.Trigger(
                name="checkpoints_append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="2843d64a2e9858cacd71a5229047e66e02553985",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_checkpoints_append_only_c7ce0",
                    table="ledger_checkpoint",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="logleaf",
            constraint=models.CheckConstraint(
                condition=models.Q(("index__gte", 0)), name="leaf_index_from_zero"
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="logleaf",
            trigger=pgtrigger.compiler.Trigger(
                name="log_leaves_append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="c146eefa023fc80f8db59eab17c2725266739580",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_log_leaves_append_only_82dce",
                    table="ledger_logleaf",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="treenode",
            constraint=models.CheckConstraint(
                condition=models.Q(("level__gte", 1)), name="node_above_leaves"
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="treenode",
            trigger=pgtrigger.compiler.Trigger(
                name="tree_nodes_append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="66613263854a17e34a39c743141d321922a05d7f",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_tree_nodes_append_only_98321",
                    table="ledger_treenode",
                    when="BEFORE",
                ),
            ),
        ),
        AppendOnly("LogLeaf"),
        AppendOnly("TreeNode"),
        AppendOnly("Checkpoint"),
        migrations.RunSQL(LEAVES_IN_ORDER, DROP_LEAVES_IN_ORDER),
    ]
