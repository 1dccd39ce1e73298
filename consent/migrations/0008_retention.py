"""Retention and erasure (issue #14).

- Customers get `closed_on` (the relationship ended), `phone` and `pseudonymised_on`;
  the date of birth may be empty once the profile is pseudonymised. `closed_on` is set
  once, never in the future, never before a choice the customer made themselves (a
  trigger no session setting switches off).
- Notices get machine-readable `retention_rules` and a `notice_format`: the versions
  published so far keep format 1 (their text, and so every stored hash, is unchanged)
  and get the rules their retention sentences state (`RETENTION_RULES` below).
- The ledger gets `erasure_requested` (no purpose, like the objection); the state still
  mirrors the latest event per purpose leaving erasure requests out.
- `LedgerTombstone`: what retention removed of a chain; only the owner's function writes
  it. The retention clock and `remove_consent_proof`, the owner's function that removes a
  customer's chain once the period the notices state has run out, checked in SQL.
"""

import contextlib

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models

from infra.dbroles import RETENTION_TIME_ZONE, OwnerFunction, OwnerWritesOnly, RetentionClock

TZ = RETENTION_TIME_ZONE


# Frozen: what each purpose's retention sentence says, as rules (the catalogue as it was
# when this migration was written). Payments keep account data for the tax
# record-keeping obligation (7 years, counted by the bank from the end of the
# relationship); fraud detection keeps transactions 5 years (Wwft art. 33). The
# consent-based purposes keep offers and the data-use log 1 year, and the proof of the
# customer's choices 5 years after the relationship ends.
_AS_LONG_AS_A_CUSTOMER_7_YEARS = [
    {"data": "transactions", "years": 7, "from": "relationship_end", "because": "tax"},
    {"data": "accounts", "years": 7, "from": "relationship_end", "because": "tax"},
    {"data": "profile", "years": 7, "from": "relationship_end", "because": "tax"},
]
_OFFERS_1_YEAR = [
    {"data": "offers", "years": 1, "from": "offer_closed"},
    {"data": "data_use", "years": 1, "from": "read"},
    {"data": "consent_proof", "years": 5, "from": "relationship_end", "because": "claims"},
]
RETENTION_RULES = {
    "payments": _AS_LONG_AS_A_CUSTOMER_7_YEARS,
    "fraud_prevention": [
        {"data": "transactions", "years": 5, "from": "transaction", "because": "wwft"}
    ],
    "offers_spending": _OFFERS_1_YEAR,
    "offers_income": _OFFERS_1_YEAR,
    "offers_balance": _OFFERS_1_YEAR,
}


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


def rules_for_published_versions(apps, schema_editor):
    """The versions published so far state their periods in words only: write down the
    same periods as rules. Their layout stays format 1, so their texts and hashes do not
    change."""
    PurposeVersion = apps.get_model("consent", "PurposeVersion")
    with triggers_ignored(schema_editor, "pgtrigger_published_versions_are_immutable_2907f"):
        for version in PurposeVersion.objects.select_related("purpose"):
            version.retention_rules = RETENTION_RULES.get(version.purpose.code, [])
            version.notice_format = 1
            version.save(update_fields=["retention_rules", "notice_format"])


# 0005's trigger, with one change: an erasure request (no purpose, like the objection)
# is no choice, so it never displaces the objection as "the latest event" of the
# customer's purpose-less row.
STATE_MIRRORS_LEDGER = """
CREATE OR REPLACE FUNCTION consent_state_mirrors_ledger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM consent_consentevent e
         WHERE e.id = NEW.event_id
           AND e.customer_id = NEW.customer_id
           AND e.purpose_id IS NOT DISTINCT FROM NEW.purpose_id
           AND e.action = NEW.state
           AND e.action <> 'erasure_requested'
           AND e.purpose_version_id IS NOT DISTINCT FROM NEW.purpose_version_id
           AND e.occurred_at = NEW.changed_at
           AND NOT EXISTS (
               SELECT 1 FROM consent_consentevent later
                WHERE later.customer_id = e.customer_id
                  AND later.purpose_id IS NOT DISTINCT FROM e.purpose_id
                  AND later.action <> 'erasure_requested'
                  AND later.sequence > e.sequence)
    ) THEN
        RAISE EXCEPTION 'consent state of customer % must mirror the latest ledger event',
            NEW.customer_id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
"""
STATE_MIRRORS_LEDGER_BEFORE = """
CREATE OR REPLACE FUNCTION consent_state_mirrors_ledger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM consent_consentevent e
         WHERE e.id = NEW.event_id
           AND e.customer_id = NEW.customer_id
           AND e.purpose_id IS NOT DISTINCT FROM NEW.purpose_id
           AND e.action = NEW.state
           AND e.purpose_version_id IS NOT DISTINCT FROM NEW.purpose_version_id
           AND e.occurred_at = NEW.changed_at
           AND NOT EXISTS (
               SELECT 1 FROM consent_consentevent later
                WHERE later.customer_id = e.customer_id
                  AND later.purpose_id IS NOT DISTINCT FROM e.purpose_id
                  AND later.sequence > e.sequence)
    ) THEN
        RAISE EXCEPTION 'consent state of customer % must mirror the latest ledger event',
            NEW.customer_id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
"""

