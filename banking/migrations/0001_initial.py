"""The bank's records become an app of their own: products, accounts, products held and
transactions move here from `offers`.

Only Django's picture of the models moves (`SeparateDatabaseAndState`): the tables keep
their names (`offers_*`) and every row, the monthly partitions and the owner's functions
are untouched; the constraints and the index are the ones they had. The row trigger that
keeps accounts from being deleted is made again under this app's name (`offers` 0017 drops
the old one in the same `migrate`).
"""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("consent", "0012_immune_to_shadowing_and_deletes"),
        ("offers", "0016_run_supervisor_due_at"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Product",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("code", models.SlugField(max_length=40, unique=True, verbose_name="code")),
                        (
                            "name_nl",
                            models.CharField(max_length=120, verbose_name="naam (Nederlands)"),
                        ),
                        ("name_en", models.CharField(max_length=120, verbose_name="naam (Engels)")),
                        (
                            "facts_nl",
                            models.TextField(blank=True, verbose_name="kernpunten (Nederlands)"),
                        ),
                        (
                            "facts_en",
                            models.TextField(blank=True, verbose_name="kernpunten (Engels)"),
                        ),
                    ],
                    options={
                        "verbose_name": "product",
                        "verbose_name_plural": "producten",
                        "db_table": "offers_product",
                        "ordering": ["code"],
                    },
                ),
                migrations.CreateModel(
                    name="Account",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("iban", models.CharField(max_length=34, unique=True, verbose_name="IBAN")),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("checking", "betaalrekening"),
                                    ("savings", "spaarrekening"),
                                    ("student", "studentenrekening"),
                                ],
                                max_length=10,
                                verbose_name="soort",
                            ),
                        ),
                        (
                            "balance",
                            models.DecimalField(
                                decimal_places=2, max_digits=14, verbose_name="saldo"
                            ),
                        ),
                        (
                            "currency",
                            models.CharField(default="EUR", max_length=3, verbose_name="valuta"),
                        ),
                        (
                            "customer",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="accounts",
                                to="consent.customer",
                                verbose_name="klant",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "rekening",
                        "verbose_name_plural": "rekeningen",
                        "db_table": "offers_account",
                        "ordering": ["iban"],
                    },
                ),
                migrations.CreateModel(
                    name="Holding",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "customer",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="holdings",
                                to="consent.customer",
                                verbose_name="klant",
                            ),
                        ),
                        (
                            "product",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="banking.product",
                                verbose_name="product",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "productbezit",
                        "verbose_name_plural": "productbezit",
                        "db_table": "offers_holding",
                    },
                ),
                migrations.CreateModel(
                    name="Transaction",
                    fields=[
                        (
                            "pk",
                            models.CompositePrimaryKey(
                                "transaction_id",
                                "booked_at",
                                blank=True,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        (
                            "transaction_id",
                            models.CharField(
                                db_collation="C", max_length=64, verbose_name="transactie-id"
                            ),
                        ),
                        ("booked_at", models.DateTimeField(verbose_name="geboekt op")),
                        (
                            "amount",
                            models.DecimalField(
                                decimal_places=2, max_digits=14, verbose_name="bedrag"
                            ),
                        ),
                        ("currency", models.CharField(max_length=3, verbose_name="valuta")),
                        (
                            "counterparty_name",
                            models.CharField(
                                blank=True, max_length=200, verbose_name="naam tegenpartij"
                            ),
                        ),
                        (
                            "counterparty_iban",
                            models.CharField(
                                blank=True, max_length=34, verbose_name="IBAN tegenpartij"
                            ),
                        ),
                        (
                            "mcc",
                            models.CharField(
                                blank=True,
                                max_length=4,
                                null=True,
                                verbose_name="soort winkel (MCC)",
                            ),
                        ),
                        ("country", models.CharField(max_length=2, verbose_name="land")),
                        (
                            "description",
                            models.CharField(
                                blank=True, max_length=500, verbose_name="omschrijving"
                            ),
                        ),
                        (
                            "account",
                            models.ForeignKey(
                                db_constraint=False,
                                db_index=False,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="transactions",
                                to="banking.account",
                                verbose_name="rekening",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "transactie",
                        "verbose_name_plural": "transacties",
                        "db_table": "offers_transaction",
                    },
                ),
                migrations.AddConstraint(
                    model_name="account",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("kind__in", ["checking", "savings", "student"])),
                        name="account_kind_known",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="account",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("iban__regex", "^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")),
                        name="account_iban_shape",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="account",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("currency__regex", "^[A-Z]{3}$")),
                        name="account_currency_code",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="holding",
                    constraint=models.UniqueConstraint(
                        fields=("customer", "product"), name="one_holding_per_product"
                    ),
                ),
                migrations.AddIndex(
                    model_name="transaction",
                    index=models.Index(
                        fields=["account", "booked_at"], name="transaction_by_account"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="transaction",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("mcc__isnull", True), ("mcc__regex", "^[0-9]{4}$"), _connector="OR"
                        ),
                        name="transaction_mcc_four_digits",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="transaction",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("country__regex", "^[A-Z]{2}$")),
                        name="transaction_country_code",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="transaction",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("currency__regex", "^[A-Z]{3}$")),
                        name="transaction_currency_code",
                    ),
                ),
            ],
            database_operations=[],
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="account",
            trigger=pgtrigger.compiler.Trigger(
                name="accounts_are_never_deleted",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot delete rows from % table', TG_TABLE_NAME;",
                    hash="9ef3926ae987a965b159ff3f39ebf1b7b4566e96",
                    operation="DELETE",
                    pgid="pgtrigger_accounts_are_never_deleted_15263",
                    table="offers_account",
                    when="BEFORE",
                ),
            ),
        ),
    ]
