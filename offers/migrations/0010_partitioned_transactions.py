"""Transactions partitioned by booking month (issue #13).

The table becomes a partitioned table keyed by (transaction_id, booked_at), with one
partition per calendar month in Amsterdam: the months of 2025 to 2027 now, later ones
on demand by `import_transactions`, through owner functions (infra/dbroles.py,
`MonthlyPartitions`). Rows already stored move into their months. The bulk load no
longer drops and rebuilds the index of the whole table: it loads months as fresh tables,
so the two index rebuild functions go.
"""

from django.conf import settings
from django.db import migrations, models

from infra.dbroles import ForbidIndexRebuild, MonthlyPartitions

INITIAL_MONTHS = ("2025-01-01", "2027-12-01")
LIKE_INDEX = "offers_transaction_transaction_id_6a20d05f_like"

PARTITIONED_TABLE = [
    "ALTER TABLE offers_transaction RENAME TO offers_transaction_unpartitioned",
    "ALTER TABLE offers_transaction_unpartitioned"
    " RENAME CONSTRAINT offers_transaction_pkey TO offers_transaction_unpartitioned_pkey",
    "ALTER INDEX transaction_by_account RENAME TO transaction_by_account_unpartitioned",
    "CREATE TABLE offers_transaction (LIKE offers_transaction_unpartitioned"
    " INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (booked_at)",
    'ALTER TABLE offers_transaction ALTER COLUMN transaction_id TYPE varchar(64) COLLATE "C"',
    "ALTER TABLE offers_transaction"
    " ADD CONSTRAINT offers_transaction_pkey PRIMARY KEY (transaction_id, booked_at)",
    "CREATE INDEX transaction_by_account ON offers_transaction (account_id, booked_at)",
]
UNPARTITIONED_TABLE = [
    "DROP TABLE offers_transaction",
    "ALTER TABLE offers_transaction_unpartitioned RENAME TO offers_transaction",
    'ALTER TABLE offers_transaction ALTER COLUMN transaction_id TYPE varchar(64) COLLATE "default"',
    "ALTER TABLE offers_transaction"
    " ADD CONSTRAINT offers_transaction_pkey PRIMARY KEY (transaction_id)",
    "CREATE INDEX transaction_by_account ON offers_transaction (account_id, booked_at)",
    f"CREATE INDEX {LIKE_INDEX} ON offers_transaction (transaction_id varchar_pattern_ops)",
]
ROWS_INTO_MONTHS = [
    """
    DO $$
    DECLARE month date;
    BEGIN
        FOR month IN
            SELECT generate_series(date '{}', date '{}', interval '1 month')::date
            UNION
            SELECT DISTINCT offers_transaction_month_of(booked_at)
              FROM offers_transaction_unpartitioned
        LOOP
            PERFORM ensure_offers_transaction_partition(month);
        END LOOP;
    END
    $$
    """.format(*INITIAL_MONTHS),
    "INSERT INTO offers_transaction SELECT * FROM offers_transaction_unpartitioned",
    "DROP TABLE offers_transaction_unpartitioned",
]
ROWS_BACK = [
    "CREATE TABLE offers_transaction_unpartitioned (LIKE offers_transaction"
    " INCLUDING DEFAULTS INCLUDING CONSTRAINTS)",
    "INSERT INTO offers_transaction_unpartitioned SELECT * FROM offers_transaction",
]


class Migration(migrations.Migration):
    dependencies = [("offers", "0009_klantenservice_group")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="transaction",
                    name="pk",
                    field=models.CompositePrimaryKey(
                        "transaction_id",
                        "booked_at",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                migrations.AlterField(
                    model_name="transaction",
                    name="transaction_id",
                    field=models.CharField(
                        db_collation="C", max_length=64, verbose_name="transactie-id"
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(PARTITIONED_TABLE, reverse_sql=UNPARTITIONED_TABLE)
            ],
        ),
        ForbidIndexRebuild("Transaction"),
        MonthlyPartitions("Transaction", column="booked_at", time_zone=settings.TIME_ZONE),
        migrations.RunSQL(ROWS_INTO_MONTHS, reverse_sql=ROWS_BACK),
    ]