# Leaving is a fact with a date: set once, not in the future (the database's date), and
# not before a choice the customer made themselves (so nobody can backdate a departure
# to make a chain look old enough to remove). Not a pgtrigger trigger: no session
# setting switches it off.
CLOSED_ON_IS_SET_ONCE = f"""
CREATE FUNCTION consent_customer_closed_on() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.closed_on IS NOT NULL
       AND NEW.closed_on IS DISTINCT FROM OLD.closed_on THEN
        RAISE EXCEPTION 'customer % left on %; that date cannot change',
            OLD.customer_number, OLD.closed_on USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.closed_on IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.closed_on IS NULL) THEN
        IF NEW.closed_on > retention_today() THEN
            RAISE EXCEPTION 'customer % cannot leave on % (in the future)',
                NEW.customer_number, NEW.closed_on
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF EXISTS (SELECT FROM consent_consentevent e
                    WHERE e.customer_id = NEW.id AND e.channel <> 'system'
                      AND (e.occurred_at AT TIME ZONE '{TZ}')::date > NEW.closed_on) THEN
            RAISE EXCEPTION 'customer % made a choice after %, so did not leave then',
                NEW.customer_number, NEW.closed_on
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER consent_customer_closed_on
    BEFORE INSERT OR UPDATE OF closed_on ON consent_customer
    FOR EACH ROW EXECUTE FUNCTION consent_customer_closed_on();
"""
DROP_CLOSED_ON_IS_SET_ONCE = """
DROP TRIGGER IF EXISTS consent_customer_closed_on ON consent_customer;
DROP FUNCTION IF EXISTS consent_customer_closed_on();
"""

# The longest period the notices in effect on `p_on` state for a kind of data counted
# from an anchor (NULL: none states one). The SQL twin of `consent.retention.periods`.
RETENTION_YEARS = f"""
CREATE FUNCTION retention_years(p_kind text, p_anchor text, p_on date) RETURNS integer
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT max((rule ->> 'years')::integer)
      FROM (SELECT DISTINCT ON (purpose_id) retention_rules
              FROM consent_purposeversion
             WHERE published_at < ((p_on + 1)::timestamp AT TIME ZONE '{TZ}')
             ORDER BY purpose_id, version DESC) v,
           jsonb_array_elements(v.retention_rules) rule
     WHERE rule ->> 'data' = p_kind AND rule ->> 'from' = p_anchor
$$;
"""
DROP_RETENTION_YEARS = "DROP FUNCTION IF EXISTS retention_years(text, text, date);"

# A customer's whole chain, once the proof-of-consent period after the relationship's end
# has run out on the database's date (or on `p_as_of`, if earlier): the state, the staff
# notes, the events; and a tombstone with what the signed checkpoints knew of the chain.
# Returns the number of events removed (0 when there were none, so a rerun is a no-op).
# Raises when the period has not run out: the runtime role cannot erase early.
REMOVE_CONSENT_PROOF = """
DECLARE
    v_today date := least(p_as_of, retention_today());
    v_years integer := retention_years('consent_proof', 'relationship_end', v_today);
    v_customer consent_customer%ROWTYPE;
    v_events integer;
    v_last integer;
    v_hash text;
    v_previous text;
BEGIN
    IF v_years IS NULL THEN
        RAISE EXCEPTION 'no notice in effect on % says how long the proof of consent is kept',
            v_today USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO v_customer FROM consent_customer WHERE id = p_customer FOR UPDATE;
    IF NOT FOUND OR v_customer.closed_on IS NULL
       OR (v_customer.closed_on + make_interval(years => v_years))::date > v_today THEN
        RAISE EXCEPTION 'the proof of consent of customer % is not past its retention period',
            p_customer USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT count(*), max(sequence) INTO v_events, v_last
      FROM consent_consentevent WHERE customer_id = p_customer;
    IF v_events = 0 THEN
        RETURN 0;
    END IF;
    SELECT hash INTO v_hash FROM consent_consentevent
     WHERE customer_id = p_customer AND sequence = v_last;
    v_previous := retention_ignore_row_triggers(
        ARRAY['consent_consentevent', 'consent_staffaction']::regclass[]);
    DELETE FROM consent_staffaction
     WHERE event_id IN (SELECT id FROM consent_consentevent WHERE customer_id = p_customer);
    DELETE FROM consent_consentstate WHERE customer_id = p_customer;
    DELETE FROM consent_consentevent WHERE customer_id = p_customer;
    PERFORM retention_restore_row_triggers(v_previous);
    INSERT INTO consent_ledgertombstone (customer_id, customer_number, events, last_sequence,
                                         last_hash, reason, as_of, removed_at)
    VALUES (p_customer, v_customer.customer_number, v_events, v_last, v_hash, 'retention',
            v_today, now());
    RETURN v_events;
END
"""


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0007_staff_actions_and_dutch_names"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="LedgerTombstone",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("customer_number", models.CharField(max_length=20, verbose_name="klantnummer")),
                ("events", models.PositiveIntegerField(verbose_name="aantal gebeurtenissen")),
                ("last_sequence", models.PositiveIntegerField(verbose_name="laatste volgnummer")),
                ("last_hash", models.CharField(max_length=64, verbose_name="laatste hash")),
                (
                    "reason",
                    models.CharField(
                        choices=[("retention", "bewaartermijn verstreken")],
                        max_length=20,
                        verbose_name="reden",
                    ),
                ),
                ("as_of", models.DateField(verbose_name="peildatum")),
                ("removed_at", models.DateTimeField(verbose_name="verwijderd op")),
            ],
            options={
                "verbose_name": "verwijderde keten",
                "verbose_name_plural": "verwijderde ketens (bewaartermijn)",
                "ordering": ["id"],
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
            model_name="customer",
            name="closed_on",
            field=models.DateField(blank=True, null=True, verbose_name="klant af op"),
        ),
        migrations.AddField(
            model_name="customer",
            name="phone",
            field=models.CharField(
                blank=True, db_default="", max_length=20, verbose_name="telefoonnummer"
            ),
        ),
        migrations.AddField(
            model_name="customer",
            name="pseudonymised_on",
            field=models.DateField(blank=True, null=True, verbose_name="gepseudonimiseerd op"),
        ),
        # Format 1 for every version published so far; new ones get format 2 (below).
        migrations.AddField(
            model_name="purposeversion",
            name="notice_format",
            field=models.PositiveSmallIntegerField(default=1, verbose_name="opmaak van de tekst"),
        ),
        migrations.AlterField(
            model_name="purposeversion",
            name="notice_format",
            field=models.PositiveSmallIntegerField(default=2, verbose_name="opmaak van de tekst"),
        ),
        migrations.AddField(
            model_name="purposeversion",
            name="retention_rules",
            field=models.JSONField(default=list, verbose_name="bewaarregels"),
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
                ],
                max_length=20,
                verbose_name="keuze",
            ),
        ),
        migrations.AlterField(
            model_name="consentstate",
            name="state",
            field=models.CharField(
                choices=[
                    ("granted", "toestemming gegeven"),
                    ("withdrawn", "toestemming ingetrokken"),
                    ("objected", "bezwaar tegen direct marketing"),
                    ("objection_lifted", "bezwaar opgeheven"),
                    ("erasure_requested", "verwijdering gevraagd"),
                ],
                max_length=20,
                verbose_name="stand",
            ),
        ),
        migrations.AlterField(
            model_name="customer",
            name="birth_date",
            field=models.DateField(blank=True, null=True, verbose_name="geboortedatum"),
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
                        ("action__in", ["objected", "objection_lifted", "erasure_requested"]),
                        ("purpose__isnull", True),
                        ("purpose_version__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="event_shape",
            ),
        ),
        migrations.AddConstraint(
            model_name="customer",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("birth_date__isnull", False), ("pseudonymised_on__isnull", True)),
                    models.Q(
                        ("birth_date__isnull", True),
                        ("closed_on__isnull", False),
                        ("email", ""),
                        ("first_name", ""),
                        ("last_name", ""),
                        ("phone", ""),
                        ("pseudonymised_on__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="customer_pseudonymised_is_empty",
            ),
        ),
        migrations.AddConstraint(
            model_name="purposeversion",
            constraint=models.CheckConstraint(
                condition=models.Q(("notice_format__in", (1, 2))), name="notice_format_known"
            ),
        ),
        migrations.AddField(
            model_name="ledgertombstone",
            name="customer",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="consent.customer",
                verbose_name="klant",
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgertombstone",
            constraint=models.UniqueConstraint(
                fields=("customer",), name="one_tombstone_per_customer"
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgertombstone",
            constraint=models.CheckConstraint(
                condition=models.Q(("reason__in", ["retention"])), name="tombstone_reason_known"
            ),
        ),
        migrations.AddConstraint(
            model_name="ledgertombstone",
            constraint=models.CheckConstraint(
                condition=models.Q(("events__gte", 1), ("last_sequence", models.F("events"))),
                name="tombstone_counts_events",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="ledgertombstone",
            trigger=pgtrigger.compiler.Trigger(
                name="tombstones_append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="274e6def3d95b1d221d0c0fec114dbdcb14f7761",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_tombstones_append_only_4652c",
                    table="consent_ledgertombstone",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.RunPython(rules_for_published_versions, migrations.RunPython.noop),
        migrations.RunSQL(STATE_MIRRORS_LEDGER, STATE_MIRRORS_LEDGER_BEFORE),
        OwnerWritesOnly("LedgerTombstone"),
        RetentionClock(),
        migrations.RunSQL(CLOSED_ON_IS_SET_ONCE, DROP_CLOSED_ON_IS_SET_ONCE),
        migrations.RunSQL(RETENTION_YEARS, DROP_RETENTION_YEARS),
        OwnerFunction(
            "remove_consent_proof",
            "p_customer bigint, p_as_of date",
            "integer",
            REMOVE_CONSENT_PROOF,
        ),
    ]
